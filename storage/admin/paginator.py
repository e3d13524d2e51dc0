"""Counting a big table's list costs more than showing a page of it (design.md §3)."""

from functools import cached_property

from django.core.paginator import Paginator

from storage import selectors


class EstimatedCountPaginator(Paginator):
    """Counts exactly only when the planner expects few rows; above that, uses its estimate.

    `estimated` tells the pagination template to say "about N".
    """

    exact_below = 10_000
    estimated = False

    @cached_property
    def count(self) -> int:
        estimate = selectors.estimated_count(queryset=self.object_list)
        if estimate >= self.exact_below:
            self.estimated = True
            return estimate
        return self.object_list.count()

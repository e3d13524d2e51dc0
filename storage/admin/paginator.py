"""Counting a big table's list costs more than showing a page of it.

On tens of millions of rows the paginator's `COUNT(*)` is nearly all of a list
page's time, while the planner's estimate costs one `EXPLAIN`.
"""

from functools import cached_property

from django.core.paginator import Paginator

from storage.rows import estimated_count


class EstimatedCountPaginator(Paginator):
    """Counts exactly only when the planner expects few rows; above that, uses its estimate.

    The exact count stops at `exact_below` rows, so stale statistics that
    underestimate a list never turn into a full count. `estimated` tells the
    pagination template to say "about N".
    """

    exact_below = 10_000
    estimated = False

    @cached_property
    def count(self) -> int:
        estimate = estimated_count(queryset=self.object_list)
        if estimate < self.exact_below:
            # Without the ordering: sorting every row only to count them is what PostgreSQL
            # would do otherwise, where the count alone reads just an index.
            counted = self.object_list.order_by()[: self.exact_below].count()
            if counted < self.exact_below:
                return counted
        self.estimated = True
        return max(estimate, self.exact_below)

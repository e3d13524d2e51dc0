"""Counting a big table's list costs more than showing a page of it, and so does a deep page.

On tens of millions of rows the paginator's `COUNT(*)` is nearly all of a list
page's time, while the planner's estimate costs one `EXPLAIN` (the same statement counts
exactly when the estimate is small). A deep page found
by `OFFSET` fetches every row before it; `seek_page` finds where it starts from the
index alone.
"""

from functools import cached_property

from django.core.paginator import Paginator

from storage.rows import list_count, seek_page


class EstimatedCountPaginator(Paginator):
    """Counts exactly only when the planner expects few rows; above that, uses its estimate.

    The exact count stops at `exact_below` rows, so stale statistics that
    underestimate a list never turn into a full count. `estimated` tells the
    pagination template to say "about N". Pages that start `seek_from` rows or more
    into the list are found by `seek_page`.
    """

    exact_below = 10_000
    seek_from = 1_000
    estimated = False

    @cached_property
    def count(self) -> int:
        estimate, counted = list_count(queryset=self.object_list, exact_below=self.exact_below)
        if counted is not None and counted < self.exact_below:
            return counted
        self.estimated = True
        return max(estimate, self.exact_below)

    def page(self, number):
        number = self.validate_number(number)
        offset = (number - 1) * self.per_page
        if offset >= self.seek_from:
            rows = seek_page(queryset=self.object_list, offset=offset, limit=self.per_page)
            if rows is not None:
                return self._get_page(rows, number, self)
        return super().page(number)

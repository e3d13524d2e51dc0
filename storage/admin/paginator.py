"""Counting a big table's list costs more than showing a page of it, and so does a deep page.

On tens of millions of rows the paginator's `COUNT(*)` is nearly all of a list
page's time, while the planner's estimate costs one `EXPLAIN` (the same statement counts
exactly when the count is cheap). A deep page found
by `OFFSET` fetches every row before it; `seek_page` finds where it starts from the
index alone.
"""

from functools import cached_property

from django.core.paginator import Paginator

from storage.rows import list_count, seek_page


class EstimatedCountPaginator(Paginator):
    """Counts exactly only when the planner expects few rows, found cheaply; else estimates.

    The exact count stops at `exact_below` rows, so stale statistics that
    underestimate a list never turn into a full count. Nor is a list counted whose count
    the planner prices at `exact_cost_below` or more (a filter no index serves, whose few
    matches are spread over a whole tenant's rows): the page itself stops at its last row.
    `estimated` tells the pagination template to say "about N"; `settle` corrects the
    estimate by the rows a page showed. Pages that start `seek_from` rows or more into the
    list are found by `seek_page`.
    """

    exact_below = 10_000
    # In the planner's cost units: 10-25 ms of reading on the benchmark's machine.
    exact_cost_below = 10_000.0
    seek_from = 1_000
    estimated = False

    @cached_property
    def count(self) -> int:
        estimate, counted = list_count(
            queryset=self.object_list,
            exact_below=self.exact_below,
            exact_cost_below=self.exact_cost_below,
        )
        if counted is not None and counted < self.exact_below:
            return counted
        self.estimated = True
        return estimate if counted is None else max(estimate, counted)

    def settle(self, *, number: int, shown: int) -> None:
        """What page `number`, read and showing `shown` rows, tells of an estimated count: the
        list ends on it when it shows fewer than a page (so its count is exact), and goes on
        past it when it is full."""
        offset = (number - 1) * self.per_page
        if shown < self.per_page and (shown or number == 1):
            self.estimated = False
            self.count = offset + shown
        elif shown == self.per_page and self.count <= offset + shown:
            self.count = offset + shown + 1
        else:
            return
        self.__dict__.pop("num_pages", None)  # Paginator caches it from the count

    def page(self, number):
        number = self.validate_number(number)
        return self._get_page(self.rows_of(number=number), number, self)

    def rows_of(self, *, number: int):
        """Page `number`'s rows, a query not yet read (or a list), whatever the count says."""
        offset = (number - 1) * self.per_page
        if offset >= self.seek_from:
            rows = seek_page(queryset=self.object_list, offset=offset, limit=self.per_page)
            if rows is not None:
                return rows
        return self.object_list[offset : offset + self.per_page]

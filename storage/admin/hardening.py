"""What every list and object page of the portal refuses that Django's admin would not.

Lists apply the filters they offer and nothing else. Django's admin also applies
any ORM lookup on a listed field that appears in the query string
(`?created_at__gte=…`, `?tool_id__regex=(`): values it never checks, which
PostgreSQL then refuses mid-query (a 500), and lookups no index serves. Here a
parameter that no list filter takes is refused the way Django refuses a filter
it cannot apply: the bare list, with a message. Lists sort only by the columns they offer
to sort by (`sortable_by`): Django sorts by any listed column named in a hand-made `?o=`
(3.4 s for the largest tenant's audit events, sorted whole), and by the key alone when `?o=`
names none it can use; either is ignored here, as Django ignores a column it cannot sort by.

Object pages: an empty `?_to_field=` makes Django look up a field named "" (a 500), and one
naming a relation that points at the table reads a key flag such a relation lacks (a 500).
Actions: a selected id that cannot be the table's key fails in the query (a 500). And Django
reads the list (its count and page) before it runs an action, though it then never shows it:
here a request that an action answers reads no list.
"""

import re

from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, ORDER_VAR, ChangeList
from django.core.exceptions import FieldDoesNotExist

from storage.rows import parse_key

# A column's index in `?o=`: a few ASCII digits. int() refuses "²", which isdigit() accepts,
# and a string of thousands of digits.
COLUMN_INDEX = re.compile(r"[0-9]{1,3}")


class KnownFiltersChangeList(ChangeList):
    def get_ordering_field(self, field_name):
        if self.sortable_by is not None and field_name not in self.sortable_by:
            return None
        return super().get_ordering_field(field_name)

    def get_ordering(self, request, queryset):
        """The list's own order, unless `?o=` names a column it offers to sort by."""
        if requested := self.params.get(ORDER_VAR):
            offered = [part for part in requested.split(".") if self._sorts_by(part)]
            if offered:
                self.params[ORDER_VAR] = ".".join(offered)
            else:
                del self.params[ORDER_VAR]
        return super().get_ordering(request, queryset)

    def _sorts_by(self, part: str) -> bool:
        """Whether one `?o=` part (a column's index, `-` first for descending) can sort."""
        index = part.rpartition("-")[2]
        if not COLUMN_INDEX.fullmatch(index) or int(index) >= len(self.list_display):
            return False
        return bool(self.get_ordering_field(self.list_display[int(index)]))

    def get_results(self, request):
        """The list's count and page, read only when they may be shown.

        Django builds the whole list before it runs an action, but then answers with the
        action's page or a redirect, never the list: its filtered queryset is all the action
        needs. So an action's confirmation page and its answer skip the count and the page.
        """
        if _answered_by_an_action(request, self.model_admin):
            self.result_list = self.queryset.none()
            self.result_count = 0
            return
        super().get_results(request)
        # Lists of a few rows (people, rules) count with Django's own paginator.
        estimated = getattr(self.paginator, "estimated", False)
        if (self.show_all and self.can_show_all) or not self.multi_page:
            # Django reads a list that fits one page without a limit. Counted exactly, it is
            # read up to its last row: no read when it has none, and a scan that stops at the
            # last one rather than walking every row the count already walked. Estimated, it
            # is read a page at a time, as a list that may hold more.
            if estimated:
                self.result_list = self.paginator.rows_of(number=self.page_num)
            else:
                self.result_list = self.queryset[: self.result_count]
        self.result_list = self.page_rows(self.result_list)
        if estimated:
            self.paginator.settle(number=self.page_num, shown=len(self.result_list))
            self.result_count = self.paginator.count
            self.multi_page = self.result_count > self.list_per_page
            self.can_show_all = not self.paginator.estimated and (
                self.result_count <= self.list_max_show_all
            )

    def page_rows(self, page):
        """The page's rows as the list shows them (a query not yet read, or a list)."""
        return page

    def get_filters(self, request):
        specs, has_filters, remaining, may_have_duplicates, has_active = super().get_filters(
            request
        )
        if remaining:
            raise IncorrectLookupParameters(f"Unknown filters: {', '.join(sorted(remaining))}")
        return specs, has_filters, remaining, may_have_duplicates, has_active


def _answered_by_an_action(request, model_admin) -> bool:
    """Whether Django's `changelist_view` answers this request with an action (its response, or
    a redirect when it refuses or nothing is selected) rather than with the list: a POST of
    the action menu (`index`) or of selected ids, to a list that offers actions to this person,
    and no list-editable save."""
    post = request.POST
    return (
        request.method == "POST"
        and "_save" not in post
        and ("index" in post or bool(post.getlist(ACTION_CHECKBOX_NAME)))
        and bool(model_admin.get_actions(request))
    )


class HardenedAdmin:
    """For a ModelAdmin: only its list filters' own parameters filter the list, an empty
    `_to_field` means the primary key, one naming no column is refused, and an action's ids
    are checked (`parse_key`)."""

    def get_object(self, request, object_id, from_field=None):
        return super().get_object(request, object_id, from_field or None)

    def to_field_allowed(self, request, to_field):
        # Django reads `primary_key` off whatever the name finds, and a relation pointing at
        # this table (a draft's "executions", a hidden "+") has none: a 500, not a 400.
        try:
            concrete = self.opts.get_field(to_field).concrete
        except FieldDoesNotExist:
            return False
        return concrete and super().to_field_allowed(request, to_field)

    def response_action(self, request, queryset):
        """Selected ids that cannot be this table's keys are refused with a message."""
        for value in request.POST.getlist(ACTION_CHECKBOX_NAME):
            if parse_key(model=self.model, value=value) is None:
                self.message_user(
                    request,
                    f"The selection holds something that is not a {self.opts.verbose_name} id; "
                    "nothing was done.",
                    messages.ERROR,
                )
                return None
        return super().response_action(request, queryset)

    def get_changelist(self, request, **kwargs):
        return KnownFiltersChangeList

    def changelist_view(self, request, extra_context=None):
        # Django answers filters it cannot apply by redirecting to the bare list with ?e=1.
        if ERROR_FLAG in request.GET:
            messages.warning(
                request,
                "Those filters are not valid (an unknown field, or a value of the wrong kind), "
                "so the list is shown without them.",
            )
        return super().changelist_view(request, extra_context)

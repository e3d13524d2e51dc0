"""What every list and object page of the portal refuses that Django's admin would not.

Lists apply the filters they offer and nothing else. Django's admin also applies
any ORM lookup on a listed field that appears in the query string
(`?created_at__gte=…`, `?tool_id__regex=(`): values it never checks, which
PostgreSQL then refuses mid-query (a 500), and lookups no index serves. Here a
parameter that no list filter takes is refused the way Django refuses a filter
it cannot apply: the bare list, with a message.

Object pages: an empty `?_to_field=` makes Django look up a field named "" (a 500).
Actions: a selected id that cannot be the table's key fails in the query (a 500).
"""

from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, ChangeList

from storage.rows import parse_key


class KnownFiltersChangeList(ChangeList):
    def get_filters(self, request):
        specs, has_filters, remaining, may_have_duplicates, has_active = super().get_filters(
            request
        )
        if remaining:
            raise IncorrectLookupParameters(f"Unknown filters: {', '.join(sorted(remaining))}")
        return specs, has_filters, remaining, may_have_duplicates, has_active


class HardenedAdmin:
    """For a ModelAdmin: only its list filters' own parameters filter the list, an empty
    `_to_field` means the primary key, and an action's ids are checked (`parse_key`)."""

    def get_object(self, request, object_id, from_field=None):
        return super().get_object(request, object_id, from_field or None)

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

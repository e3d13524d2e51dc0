"""List filters that stay on the spec's indexes and never answer bad input with a 500.

Django's date_hierarchy and its all-values filter run `SELECT DISTINCT` over the
whole tenant (seconds on a million rows); these filters take what the person types instead,
and a value they cannot read becomes a message, never an error page.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.contrib import admin, messages
from django.contrib.admin.views.main import SEARCH_VAR
from django.utils import timezone

from storage.choices import DraftStatus
from storage.models import User
from storage.review.selectors import awaiting_review, changed_since_approval, tenant_users
from storage.roles import REVIEW_PERMISSION
from storage.rows import parse_key


class DraftStatusFilter(admin.SimpleListFilter):
    """Status, where reviewers land on Submitted (their queue) and everyone else on All.

    A search looks in every status unless one is chosen: an exact id should be found.
    """

    title = "status"
    parameter_name = "status"
    ALL = "all"

    @classmethod
    def shown(cls, request) -> str:
        """The status the list shows for this request (ALL for every status)."""
        queue = request.user.has_perm(REVIEW_PERMISSION) and not request.GET.get(SEARCH_VAR)
        return request.GET.get(cls.parameter_name) or (DraftStatus.SUBMITTED if queue else cls.ALL)

    def lookups(self, request, model_admin):
        return [(self.ALL, "All"), *DraftStatus.choices]

    def value(self):
        return self.shown(self.request)

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.ALL:
            return queryset
        return queryset.filter(status=value) if value in DraftStatus.values else queryset.none()


class AwaitingMeFilter(admin.SimpleListFilter):
    """Submitted drafts waiting for my decision (`awaiting_review` says exactly which)."""

    title = "my queue"
    parameter_name = "awaiting"

    def lookups(self, request, model_admin):
        return [("me", "Awaiting me")] if request.user.has_perm(REVIEW_PERMISSION) else []

    def queryset(self, request, queryset):
        if self.value() == "me":
            return awaiting_review(drafts=queryset, user=request.user)
        return queryset


class ChangedAfterApprovalFilter(admin.SimpleListFilter):
    """Drafts whose content is no longer what their newest approval saw."""

    title = "content"
    parameter_name = "changed"

    def lookups(self, request, model_admin):
        return [("after_approval", "Changed after approval")]

    def queryset(self, request, queryset):
        if self.value() == "after_approval":
            return changed_since_approval(drafts=queryset, tenant_id=request.tenant_id)
        return queryset


class InputFilter(admin.FieldListFilter):
    """A filter the person types into; subclasses name the inputs and apply them."""

    template = "admin/storage/input_filter.html"
    inputs: dict[str, tuple[str, str]] = {}  # parameter suffix -> (label, placeholder)

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.field_path = field_path
        self.values = {
            name: params.pop(name)[-1].strip()
            for name in self.expected_parameters()
            if name in params
        }
        super().__init__(field, request, params, model, model_admin, field_path)
        self.used_parameters = {name: value for name, value in self.values.items() if value}

    def parameter(self, suffix: str) -> str:
        return f"{self.field_path}{suffix}"

    def expected_parameters(self) -> list[str]:
        return [self.parameter(suffix) for suffix in self.inputs]

    def has_output(self) -> bool:
        return True

    def choices(self, changelist):
        mine = set(self.expected_parameters())
        yield {
            "inputs": [
                (self.parameter(suffix), label, hint, self.values.get(self.parameter(suffix), ""))
                for suffix, (label, hint) in self.inputs.items()
            ],
            "hidden": [
                (name, value)
                for name, values in self.request.GET.lists()
                if name not in mine and name != "p"
                for value in values
            ],
            "clear_url": changelist.get_query_string(remove=list(mine)),
            "active": bool(self.used_parameters),
        }


class ExactValueFilter(InputFilter):
    """Rows whose column equals the typed value, through a (tenant_id, column) index."""

    inputs = {"": ("Exactly", "")}

    def queryset(self, request, queryset):
        value = self.used_parameters.get(self.field_path)
        return queryset.filter(**{self.field_path: value}) if value else queryset


class DateRangeFilter(InputFilter):
    """From and to (both inclusive) as dates, or as ISO date-times (then `to` is exclusive)."""

    inputs = {"_from": ("From", "YYYY-MM-DD"), "_to": ("To", "YYYY-MM-DD")}

    def queryset(self, request, queryset):
        start = self._bound(request, "_from")
        if start is not None:
            queryset = queryset.filter(**{f"{self.field_path}__gte": start})
        end = self._bound(request, "_to")
        if end is not None:
            queryset = queryset.filter(**{f"{self.field_path}__lt": end})
        return queryset

    def _bound(self, request, suffix: str) -> datetime | None:
        text = self.used_parameters.get(self.parameter(suffix))
        if not text:
            return None
        try:
            return parse_bound(text, end=suffix == "_to")
        except (ValueError, OverflowError):
            messages.error(
                request,
                f"“{text}” is not a date: use YYYY-MM-DD. The {self.title} "
                f"{'to' if suffix == '_to' else 'from'} date was ignored.",
            )
            return None


def parse_bound(text: str, *, end: bool) -> datetime | None:
    """A range bound: a date covers its whole day; a date-time is taken as it is.

    The last day there is bounds nothing (None). Raises ValueError or OverflowError
    for text that is no date, or a moment PostgreSQL cannot hold.
    """
    try:
        day = date.fromisoformat(text)
    except ValueError:
        moment = datetime.fromisoformat(text)
        moment = moment if timezone.is_aware(moment) else timezone.make_aware(moment)
        # In UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts, and a
        # moment outside years 1-9999 in UTC raises OverflowError here, not in the query.
        return moment.astimezone(UTC)
    if end:
        if day == date.max:
            return None
        day += timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time.min))


class ReviewerFilter(admin.SimpleListFilter):
    """The decision trail by reviewer: the users of the request's tenant."""

    title = "reviewer"
    parameter_name = "reviewer"

    def lookups(self, request, model_admin):
        return [(str(user.pk), user.username) for user in tenant_users(tenant_id=request.tenant_id)]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        reviewer_id = parse_key(model=User, value=value) if value.isascii() else None
        return queryset.filter(reviewer_id=reviewer_id) if reviewer_id else queryset.none()

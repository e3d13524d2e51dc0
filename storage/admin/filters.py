"""List filters that stay cheap on big tables and never answer bad input with a 500."""

from datetime import date, datetime, time, timedelta

from django.contrib import admin, messages
from django.contrib.admin.views.main import SEARCH_VAR
from django.utils import timezone

from storage import selectors
from storage.choices import DraftStatus
from storage.roles import REVIEW_PERMISSION


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
    """Submitted drafts waiting for my decision (selectors.awaiting_review says exactly which)."""

    title = "my queue"
    parameter_name = "awaiting"

    def lookups(self, request, model_admin):
        return [("me", "Awaiting me")] if request.user.has_perm(REVIEW_PERMISSION) else []

    def queryset(self, request, queryset):
        if self.value() == "me":
            return selectors.awaiting_review(queryset, user=request.user)
        return queryset


class CreatedDateRangeFilter(admin.ListFilter):
    """`created_at` between two dates, both included: an index range, not date_hierarchy's scans.

    A malformed date is ignored with a message.
    """

    title = "created date"
    template = "admin/storage/date_range_filter.html"
    FROM, TO = "created_from", "created_to"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.dates = {}
        for name in (self.FROM, self.TO):
            raw = params.pop(name, [""])[-1].strip()
            if not raw:
                continue
            self.used_parameters[name] = raw
            try:
                self.dates[name] = date.fromisoformat(raw)
            except ValueError:
                messages.warning(
                    request, f"“{raw}” is not a date like 2026-01-31: that bound is ignored."
                )

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return [self.FROM, self.TO]

    def choices(self, changelist):
        yield {
            "from": self.used_parameters.get(self.FROM, ""),
            "to": self.used_parameters.get(self.TO, ""),
            "kept": [
                (name, value)
                for name, value in changelist.params.items()
                if name not in self.expected_parameters()
            ],
            "clear": changelist.get_query_string(remove=self.expected_parameters()),
        }

    def queryset(self, request, queryset):
        if start := self.dates.get(self.FROM):
            queryset = queryset.filter(created_at__gte=_start_of(start))
        end = self.dates.get(self.TO)
        if end and end < date.max:
            queryset = queryset.filter(created_at__lt=_start_of(end + timedelta(days=1)))
        return queryset


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class ReviewerFilter(admin.SimpleListFilter):
    """The decision trail by reviewer: the users of the request's tenant."""

    title = "reviewer"
    parameter_name = "reviewer"

    def lookups(self, request, model_admin):
        return [(str(user.pk), user.username) for user in selectors.tenant_users(request.tenant_id)]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(reviewer_id=value) if value.isdigit() else queryset.none()

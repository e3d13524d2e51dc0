"""The decision trail: every approval and rejection, read-only for everyone."""

from django.contrib import admin

from storage.admin.base import TenantRowsAdmin
from storage.admin.display import badge_column, draft_link
from storage.admin.filters import DateRangeFilter, ReviewerFilter
from storage.models import DraftReview


@admin.register(DraftReview)
class DraftReviewAdmin(TenantRowsAdmin):
    list_display = [
        "created_at",
        draft_link,
        "reviewer",
        badge_column("decision", kind="decision", description="decision"),
        "from_status",
        "to_status",
        "reason",
    ]
    list_filter = [ReviewerFilter, "decision", ("created_at", DateRangeFilter)]
    list_select_related = ["reviewer"]

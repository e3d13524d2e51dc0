"""The decision trail: every approval and rejection, read-only for everyone."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from storage.admin.base import TenantRowsAdmin
from storage.admin.display import badge
from storage.admin.filters import DateRangeFilter, ReviewerFilter
from storage.models import DraftReview


@admin.register(DraftReview)
class DraftReviewAdmin(TenantRowsAdmin):
    list_display = [
        "created_at",
        "draft_link",
        "reviewer",
        "decision_badge",
        "from_status",
        "to_status",
        "reason",
    ]
    list_filter = [ReviewerFilter, "decision", ("created_at", DateRangeFilter)]
    list_select_related = ["reviewer"]
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description="draft")
    def draft_link(self, obj: DraftReview) -> str:
        url = reverse("admin:storage_draft_change", args=[obj.draft_id])
        return format_html('<a href="{}">{}</a>', url, str(obj.draft_id)[:8])

    @admin.display(description="decision", ordering="decision")
    def decision_badge(self, obj: DraftReview) -> str:
        return badge("decision", obj.decision, obj.get_decision_display())

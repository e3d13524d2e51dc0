"""The decision trail: every approval and rejection, read-only for everyone.

Each decision carries its own snapshot of the draft, so a draft Lynx AI has
deleted since still shows what was decided, marked "draft deleted".
"""

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.utils.html import format_html

from storage.admin.base import TenantRowsAdmin
from storage.admin.display import admin_link, decision_badge, json_display, payment_summary
from storage.admin.filters import DateRangeFilter, ReviewerFilter
from storage.models import DraftReview
from storage.review.selectors import with_draft_presence

SNAPSHOT = ["draft_type", "risk_level", "amount_shown", "fingerprint"]


@admin.display(description="draft", ordering="draft_id")
def draft_or_deleted(review: DraftReview):
    """A link to the draft, or its short id and "draft deleted" (from the annotation: no query)."""
    short = str(review.draft_id)[:8]
    if review.draft_exists:
        return admin_link("draft", review.draft_id, short)
    return format_html('{} <span class="quiet draft-deleted">(draft deleted)</span>', short)


@admin.register(DraftReview)
class DraftReviewAdmin(TenantRowsAdmin):
    list_display = [
        "created_at",
        draft_or_deleted,
        "round",
        "reviewer",
        decision_badge,
        "from_status",
        "to_status",
        "draft_type",
        "amount_shown",
        "reason",
    ]
    list_filter = [ReviewerFilter, "decision", ("created_at", DateRangeFilter)]
    list_select_related = ["reviewer"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "created_at",
                    draft_or_deleted,
                    "round",
                    "reviewer",
                    decision_badge,
                    "from_status",
                    "to_status",
                    "reason",
                ]
            },
        ),
        ("What was decided", {"fields": SNAPSHOT}),
        (
            "Content as decided",
            {
                "fields": [
                    json_display("payload", "payload"),
                    json_display("source_context", "source context"),
                ]
            },
        ),
    ]

    readonly_fields = flatten_fieldsets(fieldsets)

    def get_queryset(self, request):
        return with_draft_presence(reviews=super().get_queryset(request))

    @admin.display(description="amount")
    def amount_shown(self, review: DraftReview):
        if review.amount is None:
            return "–"
        return payment_summary({"amount": str(review.amount), "currency": review.currency})

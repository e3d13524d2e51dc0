"""The review queue over lynx_drafts, the draft page, and approving or rejecting drafts.

Approve and Reject are two-step actions (see `confirmation`): from the queue's
action menu, or from the draft page's buttons, which post the same action for
that one draft. The rules live in `storage.review.services`.
"""

from django import forms
from django.contrib import admin, messages

from storage.admin.base import TenantRowsAdmin, short_id
from storage.admin.confirmation import Confirmation, confirm_then_act
from storage.admin.display import (
    badge_column,
    draft_link,
    payment_facts,
    pretty_json,
    status_badge,
)
from storage.admin.filters import AwaitingMeFilter, DateRangeFilter, DraftStatusFilter
from storage.admin.inlines import DecisionTrailInline, ExecutionInline
from storage.choices import Decision, DraftStatus, DraftType
from storage.models import Draft
from storage.review import selectors, services
from storage.roles import REVIEW_PERMISSION

risk_badge = badge_column("risk_level", kind="risk", description="risk")
COLUMNS = [
    "draft_type",
    status_badge,
    risk_badge,
    "created_by",
    "created_at",
    "request_id",
    "approvers",
    "approvals",
]
DECISION_ACTIONS = {Decision.APPROVE: "approve_selected", Decision.REJECT: "reject_selected"}


class DecisionForm(forms.Form):
    """The reviewer's words; whether they are required is the service's rule."""

    reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 70}), strip=True
    )

    def __init__(self, *args, decision: Decision, **kwargs):
        super().__init__(*args, **kwargs)
        reject = decision == Decision.REJECT
        self.fields["reason"].label = "Reason (required)" if reject else "Note (optional)"


@admin.register(Draft)
class DraftAdmin(TenantRowsAdmin):
    list_display = [short_id, *COLUMNS]
    list_filter = [
        DraftStatusFilter,
        AwaitingMeFilter,
        "risk_level",
        "draft_type",
        ("created_at", DateRangeFilter),
    ]
    # What the search matches, exactly; get_search_results does it through the indexes.
    search_fields = ["=draft_id", "=request_id", "=created_by"]
    search_help_text = "An exact draft id (or its first 8 characters), request id or creator."
    actions = list(DECISION_ACTIONS.values())
    inlines = [ExecutionInline, DecisionTrailInline]

    def get_queryset(self, request):
        return selectors.with_approval_counts(drafts=super().get_queryset(request))

    def get_ordering(self, request):
        """The submitted queue oldest first (it waits longest); every other list newest first."""
        if DraftStatusFilter.shown(request) == DraftStatus.SUBMITTED:
            return ["created_at"]
        return ["-created_at"]

    def get_search_results(self, request, queryset, search_term):
        try:
            return selectors.search_drafts(drafts=queryset, term=search_term), False
        except ValueError as error:
            messages.warning(request, str(error))
            return queryset.none(), False

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["draft_id", *COLUMNS]}),
            ("Content", {"fields": ["payload_json", "source_context_json"]}),
        ]
        is_payment = obj is not None and obj.draft_type == DraftType.VPM_PAYMENT
        if is_payment and payment_facts(obj.payload):  # what a reviewer checks first
            fieldsets.insert(0, ("Payment", {"fields": ["payment"]}))
        return fieldsets

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and services.may_decide(user=request.user, draft=obj):
            context["decision_actions"] = [
                (action, Decision(decision).label) for decision, action in DECISION_ACTIONS.items()
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def has_review_permission(self, request) -> bool:
        return request.user.has_perm(REVIEW_PERMISSION)

    @admin.action(description="Approve selected drafts", permissions=["review"])
    def approve_selected(self, request, queryset):
        return self._decide(request, queryset, Decision.APPROVE)

    @admin.action(description="Reject selected drafts", permissions=["review"])
    def reject_selected(self, request, queryset):
        return self._decide(request, queryset, Decision.REJECT)

    def _decide(self, request, queryset, decision: Decision):
        user, verb = request.user, decision.label.lower()
        confirmation = Confirmation(
            action=DECISION_ACTIONS[decision],
            title=f"{decision.label} drafts",
            intro=f"You are about to {verb} these drafts. Each decision is recorded in the "
            "decision trail with your name.",
            confirm_label=f"Yes, {verb}",
            make_form=lambda data: DecisionForm(data, decision=decision),
            columns={
                "Draft": draft_link,
                "Type": Draft.get_draft_type_display,
                "Risk": risk_badge,
                "Created by": lambda draft: draft.created_by,
            },
            preview=lambda ids: services.preview_decisions(
                user=user, draft_ids=ids, decision=decision
            ),
            perform=lambda ids, reason: services.decide_drafts(
                user=user, draft_ids=ids, decision=decision, reason=reason
            ),
        )
        return confirm_then_act(self, request, queryset, confirmation)

    @admin.display(description="recommended approvers")
    def approvers(self, obj: Draft) -> str:
        return ", ".join(obj.recommended_approvers or []) or "-"

    @admin.display(description="approvals")
    def approvals(self, obj: Draft) -> str:
        return f"{obj.approval_count}/{services.required_approvals(draft=obj)}"

    @admin.display(description="payment")
    def payment(self, obj: Draft) -> str:
        return payment_facts(obj.payload)

    @admin.display(description="payload")
    def payload_json(self, obj: Draft) -> str:
        return pretty_json(obj.payload)

    @admin.display(description="source context")
    def source_context_json(self, obj: Draft) -> str:
        return pretty_json(obj.source_context)

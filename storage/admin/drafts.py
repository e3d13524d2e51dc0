"""The review queue over lynx_drafts, the draft page, and the way to decide on drafts."""

from django.contrib import admin, messages
from django.urls import path

from storage import selectors, services
from storage.admin.base import TenantRowsAdmin, short_id
from storage.admin.decisions import confirmation_response, decision_view
from storage.admin.display import badge, payment_facts, pretty_json
from storage.admin.filters import AwaitingMeFilter, DateRangeFilter, DraftStatusFilter
from storage.admin.inlines import DecisionTrailInline, ExecutionInline
from storage.choices import Decision, DraftStatus, DraftType
from storage.models import Draft
from storage.roles import REVIEW_PERMISSION

COLUMNS = [
    "draft_type",
    "status_badge",
    "risk_badge",
    "created_by",
    "created_at",
    "request_id",
    "approvers",
    "approvals",
]


MOST_AT_ONCE = 100


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
    show_facets = admin.ShowFacets.NEVER  # facet counts would scan the table
    actions = ["approve_selected", "reject_selected"]
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
        context["may_decide"] = obj is not None and services.may_decide(
            user=request.user, draft=obj
        )
        context["decisions"] = Decision.choices
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        review = self.admin_site.admin_view(lambda request: decision_view(self, request))
        return [path("review/", review, name="storage_draft_review"), *super().get_urls()]

    def has_review_permission(self, request) -> bool:
        return request.user.has_perm(REVIEW_PERMISSION)

    @admin.action(description="Approve selected drafts", permissions=["review"])
    def approve_selected(self, request, queryset):
        return self._confirm(request, queryset, Decision.APPROVE)

    @admin.action(description="Reject selected drafts", permissions=["review"])
    def reject_selected(self, request, queryset):
        return self._confirm(request, queryset, Decision.REJECT)

    def _confirm(self, request, queryset, decision: Decision):
        draft_ids = list(queryset.values_list("pk", flat=True)[: MOST_AT_ONCE + 1])
        if len(draft_ids) > MOST_AT_ONCE:
            # Each decision locks its draft until the request ends: keep that bounded.
            self.message_user(
                request, f"Choose at most {MOST_AT_ONCE} drafts at a time.", messages.ERROR
            )
            return None
        return confirmation_response(
            self, request, decision=decision, draft_ids=draft_ids, next_url=request.get_full_path()
        )

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Draft) -> str:
        return badge("status", obj.status, obj.get_status_display())

    @admin.display(description="risk", ordering="risk_level")
    def risk_badge(self, obj: Draft) -> str:
        return badge("risk", obj.risk_level, obj.get_risk_level_display())

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

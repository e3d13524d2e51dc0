"""The review queue over lynx_drafts, the draft page, and approving or rejecting drafts.

Approve and Reject are two-step actions (see `confirmation`): from the queue's
action menu, or from the draft page's buttons, which post the same action for
that one draft. The rules live in `storage.review.services`; where each draft
stands (round, approvals, rules) in `storage.review.selectors.review_state`,
attached to every draft the queue and the page show.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.utils import timezone
from django.utils.safestring import SafeString

from storage.admin.base import TenantRowsAdmin, short_id
from storage.admin.confirmation import Confirmation, confirm_then_act
from storage.admin.display import (
    badge,
    badge_column,
    choice_label,
    draft_link,
    markup,
    payment_summary,
    pretty_json,
)
from storage.admin.draft_page import draft_page_context
from storage.admin.filters import (
    AwaitingMeFilter,
    ChangedAfterApprovalFilter,
    DateRangeFilter,
    DraftStatusFilter,
)
from storage.admin.hardening import KnownFiltersChangeList
from storage.choices import Decision, DraftStatus, DraftType
from storage.models import Draft
from storage.moments import format_wait
from storage.review import selectors, services
from storage.review.rules import rules_read_with, with_tenant_rules
from storage.roles import REVIEW_PERMISSION

risk_badge = badge_column("risk_level", kind="risk", description="risk")
DECISION_ACTIONS = {Decision.APPROVE: "approve_selected", Decision.REJECT: "reject_selected"}


def with_review_states(drafts) -> list[Draft]:
    """The drafts (annotated by `with_review_state` and `with_tenant_rules`), each with its
    `review_state` under its tenant's rules, in their order: no query of its own."""
    drafts = list(drafts)
    if drafts:
        rules = rules_read_with(draft=drafts[0])
        for draft in drafts:
            draft.review_state = selectors.review_state(draft=draft, rules=rules)
    return drafts


class ReviewQueue(KnownFiltersChangeList):
    """The list, with each row's review state, and its sort arrow following the order shown."""

    def __init__(self, request, *args, **kwargs):
        self.request = request
        super().__init__(request, *args, **kwargs)

    def _get_default_ordering(self):
        # Django's default reads Meta.ordering, not get_ordering(): the arrow pointed the
        # wrong way on the submitted queue, which is oldest first.
        return self.model_admin.get_ordering(self.request)

    def page_rows(self, page):
        """The page's drafts, each with its review state: the page is chosen first (a query
        not yet read), then only its rows are annotated, in the statement that reads them.

        Annotating the list's own query would do for a first page only when PostgreSQL
        reads the drafts in the order shown: when it sorts them instead (stale statistics
        can make it), it computed every matching draft's fingerprint before choosing 50.
        """
        if isinstance(page, list):  # a page past the list's end (seek_page)
            return page
        page = self.root_queryset.filter(pk__in=page.values("pk"))
        page = selectors.with_review_state(drafts=page.order_by(*self.queryset.query.order_by))
        page = with_tenant_rules(drafts=page, tenant_id=self.request.tenant_id)
        return with_review_states(page)


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
    change_form_template = "admin/storage/draft/draft_page.html"
    list_filter = [
        DraftStatusFilter,
        AwaitingMeFilter,
        ChangedAfterApprovalFilter,
        "risk_level",
        "draft_type",
        ("created_at", DateRangeFilter),
    ]
    # What the search matches, exactly; get_search_results does it through the indexes.
    search_fields = ["=draft_id", "=request_id"]
    search_help_text = "An exact draft id (or its first 8 characters) or request id."
    actions = list(DECISION_ACTIONS.values())

    list_display = [
        short_id,
        "draft_type",
        "status_and_changes",
        risk_badge,
        "payment",
        "created_by",
        "created_at",
        "waiting",
        "approvals",
    ]

    def get_changelist(self, request, **kwargs):
        return ReviewQueue

    def with_page_reads(self, rows):
        """A list annotates only its page (ReviewQueue); a draft's own pages, the draft."""
        return selectors.with_page_sections(drafts=rows)

    def get_object(self, request, object_id, from_field=None):
        """The draft with its `trail`, its `newest_executions` and, read off the trail, its
        `review_state`."""
        draft = super().get_object(request, object_id, from_field)
        sections = selectors.page_sections(draft=draft)
        draft.trail, draft.newest_executions = sections.trail, sections.executions
        draft.review_state = selectors.review_state_from_trail(
            draft=draft, trail=sections.trail, rules=sections.rules
        )
        return draft

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
            ("Review", {"fields": ["approvals_summary", "rules", "waiting"]}),
            (
                None,
                {
                    "fields": [
                        "draft_id",
                        "draft_type",
                        "status_and_changes",
                        risk_badge,
                        "created_by",
                        "created_at",
                        "request_id",
                        "approvers",
                    ]
                },
            ),
            ("Content", {"fields": ["payload_json", "source_context_json"]}),
        ]
        is_payment = obj is not None and obj.draft_type == DraftType.VPM_PAYMENT
        if is_payment and payment_summary(obj.payload):  # what a reviewer checks first
            fieldsets.insert(0, ("Payment", {"fields": ["payment"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return flatten_fieldsets(self.get_fieldsets(request, obj))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(draft_page_context(request=request, draft=obj, actions=DECISION_ACTIONS))
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
            intro=f"You are about to {verb} these drafts, as they are shown here. Each decision "
            "is recorded in the decision trail with your name and what you saw.",
            confirm_label=f"Yes, {verb}",
            make_form=lambda data: DecisionForm(data, decision=decision),
            columns={
                "Draft": draft_link,
                "Type": Draft.get_draft_type_display,
                "Status": self.status_and_changes,
                "Risk": risk_badge,
                "Payment": lambda draft: payment_summary(draft.payload),
                "Created by": lambda draft: draft.created_by,
                "Rule and approvals": self.approvals,
            },
            preview=lambda ids: self._preview(user, ids, decision),
            perform=lambda ids, seen, reason: services.decide_drafts(
                user=user, draft_ids=ids, decision=decision, reason=reason, seen=seen
            ),
        )
        return confirm_then_act(self, request, queryset, confirmation)

    @staticmethod
    def _preview(user, ids, decision: Decision) -> list[services.DecisionOutcome]:
        outcomes = services.preview_decisions(user=user, draft_ids=ids, decision=decision)
        with_review_states([outcome.draft for outcome in outcomes])
        return outcomes

    @admin.display(description="status", ordering="status")
    def status_and_changes(self, obj: Draft):
        status = badge("status", obj.status, choice_label(Draft, "status", obj.status))
        if not obj.review_state.changed_since_approval:
            return status
        return markup("{} {}", status, badge("alert", "changed", "⚠ changed after approval"))

    @admin.display(description="payment")
    def payment(self, obj: Draft):
        return payment_summary(obj.payload) if obj.draft_type == DraftType.VPM_PAYMENT else "–"

    @admin.display(description="waiting")
    def waiting(self, obj: Draft) -> str:
        if obj.status != DraftStatus.SUBMITTED:
            return "–"
        return format_wait(timezone.now() - obj.created_at)

    @admin.display(description="approvals")
    def approvals(self, obj: Draft):
        """e.g. 1/2: acme-reviewer, then what is still needed."""
        progress = obj.review_state.progress
        lines = [(progress.count, "count")]
        rules = ", ".join(progress.requirement.names)
        if obj.status == DraftStatus.SUBMITTED and progress.missing_groups:
            lines.append((f"{rules}: {progress.still_needed}", "needed"))
        else:
            lines.append((rules, "rule"))
        if progress.requirement.unreadable:  # why the strictest rules apply
            lines.append((f"⚠ {progress.requirement.unreadable}", "unreadable"))
        return SafeString(
            "".join(markup('<div class="approvals-{}">{}</div>', c, t) for t, c in lines)
        )

    @admin.display(description="approvals")
    def approvals_summary(self, obj: Draft):
        progress = obj.review_state.progress
        who = f" ({', '.join(progress.approvers)})" if progress.approvers else ""
        return f"Round {obj.review_state.round}: {progress.summary}{who}"

    @admin.display(description="rules that apply")
    def rules(self, obj: Draft) -> str:
        return obj.review_state.progress.requirement.explanation

    @admin.display(description="recommended approvers")
    def approvers(self, obj: Draft) -> str:
        return ", ".join(obj.recommended_approvers or []) or "-"

    @admin.display(description="payload")
    def payload_json(self, obj: Draft):
        return pretty_json(obj.payload)

    @admin.display(description="source context")
    def source_context_json(self, obj: Draft):
        return pretty_json(obj.source_context)

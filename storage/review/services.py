"""Deciding on drafts: the reviewer workflow's rules, checked on the server for every draft.

The bulk actions, the draft page's buttons and the tests all call
`decide_drafts()`; the confirmation page shows `preview_decisions()`, which
applies the same rules without writing. Every rule is checked for every draft,
with the draft's row locked.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models.functions import Now
from django.utils import timezone

from storage.actions import ActionRefused, Outcome, at_most
from storage.choices import Decision, DraftStatus, RiskLevel
from storage.models import Draft, DraftReview, User
from storage.review.selectors import reviewer_identities, reviews_by_draft
from storage.roles import REVIEW_PERMISSION
from storage.rows import parse_uuid, tenant_rows
from storage.tenancy import tenant_context

PAST_TENSE = {Decision.APPROVE: "approved", Decision.REJECT: "rejected"}


@dataclass(frozen=True)
class DecisionOutcome(Outcome):
    """What a decision does (or would do) to one draft, or why it leaves the draft alone."""

    to_status: str = ""
    approvals: int = 0
    required: int = 0

    @property
    def draft(self) -> Draft:
        return self.subject

    def change(self) -> str:
        if self.to_status == DraftStatus.SUBMITTED:
            return f"stays submitted with {self.approvals}/{self.required} approvals"
        return DraftStatus(self.to_status).label.lower()


def required_approvals(*, draft: Draft) -> int:
    """Dual control: high-risk drafts need LYNX_HIGH_RISK_APPROVALS distinct approvers."""
    return settings.LYNX_HIGH_RISK_APPROVALS if draft.risk_level == RiskLevel.HIGH else 1


def _decision_refusal(*, user, draft: Draft, reviews: list[DraftReview]) -> str:
    """Why `user` may not decide on `draft` now, or "" if they may; `reviews` newest first."""
    if draft.status != DraftStatus.SUBMITTED:
        return _status_refusal(draft, reviews)
    if draft.created_by.casefold() in reviewer_identities(user=user):
        return "you created this draft"
    own = next((review for review in reviews if review.reviewer_id == user.pk), None)
    if own is not None:
        return f"you already {PAST_TENSE[own.decision]} this draft"
    return ""


def _status_refusal(draft: Draft, reviews: list[DraftReview]) -> str:
    status = draft.get_status_display().lower()
    last = next((review for review in reviews if review.to_status == draft.status), None)
    if last is None:
        return f"it is {status}; only submitted drafts can be decided"
    when = timezone.localtime(last.created_at)
    return f"already {status} by {last.reviewer.username} at {when:%Y-%m-%d %H:%M %Z}"


def may_decide(*, user: User, draft: Draft) -> bool:
    """Whether to offer `user` the Approve and Reject buttons on this draft."""
    if not user.has_perm(REVIEW_PERMISSION):
        return False
    reviews = reviews_by_draft(drafts=[draft])[draft.pk]
    return not _decision_refusal(user=user, draft=draft, reviews=reviews)


def preview_decisions(
    *, user: User, draft_ids: Sequence[UUID | str], decision: Decision
) -> list[DecisionOutcome]:
    """What `decide_drafts()` would do now, for the confirmation page. Writes nothing."""
    _require_reviewer(user)
    with tenant_context(user.tenant_id):
        return _outcomes(user, list(_drafts(user, draft_ids)), decision)


def decide_drafts(
    *, user: User, draft_ids: Sequence[UUID | str], decision: Decision, reason: str = ""
) -> list[DecisionOutcome]:
    """Approve or reject the drafts, record each decision, and say what became of each.

    Runs as the RLS role in the caller's transaction (or its own), with the
    drafts' rows locked in primary-key order: a concurrent decision on the same
    draft waits, then sees this one. Unknown and other tenants' ids are ignored;
    more than MOST_AT_ONCE ids are refused, since each lock is held until the
    transaction ends.
    """
    _require_reviewer(user)
    reason = reason.strip()
    if decision == Decision.REJECT and not reason:
        raise ActionRefused("Give a reason for the rejection.", field="reason")
    with tenant_context(user.tenant_id):
        drafts = list(_drafts(user, draft_ids).select_for_update())
        outcomes = _outcomes(user, drafts, decision)
        _record(user, decision, reason, [outcome for outcome in outcomes if outcome.changes])
    return outcomes


def _require_reviewer(user) -> None:
    if not (user.tenant_id and user.has_perm(REVIEW_PERMISSION)):
        raise ActionRefused("You may not approve or reject drafts.", forbidden=True)


def _drafts(user, draft_ids: Sequence[UUID | str]):
    ids = [parse_uuid(value=value) for value in at_most(draft_ids, noun="drafts")]
    return (
        tenant_rows(Draft, tenant_id=user.tenant_id)
        .filter(pk__in=[draft_id for draft_id in ids if draft_id])
        .order_by("pk")
    )


def _outcomes(user, drafts: list[Draft], decision: Decision) -> list[DecisionOutcome]:
    trails = reviews_by_draft(drafts=drafts)
    return [_outcome(user, draft, trails[draft.pk], decision) for draft in drafts]


def _outcome(user, draft: Draft, reviews: list[DraftReview], decision: Decision) -> DecisionOutcome:
    approvals = sum(review.decision == Decision.APPROVE for review in reviews)
    required = required_approvals(draft=draft)
    if skipped_because := _decision_refusal(user=user, draft=draft, reviews=reviews):
        return DecisionOutcome(draft, skipped_because, approvals=approvals, required=required)
    if decision == Decision.REJECT:
        return DecisionOutcome(
            draft, to_status=DraftStatus.REJECTED, approvals=approvals, required=required
        )
    approvals += 1
    to_status = DraftStatus.APPROVED if approvals >= required else DraftStatus.SUBMITTED
    return DecisionOutcome(draft, to_status=to_status, approvals=approvals, required=required)


def _record(user, decision: Decision, reason: str, decided: list[DecisionOutcome]) -> None:
    """The trail rows, the status changes and Django's admin log entries, for decided drafts."""
    DraftReview.objects.bulk_create(
        DraftReview(
            tenant_id=outcome.draft.tenant_id,
            draft=outcome.draft,
            reviewer=user,
            decision=decision,
            reason=reason,
            from_status=outcome.draft.status,
            to_status=outcome.to_status,
            # The time of the decision, not of the transaction's start (NOW()): after the
            # row lock, so that the trail's order is the order decisions were made in.
            created_at=Now(),
        )
        for outcome in decided
    )
    moved = defaultdict(list)
    logged = defaultdict(list)
    for outcome in decided:
        if outcome.to_status != outcome.draft.status:
            moved[outcome.to_status].append(outcome.draft.pk)
        logged[f"{Decision(decision).label}: {outcome.effect}."].append(outcome.draft)
    for status, pks in moved.items():
        tenant_rows(Draft, tenant_id=user.tenant_id).filter(pk__in=pks).update(status=status)
    for message, drafts in logged.items():
        LogEntry.objects.log_actions(
            user_id=user.pk, queryset=drafts, action_flag=CHANGE, change_message=message
        )

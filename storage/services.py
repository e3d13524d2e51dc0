"""Writes. Each business rule of the portal lives here once; admin screens and commands call it.

The reviewer workflow: the bulk actions, the draft page's buttons and the tests
all call `decide_drafts()`; the confirmation page shows `preview_decisions()`,
which applies the same rules without writing. Every rule is checked for every
draft, on the server, with the draft's row locked. Settlement moves and
archival batches follow.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models.functions import Now
from django.utils import timezone

from storage import selectors
from storage.choices import Decision, DraftStatus, Provider, RiskLevel, SettlementStatus
from storage.models import (
    ArchivedAuditEvent,
    AuditEvent,
    Draft,
    DraftReview,
    SettlementIntent,
    User,
)
from storage.roles import REVIEW_PERMISSION, SETTLE_PERMISSION
from storage.selectors import reviewer_identities, reviews_by_draft, tenant_rows
from storage.tenancy import tenant_context

PAST_TENSE = {Decision.APPROVE: "approved", Decision.REJECT: "rejected"}


@dataclass(frozen=True)
class Outcome:
    """What a decision does (or would do) to one draft, or why it leaves the draft alone."""

    draft: Draft
    skipped_because: str = ""
    to_status: str = ""
    approvals: int = 0
    required: int = 0

    @property
    def decided(self) -> bool:
        return not self.skipped_because

    @property
    def effect(self) -> str:
        if self.skipped_because:
            return f"skipped: {self.skipped_because}"
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
    *, user: User, draft_ids: Iterable[UUID | str], decision: Decision
) -> list[Outcome]:
    """What `decide_drafts()` would do now, for the confirmation page. Writes nothing."""
    _require_reviewer(user)
    with tenant_context(user.tenant_id):
        return _outcomes(user, list(_drafts(user, draft_ids)), decision)


def decide_drafts(
    *, user: User, draft_ids: Iterable[UUID | str], decision: Decision, reason: str = ""
) -> list[Outcome]:
    """Approve or reject the drafts, record each decision, and say what became of each.

    Runs as the RLS role in the caller's transaction (or its own), with the
    drafts' rows locked in primary-key order: a concurrent decision on the same
    draft waits, then sees this one. Unknown and other tenants' ids are ignored.
    """
    _require_reviewer(user)
    reason = reason.strip()
    if decision == Decision.REJECT and not reason:
        raise ValidationError("Give a reason for the rejection.", code="reason_required")
    with tenant_context(user.tenant_id):
        drafts = list(_drafts(user, draft_ids).select_for_update())
        outcomes = _outcomes(user, drafts, decision)
        _record(user, decision, reason, [outcome for outcome in outcomes if outcome.decided])
    return outcomes


def _require_reviewer(user) -> None:
    if not (user.tenant_id and user.has_perm(REVIEW_PERMISSION)):
        raise PermissionDenied("You may not approve or reject drafts.")


def _drafts(user, draft_ids: Iterable[UUID | str]):
    return (
        tenant_rows(Draft, tenant_id=user.tenant_id)
        .filter(pk__in=_valid_uuids(draft_ids))
        .order_by("pk")
    )


def _valid_uuids(values: Iterable[UUID | str]) -> list[UUID]:
    valid = []
    for value in values:
        try:
            valid.append(value if isinstance(value, UUID) else UUID(str(value)))
        except ValueError:
            continue
    return valid


def _outcomes(user, drafts: list[Draft], decision: Decision) -> list[Outcome]:
    trails = reviews_by_draft(drafts=drafts)
    return [_outcome(user, draft, trails[draft.pk], decision) for draft in drafts]


def _outcome(user, draft: Draft, reviews: list[DraftReview], decision: Decision) -> Outcome:
    approvals = sum(review.decision == Decision.APPROVE for review in reviews)
    required = required_approvals(draft=draft)
    if skipped_because := _decision_refusal(user=user, draft=draft, reviews=reviews):
        return Outcome(draft, skipped_because, approvals=approvals, required=required)
    if decision == Decision.REJECT:
        return Outcome(
            draft, to_status=DraftStatus.REJECTED, approvals=approvals, required=required
        )
    approvals += 1
    to_status = DraftStatus.APPROVED if approvals >= required else DraftStatus.SUBMITTED
    return Outcome(draft, to_status=to_status, approvals=approvals, required=required)


def _record(user, decision: Decision, reason: str, decided: list[Outcome]) -> None:
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


# The only moves a person may make, and only on intents no provider settles by itself.
SETTLEMENT_TRANSITIONS = {
    SettlementStatus.QUEUED: (SettlementStatus.PROCESSING,),
    SettlementStatus.PROCESSING: (SettlementStatus.COMPLETED, SettlementStatus.FAILED),
}


class SettlementRefused(Exception):
    """A settlement move the rules do not allow; the message says why, for the person."""


def next_settlement_statuses(*, intent: SettlementIntent) -> tuple[str, ...]:
    """The statuses a person may move this intent to (none unless its provider is manual)."""
    if intent.provider != Provider.MANUAL:
        return ()
    return SETTLEMENT_TRANSITIONS.get(intent.settlement_status, ())


def move_settlement(*, user: User, payment_id: str, to_status: str, note: str) -> SettlementIntent:
    """Move a manual intent of the user's tenant to `to_status`, keeping the note in metadata.

    The row is locked first (SELECT ... FOR UPDATE), so of two people moving the
    same intent at once the second sees the first's status and is refused.
    """
    if not user.has_perm(SETTLE_PERMISSION):
        raise SettlementRefused("You may not settle intents.")
    note = note.strip()
    if not note:
        raise SettlementRefused("A note is required.")
    tenant_id = user.tenant_id or ""
    intents = selectors.tenant_rows(SettlementIntent, tenant_id=tenant_id)
    with tenant_context(tenant_id):
        intent = intents.select_for_update().filter(pk=payment_id).first()
        if intent is None:
            raise SettlementRefused(f"No settlement intent {payment_id}.")
        if to_status not in next_settlement_statuses(intent=intent):
            raise SettlementRefused(_settlement_refusal(intent, to_status))
        now = timezone.now()
        entry = {
            "note": note,
            "by": user.get_username(),
            "at": now.isoformat(),
            "from": intent.settlement_status,
            "to": to_status,
        }
        metadata = _with_note(intent, entry)
        intents.filter(pk=payment_id).update(
            settlement_status=to_status, updated_at=now, metadata=metadata
        )
    intent.settlement_status, intent.updated_at, intent.metadata = to_status, now, metadata
    return intent


def _with_note(intent: SettlementIntent, entry: dict) -> dict:
    """The metadata with the note appended to `notes`, never reshaping what Lynx AI wrote."""
    metadata = intent.metadata if intent.metadata is not None else {}
    if not isinstance(metadata, dict):
        raise SettlementRefused(
            f"{intent.payment_id}'s metadata is not a JSON object: the note cannot be kept."
        )
    notes = metadata.get("notes") or []
    if not isinstance(notes, list):
        raise SettlementRefused(
            f"{intent.payment_id}'s metadata.notes is not a list: the note cannot be kept."
        )
    return metadata | {"notes": [*notes, entry]}


def _settlement_refusal(intent: SettlementIntent, to_status: str) -> str:
    if intent.provider != Provider.MANUAL:
        return f"{intent.payment_id} is settled by {intent.get_provider_display()}, not by hand."
    return f"{intent.payment_id} is {intent.settlement_status}: it cannot move to {to_status}."


class ArchiveConflict(Exception):
    """Events whose ids the archive already holds: the batch was rolled back, nothing moved."""


def archive_audit_events_batch(*, tenant_id: str, older_than: datetime, batch_size: int) -> int:
    """Move up to `batch_size` of a tenant's oldest events created before `older_than`.

    Runs as the connecting (owner) role, outside any tenant context: archival is
    maintenance, not a tenant's request. Per tenant, so that the spec's
    (tenant_id, created_at) index finds the oldest rows without a scan. One
    statement in one transaction deletes and inserts together, so an interruption
    anywhere loses and duplicates nothing; SKIP LOCKED lets two runs share the
    work. An event whose id the archive already holds (restored by hand, say)
    would be deleted without its copy: the batch is rolled back instead, and
    ArchiveConflict says so. Returns how many events moved.
    """
    columns = ", ".join(field.column for field in AuditEvent._meta.concrete_fields)
    live, archive = AuditEvent._meta.db_table, ArchivedAuditEvent._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH moved AS (
                DELETE FROM {live} WHERE event_id IN (
                    SELECT event_id FROM {live} WHERE tenant_id = %s AND created_at < %s
                    ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED
                )
                RETURNING {columns}
            ), inserted AS (
                INSERT INTO {archive} ({columns}) SELECT {columns} FROM moved
                ON CONFLICT (event_id) DO NOTHING RETURNING 1
            )
            SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM inserted)
            """,
            [tenant_id, older_than, batch_size],
        )
        deleted, inserted = cursor.fetchone()
        if inserted != deleted:
            transaction.set_rollback(True)
            raise ArchiveConflict(
                f"{deleted - inserted} of {tenant_id}'s audit events are already in the "
                "archive under the same event_id; nothing was moved. Compare the two "
                "tables for these ids before archiving again."
            )
        return deleted

"""Moving manual settlement intents on by hand: which moves, who, and the note that records why.

Intents whose provider settles them by itself are never moved here. Each move
keeps the note in the intent's metadata (never reshaping what Lynx AI wrote)
and in Django's admin log, with the person and the time.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, LogEntry
from django.utils import timezone

from storage.actions import ActionRefused, Outcome, at_most
from storage.choices import Provider, SettlementStatus
from storage.models import SettlementIntent, User
from storage.roles import SETTLE_PERMISSION
from storage.rows import tenant_rows
from storage.tenancy import tenant_context

# The only moves a person may make, and only on intents no provider settles by itself.
SETTLEMENT_TRANSITIONS = {
    SettlementStatus.QUEUED: (SettlementStatus.PROCESSING,),
    SettlementStatus.PROCESSING: (SettlementStatus.COMPLETED, SettlementStatus.FAILED),
}


@dataclass(frozen=True)
class MoveOutcome(Outcome):
    """What a move does (or would do) to one intent, or why it leaves the intent alone."""

    to_status: str = ""

    @property
    def intent(self) -> SettlementIntent:
        return self.subject

    def change(self) -> str:
        return f"moved to {self.to_status}"


def next_settlement_statuses(*, intent: SettlementIntent) -> tuple[str, ...]:
    """The statuses a person may move this intent to (none unless its provider is manual)."""
    if intent.provider != Provider.MANUAL:
        return ()
    return SETTLEMENT_TRANSITIONS.get(intent.settlement_status, ())


def preview_settlement_moves(
    *, user: User, payment_ids: Sequence[str], to_status: str
) -> list[MoveOutcome]:
    """What `move_settlements()` would do now, for the confirmation page. Writes nothing."""
    _require_operator(user)
    with tenant_context(user.tenant_id):
        return [_outcome(intent, to_status) for intent in _intents(user, payment_ids)]


def move_settlements(
    *, user: User, payment_ids: Sequence[str], to_status: str, note: str
) -> list[MoveOutcome]:
    """Move the tenant's manual intents to `to_status` with the note; say how each went.

    The rows are locked first, in key order (SELECT ... FOR UPDATE): of two
    people moving the same intent at once the second waits, then sees the
    first's status and is told it cannot move. Unknown and other tenants' ids
    are ignored.
    """
    _require_operator(user)
    note = note.strip()
    if not note:
        raise ActionRefused("A note is required.", field="note")
    with tenant_context(user.tenant_id):
        outcomes = [
            _outcome(intent, to_status)
            for intent in _intents(user, payment_ids).select_for_update()
        ]
        now = timezone.now()
        moved = [_move(user, outcome, note, now) for outcome in outcomes if outcome.changes]
        for intent, entry in moved:
            LogEntry.objects.log_actions(
                user_id=user.pk,
                queryset=[intent],
                action_flag=CHANGE,
                change_message=f"Moved from {entry['from']} to {entry['to']}: {note}",
            )
    return outcomes


def _require_operator(user) -> None:
    if not (user.tenant_id and user.has_perm(SETTLE_PERMISSION)):
        raise ActionRefused("You may not settle intents.", forbidden=True)


def _intents(user, payment_ids: Sequence[str]):
    ids = [str(payment_id) for payment_id in at_most(payment_ids, noun="intents")]
    return tenant_rows(SettlementIntent, tenant_id=user.tenant_id).filter(pk__in=ids).order_by("pk")


def _outcome(intent: SettlementIntent, to_status: str) -> MoveOutcome:
    if to_status not in next_settlement_statuses(intent=intent):
        return MoveOutcome(intent, _refusal(intent, to_status))
    if reshaped := _metadata_refusal(intent):
        return MoveOutcome(intent, reshaped)
    return MoveOutcome(intent, to_status=to_status)


def _refusal(intent: SettlementIntent, to_status: str) -> str:
    if intent.provider != Provider.MANUAL:
        return f"it is settled by {intent.get_provider_display()}, not by hand"
    return f"it is {intent.settlement_status}: it cannot move to {to_status}"


def _metadata_refusal(intent: SettlementIntent) -> str:
    """Why the note cannot be kept without reshaping what Lynx AI wrote, or ""."""
    metadata = intent.metadata if intent.metadata is not None else {}
    if not isinstance(metadata, dict):
        return "its metadata is not a JSON object: the note cannot be kept"
    if not isinstance(metadata.get("notes") or [], list):
        return "its metadata.notes is not a list: the note cannot be kept"
    return ""


def _move(user, outcome: MoveOutcome, note: str, now) -> tuple[SettlementIntent, dict]:
    intent = outcome.intent
    entry = {
        "note": note,
        "by": user.get_username(),
        "at": now.isoformat(),
        "from": intent.settlement_status,
        "to": outcome.to_status,
    }
    metadata = intent.metadata or {}
    metadata = metadata | {"notes": [*(metadata.get("notes") or []), entry]}
    tenant_rows(SettlementIntent, tenant_id=user.tenant_id).filter(pk=intent.pk).update(
        settlement_status=outcome.to_status, updated_at=now, metadata=metadata
    )
    intent.settlement_status, intent.updated_at, intent.metadata = outcome.to_status, now, metadata
    return intent, entry

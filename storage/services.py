"""Writes. Each business rule of the portal lives here once; admin screens and commands call it."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from storage import selectors
from storage.choices import Provider, SettlementStatus
from storage.models import ArchivedAuditEvent, AuditEvent, SettlementIntent, User

# The only moves a person may make, and only on intents no provider settles by itself.
SETTLEMENT_TRANSITIONS = {
    SettlementStatus.QUEUED: (SettlementStatus.PROCESSING,),
    SettlementStatus.PROCESSING: (SettlementStatus.COMPLETED, SettlementStatus.FAILED),
}
SETTLE_PERMISSION = "storage.settle_intent"


class SettlementRefused(Exception):
    """A settlement move the rules do not allow; the message says why, for the person."""


def next_settlement_statuses(intent: SettlementIntent) -> tuple[str, ...]:
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
    intents = selectors.tenant_rows(SettlementIntent, tenant_id=user.tenant_id or "")
    with transaction.atomic():
        intent = intents.select_for_update().filter(pk=payment_id).first()
        if intent is None:
            raise SettlementRefused(f"No settlement intent {payment_id}.")
        if to_status not in next_settlement_statuses(intent):
            raise SettlementRefused(_refusal(intent, to_status))
        now = timezone.now()
        metadata = (
            intent.metadata if isinstance(intent.metadata, dict) else {"value": intent.metadata}
        )
        entry = {
            "note": note,
            "by": user.get_username(),
            "at": now.isoformat(),
            "from": intent.settlement_status,
            "to": to_status,
        }
        metadata = metadata | {"notes": [*metadata.get("notes", []), entry]}
        intents.filter(pk=payment_id).update(
            settlement_status=to_status, updated_at=now, metadata=metadata
        )
    intent.settlement_status, intent.updated_at, intent.metadata = to_status, now, metadata
    return intent


def _refusal(intent: SettlementIntent, to_status: str) -> str:
    if intent.provider != Provider.MANUAL:
        return f"{intent.payment_id} is settled by {intent.get_provider_display()}, not by hand."
    return f"{intent.payment_id} is {intent.settlement_status}: it cannot move to {to_status}."


@dataclass(frozen=True)
class ArchiveBatch:
    deleted: int
    inserted: int


def archive_audit_events_batch(
    *, tenant_id: str, older_than: datetime, batch_size: int
) -> ArchiveBatch:
    """Move up to `batch_size` of a tenant's oldest events created before `older_than`.

    Runs as the connecting (owner) role, outside any tenant context: archival is
    maintenance, not a tenant's request. Per tenant, so that the spec's
    (tenant_id, created_at) index finds the oldest rows without a scan. One
    statement in one transaction deletes and inserts together, so an interruption
    anywhere loses and duplicates nothing; SKIP LOCKED lets two runs share the
    work, and ON CONFLICT makes a re-run harmless.
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
        return ArchiveBatch(*cursor.fetchone())

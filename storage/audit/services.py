"""Archival: moving audit events past retention to their archive table, batch by batch."""

from datetime import datetime

from django.db import connection, transaction

from storage.actions import ActionRefused
from storage.models import ArchivedAuditEvent, AuditEvent


def archive_audit_events_batch(*, tenant_id: str, older_than: datetime, batch_size: int) -> int:
    """Move up to `batch_size` of a tenant's oldest events created before `older_than`.

    Runs as the connecting (owner) role, outside any tenant context: archival is
    maintenance, not a tenant's request. Per tenant, so that the spec's
    (tenant_id, created_at) index finds the oldest rows without a scan. One
    statement in one transaction deletes and inserts together, so an interruption
    anywhere loses and duplicates nothing; SKIP LOCKED lets two runs share the
    work. An event whose id the archive already holds (restored by hand, say)
    would be deleted without its copy: the batch is rolled back instead, and
    ActionRefused says so. Returns how many events moved.
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
            raise ActionRefused(
                f"{deleted - inserted} of {tenant_id}'s audit events are already in the "
                "archive under the same event_id; nothing was moved. Compare the two "
                "tables for these ids before archiving again."
            )
        return deleted

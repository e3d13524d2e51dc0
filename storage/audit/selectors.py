"""Reads of audit events: run timelines over live and archived events, and what archival moves."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import Q, QuerySet, TextField, Value

from storage.models import ArchivedAuditEvent, AuditEvent, AuditEventColumns, Execution
from storage.rows import OnRow, parse_uuid, tenant_rows

TIMELINE_MOST = 500


@dataclass(frozen=True)
class TimelineStep:
    event: AuditEventColumns
    archived: bool
    since_previous: timedelta | None


@dataclass(frozen=True)
class RunTimeline:
    run_id: str
    steps: list[TimelineStep]
    executions: list[Execution]
    truncated: bool  # the run has more than TIMELINE_MOST events; the first ones are shown

    @property
    def duration(self) -> timedelta:
        return self.steps[-1].event.created_at - self.steps[0].event.created_at


def run_timeline(*, tenant_id: str, run_id: str) -> RunTimeline | None:
    """A run's events, live and archived, in order, and the executions they name; None if none.

    Events name what they touched in their input or output (`execution_id`,
    `draft_id`, `request_id`); the run id may itself be the request id.
    """
    live, archived = (
        tenant_rows(model, tenant_id=tenant_id)
        .filter(run_id=run_id)
        .annotate(archived=Value(in_archive))
        .order_by("created_at", "event_id")[: TIMELINE_MOST + 1]
        for model, in_archive in ((AuditEvent, False), (ArchivedAuditEvent, True))
    )
    # One statement for both tables (UNION ALL): an archived event comes back as an AuditEvent
    # of the same columns, `archived` saying where it is kept.
    events = [(event, event.archived) for event in live.union(archived, all=True)]
    if not events:
        return None
    events.sort(key=lambda pair: (pair[0].created_at, str(pair[0].pk)))
    truncated = len(events) > TIMELINE_MOST
    events = events[:TIMELINE_MOST]
    steps, previous = [], None
    for event, archived in events:
        gap = event.created_at - previous if previous else None
        steps.append(TimelineStep(event, archived, gap))
        previous = event.created_at
    touched = _named_ids([e for e, _ in events])
    executions = tenant_rows(Execution, tenant_id=tenant_id).filter(
        Q(pk__in=touched["execution_id"])
        | Q(draft_id__in=touched["draft_id"])
        | Q(request_id__in=touched["request_id"] | {run_id})
    )
    return RunTimeline(run_id, steps, list(executions.order_by("created_at")), truncated)


def _named_ids(events: Iterable[AuditEventColumns]) -> dict[str, set]:
    named = {"execution_id": set(), "draft_id": set(), "request_id": set()}
    for event in events:
        for data in (event.input_data, event.output_data):
            if not isinstance(data, dict):
                continue
            for key, ids in named.items():
                value = data.get(key)
                if isinstance(value, str) and value:
                    ids.add(value)
    for key in ("execution_id", "draft_id"):
        named[key] = {parsed for value in named[key] if (parsed := parse_uuid(value=value))}
    return named


# The run ids an execution names, its `source_context.run_id` (when that is text) and its request
# id, that have events in `{table}`: each looked up in its (tenant_id, run_id) index.
RUNS_NAMED_IN = (
    'SELECT named.run_id FROM (VALUES (CASE WHEN jsonb_typeof({{row}}."source_context" -> '
    "'run_id') = 'string' THEN {{row}}.\"source_context\" ->> 'run_id' END), "
    '({{row}}."request_id")) named(run_id) WHERE EXISTS (SELECT FROM {table} event '
    'WHERE event.tenant_id = {{row}}."tenant_id" AND event.run_id = named.run_id)'
)
AUDIT_RUNS = OnRow(
    "ARRAY({} UNION {})".format(  # UNION drops the duplicates
        *(
            RUNS_NAMED_IN.format(table=model._meta.db_table)
            for model in (AuditEvent, ArchivedAuditEvent)
        )
    ),
    ArrayField(TextField()),
)


def with_audit_runs(*, executions: QuerySet) -> QuerySet:
    """Annotate `audit_runs`: the audit runs each execution belongs to, live or archived, read
    by the execution's own statement (one round trip fewer on its page)."""
    return executions.annotate(audit_runs=AUDIT_RUNS)


# Archival: across tenants, as the connecting (owner) role, on purpose.


def audit_event_tenants() -> list[str]:
    """Every tenant with live audit events, by a skip scan of the (tenant_id) index."""
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE tenants AS (
                SELECT min(tenant_id) AS tenant_id FROM {table}
                UNION ALL
                SELECT (SELECT min(tenant_id) FROM {table} WHERE tenant_id > tenants.tenant_id)
                FROM tenants WHERE tenants.tenant_id IS NOT NULL
            )
            SELECT tenant_id FROM tenants WHERE tenant_id IS NOT NULL
            """
        )
        return [row[0] for row in cursor.fetchall()]


def archivable_events(*, tenant_id: str, older_than: datetime) -> QuerySet:
    """A tenant's live audit events created before `older_than`."""
    return tenant_rows(AuditEvent, tenant_id=tenant_id).filter(created_at__lt=older_than)

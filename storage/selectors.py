"""Reads. Every query on a tenant table goes through here and names its tenant.

RLS already hides other tenants' rows; the explicit `tenant_id` filter is
defence in depth, and it lets the planner use the spec's `(tenant_id, ...)`
indexes. The two exceptions, for archival, say so.
"""

import json
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.db import connection
from django.db.models import Count, Exists, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from storage.choices import (
    Decision,
    DraftStatus,
    EventType,
    ExecutionStatus,
    RiskLevel,
    SettlementStatus,
)
from storage.models import (
    ArchivedAuditEvent,
    AuditEvent,
    AuditEventColumns,
    Draft,
    DraftReview,
    Execution,
    SettlementIntent,
    User,
)
from storage.tenancy import tenant_context

EXPORT_CHUNK_ROWS = 2000


def tenant_rows(model: type[Model], *, tenant_id: str) -> QuerySet:
    """All of `model`'s rows of one tenant; none at all without a tenant."""
    if not tenant_id:
        return model.objects.none()
    return model.objects.filter(tenant_id=tenant_id)


def reviewer_identities(*, user: User) -> set[str]:
    """The names `user` may appear under in `created_by`: username and email, case-folded."""
    return {name.casefold() for name in (user.username, user.email) if name}


def with_approval_counts(*, drafts: QuerySet) -> QuerySet:
    """Annotate `approval_count`, in the same query: the list page's query count stays constant."""
    approvals = (
        DraftReview.objects.filter(
            tenant_id=OuterRef("tenant_id"), draft=OuterRef("pk"), decision=Decision.APPROVE
        )
        .order_by()
        .values("draft")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return drafts.annotate(approval_count=Coalesce(Subquery(approvals), 0))


def awaiting_review(*, drafts: QuerySet, user: User) -> QuerySet:
    """Submitted drafts that list `user` as an approver, not made by them, not yet decided by them.

    `recommended_approvers` match the username or email exactly; `created_by`
    matches either case-insensitively, as the maker-checker rule does.
    """
    names = [name for name in (user.username, user.email) if name]
    decided_by_user = DraftReview.objects.filter(
        tenant_id=OuterRef("tenant_id"), draft=OuterRef("pk"), reviewer=user
    )
    made_by_user = Q()
    for name in names:
        made_by_user |= Q(created_by__iexact=name)
    return (
        drafts.filter(status=DraftStatus.SUBMITTED, recommended_approvers__overlap=names)
        .exclude(made_by_user)
        .exclude(Exists(decided_by_user))
    )


def reviews_by_draft(*, drafts: list[Draft]) -> dict[UUID, list[DraftReview]]:
    """Each draft's decision trail, newest first, in one query."""
    trails = {draft.pk: [] for draft in drafts}
    if drafts:
        reviews = DraftReview.objects.filter(
            tenant_id=drafts[0].tenant_id, draft__in=list(trails)
        ).select_related("reviewer")
        for review in reviews.order_by("-created_at"):
            trails[review.draft_id].append(review)
    return trails


def tenant_users(*, tenant_id: str) -> QuerySet:
    """The portal users of one tenant (storage_user has no RLS: the filter is the isolation)."""
    if not tenant_id:
        return User.objects.none()
    return User.objects.filter(tenant_id=tenant_id).order_by("username")


SHORT_DRAFT_ID = re.compile(r"[0-9a-f]{8}")
DRAFT_ID_LIKE = re.compile(r"[0-9a-f-]{32,36}")


def search_drafts(*, drafts: QuerySet, term: str) -> QuerySet:
    """Exact matches through indexes, never a scan of JSON: draft id, request_id, created_by.

    A draft id may be whole or the 8-character short id the lists show (a range
    on the primary key). A term shaped like a draft id that is not one raises
    ValueError with a message for the user.
    """
    term = term.strip()
    if not term:
        return drafts
    matches = Q(request_id=term) | Q(created_by=term)
    lowered = term.lower()
    if SHORT_DRAFT_ID.fullmatch(lowered):
        matches |= Q(pk__gte=UUID(lowered + "0" * 24), pk__lte=UUID(lowered + "f" * 24))
    elif DRAFT_ID_LIKE.fullmatch(lowered):
        try:
            matches |= Q(pk=UUID(lowered))
        except ValueError:
            raise ValueError(
                f"“{term}” is not a valid draft id: give all 36 characters or the first 8."
            ) from None
    return drafts.filter(matches)


def estimated_count(*, queryset: QuerySet) -> int:
    """The planner's row estimate for the queryset: costs a plan, never a scan."""
    if queryset.query.is_empty():
        return 0
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def export_rows(*, queryset: QuerySet, columns: list[str], tenant_id: str) -> Iterator[tuple]:
    """The queryset's rows as tuples of `columns`, read in chunks through a server-side cursor.

    A streamed response is consumed after the request's transaction has ended,
    so the rows are read in a tenant context of their own: as the RLS role,
    whatever the queryset's filters.
    """
    with tenant_context(tenant_id):
        yield from queryset.values_list(*columns).iterator(chunk_size=EXPORT_CHUNK_ROWS)


# The dashboard.


@dataclass(frozen=True)
class DayCounts:
    day: date
    by_status: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    awaiting_review: dict[str, int]  # submitted drafts by risk level
    awaiting_me: int
    executions_last_day: dict[str, int]  # by status
    stuck_settlements: int
    latest_refusals: list[AuditEvent]
    days: list[DayCounts]

    @property
    def last_day_since(self) -> datetime:
        return self.now - LAST_DAY

    @property
    def stuck_since(self) -> datetime:
        return self.now - STUCK_AFTER


LAST_DAY = timedelta(hours=24)
STUCK_AFTER = timedelta(hours=1)
CHART_DAYS = 14
REFUSALS_SHOWN = 5
REFUSALS_WINDOW = timedelta(days=7)  # bounds the index scan when refusals are rare


def dashboard(*, tenant_id: str, user: User, now: datetime) -> Dashboard:
    """The dashboard's numbers: six queries, each on one of the spec's (tenant_id, ...) indexes."""
    drafts = tenant_rows(Draft, tenant_id=tenant_id).filter(status=DraftStatus.SUBMITTED)
    executions = tenant_rows(Execution, tenant_id=tenant_id)
    first_day = timezone.localdate(now) - timedelta(days=CHART_DAYS - 1)
    return Dashboard(
        now=now,
        awaiting_review=_counts(drafts, "risk_level", RiskLevel.values),
        awaiting_me=awaiting_review(drafts=drafts, user=user).count(),
        executions_last_day=_counts(
            executions.filter(created_at__gte=now - LAST_DAY), "status", ExecutionStatus.values
        ),
        stuck_settlements=tenant_rows(SettlementIntent, tenant_id=tenant_id)
        .filter(settlement_status=SettlementStatus.PROCESSING, updated_at__lt=now - STUCK_AFTER)
        .count(),
        latest_refusals=list(
            tenant_rows(AuditEvent, tenant_id=tenant_id)
            .filter(event_type=EventType.REFUSAL, created_at__gte=now - REFUSALS_WINDOW)
            .order_by("-created_at")[:REFUSALS_SHOWN]
        ),
        days=_daily_executions(executions, first_day=first_day),
    )


def _counts(queryset: QuerySet, column: str, values: list[str]) -> dict[str, int]:
    found = dict(queryset.order_by().values_list(column).annotate(n=Count("*")))
    return {value: found.get(value, 0) for value in values}


def _daily_executions(executions: QuerySet, *, first_day: date) -> list[DayCounts]:
    rows = (
        # Days in TIME_ZONE, as TruncDate and the date-range filter count them.
        executions.filter(
            created_at__gte=timezone.make_aware(datetime.combine(first_day, time.min))
        )
        .annotate(day=TruncDate("created_at"))
        .order_by()
        .values_list("day", "status")
        .annotate(n=Count("*"))
    )
    found = {(day, status): n for day, status, n in rows}
    return [
        DayCounts(day, {s: found.get((day, s), 0) for s in ExecutionStatus.values})
        for day in (first_day + timedelta(days=i) for i in range(CHART_DAYS))
    ]


# Run timelines.


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
    events = [
        (event, archived)
        for model, archived in ((AuditEvent, False), (ArchivedAuditEvent, True))
        for event in tenant_rows(model, tenant_id=tenant_id)
        .filter(run_id=run_id)
        .order_by("created_at", "event_id")[: TIMELINE_MOST + 1]
    ]
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


def parse_uuid(*, value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip())
    except (ValueError, AttributeError):
        return None


def runs_of_execution(*, execution: Execution) -> list[str]:
    """The audit runs an execution belongs to: its `source_context.run_id` or its request id."""
    context = execution.source_context if isinstance(execution.source_context, dict) else {}
    candidates = {c for c in (context.get("run_id"), execution.request_id) if isinstance(c, str)}
    if not candidates:
        return []
    found = set()
    for model in (AuditEvent, ArchivedAuditEvent):
        events = tenant_rows(model, tenant_id=execution.tenant_id).filter(run_id__in=candidates)
        found |= set(events.order_by().values_list("run_id", flat=True).distinct())
    return sorted(found)


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

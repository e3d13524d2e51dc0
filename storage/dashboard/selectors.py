"""The dashboard's numbers for one tenant, in one statement whose every read is on a
(tenant_id, ...) index."""

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from urllib.parse import quote

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from storage.choices import DraftStatus, EventType, ExecutionStatus, RiskLevel, SettlementStatus
from storage.models import AuditEvent, Draft, Execution, SettlementIntent, User
from storage.review.selectors import awaiting_review
from storage.roles import REVIEW_PERMISSION
from storage.rows import tenant_rows

LAST_DAY = timedelta(hours=24)
STUCK_AFTER = timedelta(hours=1)
CHART_DAYS = 14
REFUSALS_SHOWN = 5
REFUSALS_WINDOW = timedelta(days=7)  # bounds the index scan when refusals are rare
# Executions finish within minutes, so a past day's figures settle soon after it ends.
PAST_DAYS_CACHED_FOR = 600


@dataclass(frozen=True)
class DayCounts:
    day: date
    by_status: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True)
class Refusal:
    """What the dashboard shows of a refusal audit event."""

    run_id: str | None
    created_at: datetime
    error_message: str | None
    tool_id: str | None


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    awaiting_review: dict[str, int]  # submitted drafts by risk level
    oldest_waiting: datetime | None  # when the submitted draft that waits longest was created
    awaiting_me: int | None  # None for people who review nothing
    executions_last_day: dict[str, int]  # by status
    stuck_settlements: int
    latest_refusals: list[Refusal]  # newest first
    days: list[DayCounts]

    @property
    def last_day_since(self) -> datetime:
        return self.now - LAST_DAY

    @property
    def stuck_since(self) -> datetime:
        return self.now - STUCK_AFTER


def dashboard(*, tenant_id: str, user: User, now: datetime) -> Dashboard:
    """The dashboard's numbers for a tenant (not none): five reads in one statement (four for
    people who review nothing, who have no queue of their own)."""
    drafts = tenant_rows(Draft, tenant_id=tenant_id).filter(status=DraftStatus.SUBMITTED)
    chart = _Chart(tenant_id=tenant_id, today=timezone.localdate(now), since=now - LAST_DAY)
    reads = {
        "by_risk": _rows(
            drafts.order_by().values("risk_level").annotate(n=Count("*"), oldest=Min("created_at"))
        ),
        "executions": _rows(chart.executions(tenant_rows(Execution, tenant_id=tenant_id))),
        "stuck_settlements": _count(
            tenant_rows(SettlementIntent, tenant_id=tenant_id).filter(
                settlement_status=SettlementStatus.PROCESSING, updated_at__lt=now - STUCK_AFTER
            )
        ),
        "refusals": _rows(
            tenant_rows(AuditEvent, tenant_id=tenant_id)
            .filter(event_type=EventType.REFUSAL, created_at__gte=now - REFUSALS_WINDOW)
            .order_by("-created_at")
            .values(*(field.name for field in fields(Refusal)))[:REFUSALS_SHOWN]
        ),
    }
    if user.has_perm(REVIEW_PERMISSION):
        reads["awaiting_me"] = _count(awaiting_review(drafts=drafts, user=user))
    found = _in_one_statement(reads)
    by_risk = {row["risk_level"]: row for row in found["by_risk"]}
    days, last_day = chart.days(found["executions"])
    refusals = [
        Refusal(**{**row, "created_at": parse_datetime(row["created_at"])})
        for row in found["refusals"]
    ]
    return Dashboard(
        now=now,
        awaiting_review={
            risk: by_risk[risk]["n"] if risk in by_risk else 0 for risk in RiskLevel.values
        },
        oldest_waiting=min((parse_datetime(r["oldest"]) for r in by_risk.values()), default=None),
        awaiting_me=found.get("awaiting_me"),
        executions_last_day=last_day,
        stuck_settlements=found["stuck_settlements"],
        latest_refusals=sorted(refusals, key=lambda refusal: refusal.created_at, reverse=True),
        days=days,
    )


class _Chart:
    """Executions per day and status over the chart's days, and by status over the last
    24 hours (`since`, which lies within the chart's days): one grouped read serves both.

    The days before today are then kept for PAST_DAYS_CACHED_FOR seconds, per tenant:
    until then only the last 24 hours are read, today's bar among them.
    """

    def __init__(self, *, tenant_id: str, today: date, since: datetime) -> None:
        self.today, self.since = today, since
        self.first_day = today - timedelta(days=CHART_DAYS - 1)
        self.key = f"dashboard-past-days:{quote(tenant_id)}:{self.first_day.isoformat()}"
        self.past = cache.get(self.key)

    def executions(self, executions: QuerySet) -> QuerySet:
        start = (
            self.since
            if self.past is not None
            else timezone.make_aware(datetime.combine(self.first_day, time.min))
        )
        return (
            # Days in TIME_ZONE, as TruncDate and the date-range filter count them.
            executions.filter(created_at__gte=start)
            .annotate(day=TruncDate("created_at"))
            .order_by()
            .values("day", "status")
            .annotate(n=Count("*"), recent=Count("pk", filter=Q(created_at__gte=self.since)))
        )

    def days(self, rows: list[dict]) -> tuple[list[DayCounts], dict[str, int]]:
        """The chart's days and the last 24 hours by status, from the rows `executions` read."""
        found, last_day = {}, dict.fromkeys(ExecutionStatus.values, 0)
        for row in rows:
            status = row["status"]
            found[parse_date(row["day"]), status] = row["n"]
            last_day[status] = last_day.get(status, 0) + row["recent"]
        if self.past is None:
            past = {k: n for k, n in found.items() if k[0] < self.today}
            cache.set(self.key, past, PAST_DAYS_CACHED_FOR)
        else:
            found = self.past | {k: n for k, n in found.items() if k[0] == self.today}
        days = [
            DayCounts(day, {s: found.get((day, s), 0) for s in ExecutionStatus.values})
            for day in (self.first_day + timedelta(days=i) for i in range(CHART_DAYS))
        ]
        return days, last_day


# One statement for several reads: a round trip and a statement's overhead, not one per read.


def _rows(queryset: QuerySet) -> tuple[str, tuple]:
    """A read of the queryset's rows: a JSON array of objects, one key per column."""
    sql, params = queryset.query.sql_with_params()
    return f"(SELECT coalesce(json_agg(q), '[]') FROM ({sql}) AS q)", params


def _count(queryset: QuerySet) -> tuple[str, tuple]:
    """A read of how many rows the queryset has (the same plan as its `count()`)."""
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    return f"(SELECT count(*) FROM ({sql}) AS q)", params


def _in_one_statement(reads: dict[str, tuple[str, tuple]]) -> dict:
    """Each read's value (`_rows`, `_count`) by name, from one SELECT."""
    columns = ", ".join(
        f"{sql} AS {connection.ops.quote_name(name)}" for name, (sql, _) in reads.items()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}", [p for _, params in reads.values() for p in params])
        return dict(zip(reads, cursor.fetchone(), strict=True))

"""The dashboard's numbers for one tenant, each query on a (tenant_id, ...) index."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import quote

from django.core.cache import cache
from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

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
class Dashboard:
    now: datetime
    awaiting_review: dict[str, int]  # submitted drafts by risk level
    oldest_waiting: datetime | None  # when the submitted draft that waits longest was created
    awaiting_me: int | None  # None for people who review nothing
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


def dashboard(*, tenant_id: str, user: User, now: datetime) -> Dashboard:
    """The dashboard's numbers: five queries (four for non-reviewers, who have no queue of
    their own), each on one of the spec's (tenant_id, ...) indexes."""
    drafts = tenant_rows(Draft, tenant_id=tenant_id).filter(status=DraftStatus.SUBMITTED)
    executions = tenant_rows(Execution, tenant_id=tenant_id)
    first_day = timezone.localdate(now) - timedelta(days=CHART_DAYS - 1)
    by_risk, oldest_waiting = _awaiting_review(drafts)
    days, last_day = _daily_executions(
        executions, tenant_id=tenant_id, first_day=first_day, since=now - LAST_DAY
    )
    return Dashboard(
        now=now,
        awaiting_review=by_risk,
        oldest_waiting=oldest_waiting,
        awaiting_me=awaiting_review(drafts=drafts, user=user).count()
        if user.has_perm(REVIEW_PERMISSION)
        else None,
        executions_last_day=last_day,
        stuck_settlements=tenant_rows(SettlementIntent, tenant_id=tenant_id)
        .filter(settlement_status=SettlementStatus.PROCESSING, updated_at__lt=now - STUCK_AFTER)
        .count(),
        latest_refusals=list(
            tenant_rows(AuditEvent, tenant_id=tenant_id)
            .filter(event_type=EventType.REFUSAL, created_at__gte=now - REFUSALS_WINDOW)
            .order_by("-created_at")[:REFUSALS_SHOWN]
        ),
        days=days,
    )


def _awaiting_review(drafts: QuerySet) -> tuple[dict[str, int], datetime | None]:
    """Submitted drafts by risk level and the oldest one's creation, in one grouped query."""
    found = {
        risk: (n, oldest)
        for risk, n, oldest in drafts.order_by()
        .values_list("risk_level")
        .annotate(n=Count("*"), oldest=Min("created_at"))
    }
    counts = {risk: found.get(risk, (0, None))[0] for risk in RiskLevel.values}
    return counts, min((oldest for _, oldest in found.values()), default=None)


def _daily_executions(
    executions: QuerySet, *, tenant_id: str, first_day: date, since: datetime
) -> tuple[list[DayCounts], dict[str, int]]:
    """Executions per day and status since `first_day`, and by status since `since`.

    One grouped scan serves both (`since`, 24 hours ago, lies within the chart's days).
    The days before today are then kept for PAST_DAYS_CACHED_FOR seconds, per tenant:
    until then only the last 24 hours are read, today's bar among them.
    """
    today = first_day + timedelta(days=CHART_DAYS - 1)
    key = f"dashboard-past-days:{quote(tenant_id)}:{first_day.isoformat()}"
    past = cache.get(key)
    start = (
        since if past is not None else timezone.make_aware(datetime.combine(first_day, time.min))
    )
    rows = (
        # Days in TIME_ZONE, as TruncDate and the date-range filter count them.
        executions.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .order_by()
        .values_list("day", "status")
        .annotate(n=Count("*"), recent=Count("pk", filter=Q(created_at__gte=since)))
    )
    found, last_day = {}, dict.fromkeys(ExecutionStatus.values, 0)
    for day, status, n, recent in rows:
        found[day, status] = n
        last_day[status] = last_day.get(status, 0) + recent
    if past is None:
        cache.set(key, {k: n for k, n in found.items() if k[0] < today}, PAST_DAYS_CACHED_FOR)
    else:
        found = past | {k: n for k, n in found.items() if k[0] == today}
    days = [
        DayCounts(day, {s: found.get((day, s), 0) for s in ExecutionStatus.values})
        for day in (first_day + timedelta(days=i) for i in range(CHART_DAYS))
    ]
    return days, last_day

"""The dashboard on the admin index: the selectors' numbers, each linked to its filtered list."""

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from storage.admin.chart import executions_chart
from storage.choices import DraftStatus, EventType, ExecutionStatus, RiskLevel, SettlementStatus
from storage.dashboard.selectors import dashboard
from storage.moments import format_wait
from storage.roles import REVIEW_PERMISSION

ALERT_STATUSES = {ExecutionStatus.FAILED, ExecutionStatus.DENIED}


@dataclass(frozen=True)
class Number:
    label: str
    count: int
    url: str | None  # None when the person may not open the list
    alert: bool = False


def dashboard_context(request) -> dict:
    if not request.tenant_id:
        return {"dashboard": None}
    # Whole seconds, so that a link's bounds select exactly the rows that were counted.
    now = timezone.now().replace(microsecond=0)
    data = dashboard(tenant_id=request.tenant_id, user=request.user, now=now)
    links = _Links(request.user)
    submitted = {"status": DraftStatus.SUBMITTED}
    return {
        "dashboard": {
            "awaiting_review": [
                Number(
                    RiskLevel(risk).label,
                    data.awaiting_review[risk],
                    links.to("draft", **submitted, risk_level__exact=risk),
                    alert=risk == RiskLevel.HIGH and data.awaiting_review[risk] > 0,
                )
                for risk in reversed(RiskLevel.values)
            ],
            "oldest_wait": format_wait(now - data.oldest_waiting) if data.oldest_waiting else "",
            "oldest_wait_url": links.to("draft", **submitted),
            # Only reviewers have a queue of their own.
            "awaiting_me": Number("Awaiting me", data.awaiting_me, links.to("draft", awaiting="me"))
            if request.user.has_perm(REVIEW_PERMISSION)
            else None,
            "executions_last_day": [
                Number(
                    ExecutionStatus(status).label,
                    count,
                    links.to(
                        "execution",
                        status__exact=status,
                        created_at_from=data.last_day_since.isoformat(),
                    ),
                    alert=status in ALERT_STATUSES and count > 0,
                )
                for status, count in data.executions_last_day.items()
            ],
            "stuck_settlements": Number(
                "Processing for over an hour",
                data.stuck_settlements,
                links.to(
                    "settlementintent",
                    settlement_status__exact=SettlementStatus.PROCESSING,
                    updated_at_to=data.stuck_since.isoformat(),
                ),
                alert=data.stuck_settlements > 0,
            ),
            "may_view": {
                name: request.user.has_perm(f"storage.view_{name}")
                for name in ("draft", "execution", "settlementintent", "auditevent")
            },
            "refusals": data.latest_refusals,
            "refusals_url": links.to("auditevent", event_type__exact=EventType.REFUSAL),
            "chart": executions_chart(data.days, url_for=links.day_of_executions),
            "days": data.days,
        }
    }


class _Links:
    def __init__(self, user) -> None:
        self.user = user
        self.lists: dict[str, str | None] = {}

    def to(self, model_name: str, **params) -> str | None:
        """A link to the list of `model_name` with `params`, if the person may see it. The chart
        asks for about 90: the permission and the list's URL are looked up once each."""
        if model_name not in self.lists:
            may_see = self.user.has_perm(f"storage.view_{model_name}")
            self.lists[model_name] = (
                reverse(f"admin:storage_{model_name}_changelist") if may_see else None
            )
        changelist = self.lists[model_name]
        return None if changelist is None else f"{changelist}?{urlencode(params)}"

    def day_of_executions(self, day: date, status: str | None) -> str | None:
        params = {"created_at_from": day.isoformat(), "created_at_to": day.isoformat()}
        return self.to("execution", **params, **({"status__exact": status} if status else {}))

"""Loading the demo data: the one place that writes it, in one transaction.

It runs as the connecting (owner) role across tenants on purpose: the RLS role that
requests run as may not insert into the spec tables, and one load fills every tenant.
Rows that exist are left untouched, so a second load changes nothing.
"""

from dataclasses import dataclass

from django.db import models, transaction
from django.utils import timezone

from demo.accounts import TENANTS, ensure_users, tenant_rows
from demo.generator import generate_rows
from storage.models import AuditEvent, Draft, Execution, SettlementIntent, Tenant


@dataclass(frozen=True)
class DemoSummary:
    """How many rows of each kind this load created (all zero when the data was there)."""

    tenants: int
    users: int
    drafts: int
    executions: int
    settlement_intents: int
    audit_events: int


def load_demo_data(*, password: str) -> DemoSummary:
    """Create whatever of the demo tenants, users and rows is missing."""
    now = timezone.now()
    generated = [generate_rows(tenant_id, now=now) for tenant_id in TENANTS]
    with transaction.atomic():
        return DemoSummary(
            tenants=_insert(Tenant, tenant_rows()),
            users=ensure_users(password=password),
            drafts=_insert(Draft, [row for rows in generated for row in rows.drafts]),
            executions=_insert(Execution, [row for rows in generated for row in rows.executions]),
            settlement_intents=_insert(
                SettlementIntent, [row for rows in generated for row in rows.settlement_intents]
            ),
            audit_events=_insert(
                AuditEvent, [row for rows in generated for row in rows.audit_events]
            ),
        )


def _insert(model: type[models.Model], rows: list[models.Model]) -> int:
    """Insert the rows that are missing, leave the others untouched; return how many were new."""
    before = model._default_manager.count()
    model._default_manager.bulk_create(rows, ignore_conflicts=True)
    return model._default_manager.count() - before

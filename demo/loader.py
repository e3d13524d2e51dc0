"""Loading the demo data: the one place that writes it, in one transaction.

It runs as the connecting (owner) role across tenants on purpose: the RLS role that
requests run as may not insert into the spec tables, and one load fills every tenant.
Rows that exist are left untouched, so a second load changes nothing.
"""

from dataclasses import dataclass

from django.db import models, transaction
from django.utils import timezone

from demo.accounts import (
    TENANT_ROLES,
    TENANTS,
    ensure_approval_rules,
    ensure_users,
    tenant_rows,
    tenant_username,
)
from demo.decisions import Reviewer, demo_decisions
from demo.generator import SEED, generate_rows
from storage.models import (
    AuditEvent,
    Draft,
    DraftReview,
    Execution,
    SettlementIntent,
    Tenant,
    User,
)
from storage.review.content import ContentFingerprint
from storage.review.rules import tenant_rules
from storage.roles import REVIEWERS


@dataclass(frozen=True)
class DemoSummary:
    """How many rows of each kind this load created (all zero when the data was there)."""

    tenants: int
    users: int
    drafts: int
    executions: int
    settlement_intents: int
    audit_events: int
    approval_rules: int
    decisions: int


def load_demo_data(*, password: str) -> DemoSummary:
    """Create whatever of the demo tenants, users, rules, rows and decisions is missing."""
    now = timezone.now()
    generated = [generate_rows(tenant_id, now=now) for tenant_id in TENANTS]
    with transaction.atomic():
        tenants = _insert(Tenant, tenant_rows())
        users = ensure_users(password=password)
        rules = ensure_approval_rules()
        # Decided on first: one approved payment is changed after its approval.
        decisions = [
            review
            for rows in generated
            for review in demo_decisions(
                rows.drafts,
                reviewers=_reviewers(rows.drafts[0].tenant_id),
                rules=tenant_rules(tenant_id=rows.drafts[0].tenant_id),
                now=now,
                seed=SEED,
            )
        ]
        summary = DemoSummary(
            tenants=tenants,
            users=users,
            drafts=_insert(Draft, [row for rows in generated for row in rows.drafts]),
            executions=_insert(Execution, [row for rows in generated for row in rows.executions]),
            settlement_intents=_insert(
                SettlementIntent, [row for rows in generated for row in rows.settlement_intents]
            ),
            audit_events=_insert(
                AuditEvent, [row for rows in generated for row in rows.audit_events]
            ),
            approval_rules=rules,
            decisions=_insert(DraftReview, decisions),
        )
        # The fingerprint of each decision's snapshot, as the portal computes it.
        DraftReview.objects.filter(fingerprint="").update(fingerprint=ContentFingerprint())
        return summary


def _reviewers(tenant_id: str) -> list[Reviewer]:
    """The tenant's demo reviewers, with their groups (the rules may ask for one)."""
    names = [
        tenant_username(tenant_id, role)
        for role, groups in TENANT_ROLES.items()
        if REVIEWERS in groups
    ]
    users = User.objects.filter(username__in=names).prefetch_related("groups").order_by("username")
    return [Reviewer(user, frozenset(group.pk for group in user.groups.all())) for user in users]


def _insert(model: type[models.Model], rows: list[models.Model]) -> int:
    """Insert the rows that are missing, leave the others untouched; return how many were new."""
    before = model._default_manager.count()
    model._default_manager.bulk_create(rows, ignore_conflicts=True)
    return model._default_manager.count() - before

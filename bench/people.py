"""The tenants, the people the benchmark signs in as, their decision trail and approve pool.

The benchmark measures two tenants: the largest (rank 1, ~20% of every table) and the
median (rank 50). In each it signs in as a reviewer (Reviewers: approves a low-risk draft
alone under the default rule, storage/review/rules.py), an auditor (Auditors: sees and
exports everything) and an operator (Settlement operators). Drafts name
`<tenant>-reviewer` and `<tenant>-reviewer2` as recommended approvers, so the reviewer's
"awaiting me" holds about half of the submitted queue.
"""

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection

from bench import seed_sql
from storage.models import Tenant, User
from storage.roles import AUDITORS, REVIEWERS, SETTLEMENT_OPERATORS, ensure_groups

PASSWORD = "lynx-bench-password"
MEASURED = {"largest": 1, "median": seed_sql.TENANTS // 2}
ROLES = {
    "reviewer": REVIEWERS,
    "reviewer2": REVIEWERS,
    "auditor": AUDITORS,
    "operator": SETTLEMENT_OPERATORS,
}
# Submitted low-risk drafts made by someone else, for approve-50 runs.
APPROVE_POOL = 300
POOL_MAKER = "bench-maker@example.com"
TRAIL_DAYS = 30


@dataclass(frozen=True)
class MeasuredTenant:
    label: str  # "largest" or "median"
    tenant_id: str

    def username(self, role: str) -> str:
        return f"{self.tenant_id}-{role}"


def measured_tenants() -> list[MeasuredTenant]:
    return [MeasuredTenant(label, seed_sql.tenant_id(rank)) for label, rank in MEASURED.items()]


def create_people() -> None:
    """Every tenant, and the measured tenants' people in their groups (idempotent)."""
    ensure_groups()
    Tenant.objects.bulk_create(
        [
            Tenant(tenant_id=seed_sql.tenant_id(rank), name=f"Tenant {rank:03d}")
            for rank in range(1, seed_sql.TENANTS + 1)
        ],
        ignore_conflicts=True,
    )
    password = make_password(PASSWORD)
    groups = {group.name: group for group in Group.objects.filter(name__in=ROLES.values())}
    for tenant in measured_tenants():
        for role, group in ROLES.items():
            user, _ = User.objects.update_or_create(
                username=tenant.username(role),
                defaults={
                    "tenant_id": tenant.tenant_id,
                    "is_staff": True,
                    "password": password,
                    "email": f"{tenant.username(role)}@example.com",
                },
            )
            user.groups.set([groups[group]])


def add_approve_pool(*, tenant_id: str, count: int) -> None:
    """`count` submitted low-risk docs drafts awaiting the tenant's reviewer, made a minute
    ago by someone else: one approval each approves them."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO lynx_drafts (tenant_id, draft_type, payload, status, risk_level,
                created_by, created_at, source_context, recommended_approvers, request_id)
            SELECT %(tenant)s, 'docs',
                   jsonb_build_object('title', 'Benchmark page ' || n, 'space', 'Operations',
                                      'body', 'Approve me: the benchmark approves 50 at once.'),
                   'submitted', 'low', %(maker)s, now() - interval '1 minute',
                   '{"channel": "api", "client": "bench"}', ARRAY[%(reviewer)s],
                   'bench-approve-' || md5(random()::text)
              FROM generate_series(1, %(count)s) n
            """,
            {
                "tenant": tenant_id,
                "maker": POOL_MAKER,
                "reviewer": f"{tenant_id}-reviewer",
                "count": count,
            },
        )


def approve_pool_size(*, tenant_id: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM lynx_drafts WHERE tenant_id = %s AND status = 'submitted' "
            "AND created_by = %s",
            [tenant_id, POOL_MAKER],
        )
        return cursor.fetchone()[0]


def add_decision_trail(*, tenant_id: str) -> None:
    """The last TRAIL_DAYS of the tenant's decisions: one per decided draft, by reviewer2,
    with the draft as decided (the trail page's rows)."""
    reviewer = User.objects.get(username=f"{tenant_id}-reviewer2")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO lynx_draft_reviews (tenant_id, draft_id, reviewer_id, decision, reason,
                from_status, to_status, created_at, round, draft_type, risk_level, amount,
                currency, payload, source_context, fingerprint)
            SELECT tenant_id, draft_id, %(reviewer)s,
                   CASE WHEN status = 'rejected' THEN 'reject' ELSE 'approve' END,
                   CASE WHEN status = 'rejected' THEN 'The figures do not match the invoice.'
                        ELSE '' END,
                   'submitted', CASE WHEN status = 'rejected' THEN 'rejected' ELSE 'approved' END,
                   least(created_at + interval '2 hours', now()), 1, draft_type, risk_level,
                   CASE WHEN draft_type = 'vpm_payment' THEN (payload ->> 'amount')::numeric END,
                   CASE WHEN draft_type = 'vpm_payment' THEN payload ->> 'currency' END,
                   payload, source_context,
                   encode(sha256(convert_to(jsonb_build_array(payload, source_context)::text,
                                            'UTF8')), 'hex')
              FROM lynx_drafts
             WHERE tenant_id = %(tenant)s
               AND status IN ('approved', 'rejected', 'published', 'executed')
               AND created_at > now() - %(days)s * interval '1 day'
            """,
            {"tenant": tenant_id, "reviewer": reviewer.pk, "days": TRAIL_DAYS},
        )


def seed_people(*, pool: int = APPROVE_POOL) -> None:
    create_people()
    for tenant in measured_tenants():
        add_decision_trail(tenant_id=tenant.tenant_id)
        add_approve_pool(tenant_id=tenant.tenant_id, count=pool)

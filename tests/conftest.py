"""Shared fixtures: tenants, users and a few rows per tenant in the real PostgreSQL test database.

Rows are written as the connecting (owner) role, which RLS does not restrict;
what a tenant may see is then read through `tenant_context()` or a request.
"""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection

from storage.choices import (
    Decision,
    DraftStatus,
    DraftType,
    EventType,
    ExecutionStatus,
    RiskLevel,
)
from storage.database import CREDENTIALS
from storage.models import (
    ApprovalRule,
    ApprovalRuleChange,
    ArchivedAuditEvent,
    AuditEvent,
    Draft,
    DraftReview,
    Execution,
    ReviewDigest,
    SettlementIntent,
    Tenant,
    User,
)
from storage.review.content import ContentFingerprint
from storage.roles import AUDITORS, REVIEWERS, ensure_groups

TENANT_TABLES = [
    Draft,
    Execution,
    SettlementIntent,
    AuditEvent,
    ArchivedAuditEvent,
    DraftReview,
    ApprovalRule,
    ApprovalRuleChange,
    ReviewDigest,
]
# Different counts per tenant, so that any leak changes what a tenant sees.
ROW_COUNTS = {"acme": 3, "globex": 2}


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with nothing cached (the dashboard keeps past days' figures)."""
    cache.clear()


@pytest.fixture
def tenants(db) -> dict[str, Tenant]:
    return {
        tenant_id: Tenant.objects.create(tenant_id=tenant_id, name=tenant_id.title())
        for tenant_id in ROW_COUNTS
    }


@pytest.fixture
def web_process(transactional_db):
    """This process's default connection logs in as the web role from here on."""
    saved = {key: connection.settings_dict[key] for key in CREDENTIALS}
    connection.close()
    connection.settings_dict.update({key: settings.LYNX_WEB_DATABASE[key] for key in CREDENTIALS})
    yield settings.LYNX_WEB_DATABASE["USER"]
    connection.close()
    connection.settings_dict.update(saved)


@pytest.fixture
def make_user(db):
    def make(
        username: str,
        *,
        tenant: Tenant | None = None,
        perms: tuple[str, ...] = (),
        groups: tuple[str, ...] = (),
        **extra,
    ):
        user = User.objects.create_user(
            username=username, password="pw", tenant=tenant, is_staff=True, **extra
        )
        for codename in perms:
            user.user_permissions.add(Permission.objects.get(codename=codename))
        if groups:
            ensure_groups()  # transaction=True tests flush the groups the migration made
            user.groups.add(*Group.objects.filter(name__in=groups))
        user.refresh_from_db()  # the database moved its session version
        return user

    return make


VIEW_ALL = (
    "view_draft",
    "view_execution",
    "view_settlementintent",
    "view_auditevent",
    "view_archivedauditevent",
    "view_draftreview",
    "view_approvalrule",
    "view_approvalrulechange",
)


@pytest.fixture
def viewers(tenants, make_user) -> dict[str, User]:
    """One user per tenant who may view every tenant table."""
    return {
        tenant_id: make_user(f"{tenant_id}-viewer", tenant=tenant, perms=VIEW_ALL)
        for tenant_id, tenant in tenants.items()
    }


def make_draft(tenant_id: str, **fields) -> Draft:
    values = {
        "draft_type": DraftType.DOCS,
        "payload": {"title": "Quarterly report"},
        "status": DraftStatus.SUBMITTED,
        "risk_level": RiskLevel.LOW,
        "created_by": "lynx-agent",
        "source_context": {"channel": "test"},
    }
    return Draft.objects.create(tenant_id=tenant_id, **(values | fields))


# Text that is markup, with both quotes: what a page shows escaped, or not at all.
HOSTILE = "<b>\"bold\" & 'quoted'</b>"


def make_hostile_payment(tenant_id: str, **fields) -> Draft:
    """A payment whose maker and payee are HOSTILE: what the rendering tests show."""
    payload = {"amount": "1250.5", "currency": "EUR", "payee": {"name": HOSTILE, "iban": "x"}}
    values = {"draft_type": DraftType.VPM_PAYMENT, "created_by": HOSTILE, "payload": payload}
    return make_draft(tenant_id, **(values | fields))


def make_execution(draft: Draft, **fields) -> Execution:
    values = {"tool_id": "docs.publish", "actor_id": "lynx-agent"}
    return Execution.objects.create(draft=draft, tenant_id=draft.tenant_id, **(values | fields))


@pytest.fixture
def groups(db) -> None:
    """The portal's groups; made here too because flushing tests delete the migration's."""
    ensure_groups()


@pytest.fixture
def reviewers(tenants, groups, make_user) -> dict[str, User]:
    """The demo users of the reviewer workflow: two acme reviewers, an auditor, and globex's."""
    acme, globex = tenants["acme"], tenants["globex"]
    return {
        "acme-reviewer": make_user(
            "acme-reviewer", tenant=acme, groups=(REVIEWERS,), email="rev@acme.test"
        ),
        "acme-reviewer2": make_user("acme-reviewer2", tenant=acme, groups=(REVIEWERS,)),
        "acme-auditor": make_user("acme-auditor", tenant=acme, groups=(AUDITORS,)),
        "globex-reviewer": make_user("globex-reviewer", tenant=globex, groups=(REVIEWERS,)),
    }


@pytest.fixture
def as_reviewer(client, reviewers):
    """The test client, signed in as acme's first reviewer."""
    client.force_login(reviewers["acme-reviewer"])
    return client


def force_generic_plans() -> None:
    """For the rest of the test's transaction, PostgreSQL plans a function's statements once
    for any argument, as it may choose to after five calls: the plans the portal's functions
    keep are then tested, not only the first calls' custom ones."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("force_generic_plan",), "not inside a transaction"


def fingerprint_of(draft: Draft) -> str:
    """The draft's content fingerprint now, as the database computes it."""
    return (
        Draft.objects.annotate(fp=ContentFingerprint())
        .values_list("fp", flat=True)
        .get(pk=draft.pk)
    )


def make_review(draft: Draft, reviewer: User, **fields) -> DraftReview:
    """A decision on the draft as it is now (its snapshot), written straight to the trail."""
    values = {
        "tenant_id": draft.tenant_id,
        "decision": Decision.APPROVE,
        "from_status": draft.status,
        "to_status": draft.status,
        "draft_type": draft.draft_type,
        "risk_level": draft.risk_level,
        "payload": draft.payload,
        "source_context": draft.source_context,
        "fingerprint": fingerprint_of(draft),
    }
    return DraftReview.objects.create(draft_id=draft.pk, reviewer=reviewer, **(values | fields))


@pytest.fixture
def rows(tenants) -> dict[str, dict[type, set]]:
    """ROW_COUNTS[tenant] rows of every tenant table per tenant, by model, as sets of pks."""
    made = {}
    for tenant_id, count in ROW_COUNTS.items():
        drafts = [make_draft(tenant_id) for _ in range(count)]
        past_reviewer = User.objects.create_user(f"{tenant_id}-past-reviewer", tenant_id=tenant_id)
        made[tenant_id] = {
            Draft: {d.pk for d in drafts},
            Execution: {make_execution(d, status=ExecutionStatus.FAILED).pk for d in drafts},
            SettlementIntent: {
                SettlementIntent.objects.create(
                    payment_id=f"pay-{tenant_id}-{i}", tenant_id=tenant_id
                ).pk
                for i in range(count)
            },
            **{
                model: {
                    model.objects.create(
                        run_id=f"run-{tenant_id}",
                        tenant_id=tenant_id,
                        event_type=EventType.RUN_START,
                    ).pk
                    for _ in range(count)
                }
                for model in (AuditEvent, ArchivedAuditEvent)
            },
            DraftReview: {make_review(d, past_reviewer).pk for d in drafts},
            ApprovalRule: {
                ApprovalRule.objects.create(tenant_id=tenant_id, name=f"r{i}", approvals=2).pk
                for i in range(count)
            },
            ApprovalRuleChange: {
                ApprovalRuleChange.objects.create(
                    tenant_id=tenant_id, rule_id=d.pk, action="added", changed_by=past_reviewer
                ).pk
                for d in drafts
            },
            ReviewDigest: {
                ReviewDigest.objects.create(
                    tenant_id=tenant_id,
                    reviewer=past_reviewer,
                    day=f"2026-01-{i + 1:02d}",
                    drafts=1,
                ).pk
                for i in range(count)
            },
        }
    return made

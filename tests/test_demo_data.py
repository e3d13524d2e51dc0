"""`manage.py seed_demo`: the data `make run` shows, and proof that loading it twice is a no-op."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min
from django.utils import timezone
from psycopg import sql

from demo.accounts import TENANTS, USERS
from storage.choices import DraftStatus, EventType, ExecutionStatus
from storage.models import (
    ApprovalRule,
    ApprovalRuleChange,
    AuditEvent,
    Draft,
    DraftReview,
    Execution,
    SettlementIntent,
    Tenant,
    User,
)
from storage.review.rules import tenant_rules
from storage.review.selectors import (
    changed_since_approval,
    page_sections,
    review_state,
    review_state_from_trail,
    round_approvals,
    with_page_sections,
    with_review_state,
)
from storage.tenancy import tenant_context
from tests.conftest import force_generic_plans

PASSWORD = "demo-test-password"
USERNAMES = [user.username for user in USERS]
SPEC_MODELS = [Draft, Execution, SettlementIntent, AuditEvent]
# Per tenant: "several hundred" rows in all, and enough of each kind for the screens.
MINIMUM_ROWS = {Draft: 100, Execution: 100, SettlementIntent: 50, AuditEvent: 300}

pytestmark = pytest.mark.django_db


@dataclass
class Loads:
    first_output: str
    second_output: str
    before_second: dict[str, tuple[int, str]]
    after_second: dict[str, tuple[int, str]]


@pytest.fixture(scope="module")
def loads(django_db_setup, django_db_blocker) -> Iterator[Loads]:
    """Load twice, once for the whole module, in a transaction rolled back after it."""
    first, second = StringIO(), StringIO()
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", password=PASSWORD, force=True, stdout=first)
        before = snapshot()
        call_command("seed_demo", password=PASSWORD, force=True, stdout=second)
        yield Loads(first.getvalue(), second.getvalue(), before, snapshot())
        transaction.set_rollback(True)


def snapshot() -> dict[str, tuple[int, str]]:
    """Row count and a checksum of every row of every table the loader writes."""
    result = {}
    with connection.cursor() as cursor:
        for model in [Tenant, User, *SPEC_MODELS, ApprovalRule, ApprovalRuleChange, DraftReview]:
            table, pk = model._meta.db_table, model._meta.pk.column
            cursor.execute(
                sql.SQL(
                    "SELECT count(*), md5(string_agg(to_jsonb(t)::text, '|' ORDER BY t.{})) "
                    "FROM {} t"
                ).format(sql.Identifier(pk), sql.Identifier(table))
            )
            result[table] = cursor.fetchone()
    return result


def test_second_load_changes_nothing(loads):
    assert loads.after_second == loads.before_second
    assert "created 2 tenants, 13 users" in loads.first_output
    assert "2 approval rules" in loads.first_output
    assert "created 0 tenants, 0 users, 0 drafts, 0 executions" in loads.second_output
    assert all(name in loads.first_output for name in USERNAMES)
    assert PASSWORD in loads.first_output


def test_tenants_and_users(loads):
    assert dict(Tenant.objects.values_list("tenant_id", "name")) == TENANTS
    users = {user.username: user for user in User.objects.all()}
    assert set(users) == set(USERNAMES)
    for user in users.values():
        assert user.is_staff
        assert user.check_password(PASSWORD)
        assert user.email == f"{user.username}@example.com"
        assert user.is_superuser == (user.username == "admin")
        assert user.tenant_id == (None if user.is_superuser else user.username.split("-")[0])
    groups = {
        user.username: sorted(user.groups.values_list("name", flat=True)) for user in users.values()
    }
    assert groups == {
        **{f"{t}-{role}": ["Reviewers"] for t in TENANTS for role in ("reviewer", "reviewer2")},
        **{f"{t}-senior": ["Reviewers", "Senior reviewers"] for t in TENANTS},
        **{f"{t}-auditor": ["Auditors"] for t in TENANTS},
        **{f"{t}-operator": ["Settlement operators"] for t in TENANTS},
        **{f"{t}-admin": ["Tenant admins"] for t in TENANTS},
        "admin": [],
    }


@pytest.mark.parametrize("tenant", TENANTS)
@pytest.mark.parametrize("model", SPEC_MODELS, ids=lambda model: model.__name__)
def test_every_tenant_has_hundreds_of_rows_and_every_choice(loads, model, tenant):
    rows = model.objects.filter(tenant_id=tenant).order_by()
    assert rows.count() >= MINIMUM_ROWS[model]
    for field in model._meta.fields:
        if field.choices:
            found = set(rows.values_list(field.name, flat=True).distinct())
            assert {value for value, _ in field.choices} <= found, field.name


@pytest.mark.parametrize("tenant", TENANTS)
def test_rows_span_a_month_with_recent_and_archivable_ones(loads, tenant):
    now = timezone.now()
    for model in SPEC_MODELS:
        rows = model.objects.filter(tenant_id=tenant)
        assert rows.aggregate(newest=Max("created_at"))["newest"] < now
        assert rows.filter(created_at__gte=now - timedelta(days=1)).count() >= 3, model
    drafts = Draft.objects.filter(tenant_id=tenant)
    oldest_draft = drafts.aggregate(oldest=Min("created_at"))["oldest"]
    assert now - timedelta(days=31) < oldest_draft < now - timedelta(days=20)
    events = AuditEvent.objects.filter(tenant_id=tenant)
    assert events.filter(created_at__lt=now - timedelta(days=90)).count() >= 20


def test_submitted_drafts_for_maker_checker(loads):
    for_reviewer = Draft.objects.filter(
        tenant_id="acme",
        status=DraftStatus.SUBMITTED,
        recommended_approvers__contains=["acme-reviewer", "acme-reviewer2"],
    )
    by_others = set(
        for_reviewer.exclude(created_by="acme-reviewer").values_list("created_by", flat=True)
    )
    assert {"lynx-agent", "acme-operator", "acme-reviewer2"} <= by_others
    assert for_reviewer.filter(created_by="acme-reviewer").exists()
    risks = set(for_reviewer.values_list("risk_level", flat=True))
    assert risks == {"low", "medium", "high"}


@pytest.mark.parametrize("tenant", TENANTS)
def test_reviewed_drafts_carry_the_decisions_that_made_them_so(loads, tenant):
    rules = tenant_rules(tenant_id=tenant)
    assert [rule.name for rule in rules] == ["Large payments"]
    drafts = with_review_state(drafts=Draft.objects.filter(tenant_id=tenant))
    by_status: dict[str, set[bool]] = {}
    for draft in drafts:
        state = review_state(draft=draft, rules=rules)
        by_status.setdefault(draft.status, set()).add(state.progress.complete)
        trail = DraftReview.objects.filter(draft_id=draft.pk).order_by("created_at")
        assert not trail.filter(reviewer__username__iexact=draft.created_by).exists()
        if draft.status == DraftStatus.REJECTED:
            assert trail.last().decision == "reject" and trail.last().reason
    approved = {DraftStatus.APPROVED, DraftStatus.PUBLISHED, DraftStatus.EXECUTED}
    assert {status: by_status[status] for status in approved} == dict.fromkeys(approved, {True})
    assert by_status[DraftStatus.SUBMITTED] == {False}
    partly = [
        d for d in drafts if d.status == DraftStatus.SUBMITTED and round_approvals(draft=d)[0]
    ]
    assert partly, "some drafts in the queue have a first approval"
    senior_needed = DraftReview.objects.filter(
        tenant_id=tenant, amount__gte=100000, currency="EUR", to_status="approved"
    )
    assert senior_needed.exists()
    for review in senior_needed:
        approvers = DraftReview.objects.filter(draft_id=review.draft_id, decision="approve")
        assert approvers.filter(reviewer__groups__name="Senior reviewers").exists()


@pytest.mark.parametrize("tenant", TENANTS)
def test_a_draft_page_reads_where_each_draft_stands_off_its_trail(loads, tenant):
    """The draft page derives the review state from the trail it shows; the queue reads it
    with subqueries. Over every demo draft (partial and senior approvals, a change after
    approval, rejections) both say the same; tests/test_draft_page_reads.py adds rounds."""
    rules = tenant_rules(tenant_id=tenant)
    drafts = Draft.objects.filter(tenant_id=tenant).order_by("pk")
    force_generic_plans()  # the plan portal_draft_sections may keep for any draft
    with tenant_context(tenant):
        queue = [review_state(draft=d, rules=rules) for d in with_review_state(drafts=drafts)]
        page = []
        for d in with_page_sections(drafts=drafts):
            trail, _, read = page_sections(draft=d)
            page.append(review_state_from_trail(draft=d, trail=trail, rules=read))
    assert len(page) == len(queue) >= MINIMUM_ROWS[Draft]
    assert page == queue
    assert any(state.progress.approver_groups for state in page)
    assert sum(1 for state in page if state.changed_since_approval) == 1


@pytest.mark.parametrize("tenant", TENANTS)
def test_one_payment_changed_after_its_approval(loads, tenant):
    [changed] = changed_since_approval(
        drafts=Draft.objects.filter(tenant_id=tenant), tenant_id=tenant
    )
    assert (changed.draft_type, changed.status) == ("vpm_payment", "approved")
    approved = DraftReview.objects.filter(draft_id=changed.pk, to_status="approved").get()
    assert approved.payload["amount"] != changed.payload["amount"]


def test_payloads(loads):
    payments = Draft.objects.filter(draft_type="vpm_payment")
    assert not payments.exclude(payload__has_keys=["amount", "currency", "payee"]).exists()
    assert Draft.objects.filter(payload__body__icontains="<script>alert(1)</script>").exists()
    assert Draft.objects.filter(request_id__isnull=True).exists()
    assert Draft.objects.filter(request_id__isnull=False).count() > Draft.objects.count() / 2


def test_executions_link_to_drafts_audit_runs_and_settlements(loads):
    executions = Execution.objects.order_by()
    assert not executions.exclude(tenant_id=F("draft__tenant_id")).exists()
    assert {"docs.publish", "workflow.run", "payments.submit"} <= set(
        executions.values_list("tool_id", flat=True)
    )
    running = executions.filter(status=ExecutionStatus.STARTED)
    assert not running.filter(completed_at__isnull=False).exists()
    assert not executions.exclude(pk__in=running).filter(completed_at__isnull=True).exists()
    unsuccessful = executions.filter(status__in=[ExecutionStatus.FAILED, ExecutionStatus.DENIED])
    assert not unsuccessful.filter(error_message__isnull=True).exists()

    # Tool calls younger than the archive name exactly the executions, and share their requests.
    calls = AuditEvent.objects.filter(
        event_type=EventType.TOOL_CALL, created_at__gte=timezone.now() - timedelta(days=90)
    )
    called = {output["execution_id"] for output in calls.values_list("output_data", flat=True)}
    assert called == {str(pk) for pk in executions.values_list("pk", flat=True)}
    run_requests = set(
        AuditEvent.objects.filter(event_type=EventType.RUN_START).values_list(
            "input_data__request_id", flat=True
        )
    )
    requests = set(executions.exclude(request_id=None).values_list("request_id", flat=True))
    assert requests and requests <= run_requests
    assert executions.filter(request_id=None).exists()

    submitted = executions.filter(tool_id="payments.submit", status=ExecutionStatus.SUCCEEDED)
    payment_ids = {execution.result_payload["payment_id"] for execution in submitted}
    assert payment_ids <= set(SettlementIntent.objects.values_list("pk", flat=True))
    assert SettlementIntent.objects.filter(pk="pay-acme-0001", tenant_id="acme").exists()


def test_at_most_one_succeeded_execution_per_draft_and_tool(loads):
    duplicates = (
        Execution.objects.filter(status=ExecutionStatus.SUCCEEDED)
        .values("tenant_id", "draft_id", "tool_id")
        .annotate(n=Count("*"))
        .filter(n__gt=1)
    )
    assert not duplicates.exists()


def test_tenant_context_sees_only_its_own_rows(loads):
    owner_counts = {model: model.objects.filter(tenant_id="acme").count() for model in SPEC_MODELS}
    for model in SPEC_MODELS:  # the owner sees every tenant, so the check below has teeth
        assert set(model.objects.order_by().values_list("tenant_id", flat=True).distinct()) == set(
            TENANTS
        )
    with tenant_context("acme"):
        for model in SPEC_MODELS:
            seen = model.objects.order_by()
            assert set(seen.values_list("tenant_id", flat=True).distinct()) == {"acme"}
            assert seen.count() == owner_counts[model]


def test_password_defaults_to_the_environment(loads, monkeypatch):
    monkeypatch.setenv("LYNX_DEMO_PASSWORD", "from-the-environment")
    call_command("seed_demo", force=True, stdout=StringIO())
    assert all(user.check_password("from-the-environment") for user in User.objects.all())


def test_it_refuses_to_run_without_debug_or_force(db):
    """A production database must not get a superuser with a printed password by accident."""
    users = User.objects.count()
    with pytest.raises(CommandError, match="runs only with DEBUG on"):
        call_command("seed_demo", stdout=StringIO())
    assert User.objects.count() == users

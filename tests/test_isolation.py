"""Tenant isolation as PostgreSQL enforces it, through the ORM, the admin and raw requests."""

import json

import pytest
from django.db import connection, transaction
from django.test import Client

from storage.models import (
    ApprovalRule,
    ArchivedAuditEvent,
    AuditEvent,
    Draft,
    Execution,
    SettlementIntent,
    User,
)
from storage.tenancy import tenant_context
from tests.conftest import (
    TENANT_TABLES,
    force_generic_plans,
    make_draft,
    make_execution,
    make_review,
)
from tests.db_errors import sqlstate_of

pytestmark = pytest.mark.django_db(transaction=True)

INSUFFICIENT_PRIVILEGE = "42501"
ACTING_POLICY = "Portal: rows of the acting tenant"


def visible(model, tenant_id) -> set:
    """The pks the RLS role sees for this tenant, with no ORM filter: RLS alone decides."""
    with tenant_context(tenant_id):
        return set(model.objects.values_list("pk", flat=True))


def assert_isolated(rows) -> None:
    for tenant_id, by_model in rows.items():
        for model, pks in by_model.items():
            assert visible(model, tenant_id) == pks, f"{tenant_id} sees other {model.__name__}s"
    for model in TENANT_TABLES:
        assert visible(model, "") == set(), f"no tenant sees {model.__name__}s"
        assert visible(model, "initech") == set(), f"an unknown tenant sees {model.__name__}s"


def test_each_tenant_sees_exactly_its_own_rows(rows):
    assert_isolated(rows)


@pytest.mark.parametrize(
    "sabotage",
    [
        "ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
        # Both policies: on the owner's connection the acting tenant is app.tenant_id too.
        'DROP POLICY "{policy}" ON {table}; DROP POLICY "{acting}" ON {table}; '
        'CREATE POLICY "{policy}" ON {table} FOR ALL USING (true)',
    ],
    ids=["rls-disabled", "policies-replaced"],
)
@pytest.mark.parametrize("model", TENANT_TABLES, ids=lambda m: m.__name__)
def test_the_same_assertions_catch_a_leak(rows, sabotage, model):
    """Proves the isolation test has teeth: without the policy, it fails."""
    from storage.checks import TENANT_POLICIES

    table = model._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                sabotage.format(table=table, policy=TENANT_POLICIES[table], acting=ACTING_POLICY)
            )
        with pytest.raises(AssertionError):
            assert_isolated(rows)
        transaction.set_rollback(True)
    assert_isolated(rows)


def test_a_connection_that_acted_for_a_user_goes_on_reading(rows, viewers):
    """A transaction-local setting reads as '' once its transaction has ended, on the same
    connection: the acting tenant must take that for nobody, not fail on it."""
    with tenant_context("acme", acting_user=viewers["acme"].pk):
        assert visible(Draft, "acme") == rows["acme"][Draft]
    assert visible(Draft, "acme") == rows["acme"][Draft]
    assert visible(Draft, "globex") == rows["globex"][Draft]


def test_writes_the_rls_role_may_not_make(rows):
    acme_draft = next(iter(rows["acme"][Draft]))
    globex_draft = next(iter(rows["globex"][Draft]))
    acme_execution = next(iter(rows["acme"][Execution]))
    with tenant_context("acme"):
        drafts = Draft.objects
        # Another tenant's rows are invisible: updates touch nothing.
        assert drafts.filter(pk=globex_draft).update(status="approved") == 0
        # Status is the one column of one table it may change, in its own tenant.
        assert drafts.filter(pk=acme_draft).update(status="approved") == 1
        forbidden = {
            "insert a draft": lambda: Draft.objects.create(
                tenant_id="acme",
                draft_type="docs",
                payload={},
                risk_level="low",
                created_by="x",
                source_context={},
            ),
            "change a payload": lambda: drafts.filter(pk=acme_draft).update(payload={}),
            "move a draft to another tenant": lambda: drafts.filter(pk=acme_draft).update(
                tenant_id="globex"
            ),
            "delete a draft": lambda: drafts.filter(pk=acme_draft).delete(),
            "update an execution": lambda: Execution.objects.filter(pk=acme_execution).update(
                status="succeeded"
            ),
            "delete an execution": lambda: Execution.objects.filter(pk=acme_execution).delete(),
            "insert an audit event": lambda: AuditEvent.objects.create(
                run_id="r", tenant_id="acme", event_type="refusal"
            ),
            "delete audit events": lambda: AuditEvent.objects.all().delete(),
            "change a settlement's provider": lambda: SettlementIntent.objects.update(
                provider="bank_x"
            ),
            "move a settlement to another tenant": lambda: SettlementIntent.objects.update(
                tenant_id="globex"
            ),
            "insert an archived event": lambda: ArchivedAuditEvent.objects.create(
                run_id="r", tenant_id="acme", event_type="refusal"
            ),
            "delete archived events": lambda: ArchivedAuditEvent.objects.all().delete(),
        }
        codes = {what: sqlstate_of(statement) for what, statement in forbidden.items()}
    assert codes == dict.fromkeys(forbidden, INSUFFICIENT_PRIVILEGE)
    assert Draft.objects.get(pk=globex_draft).status == "submitted"


def test_the_draft_pages_functions_read_only_the_tenants_rows(reviewers):
    """portal_draft_sections and portal_tenant_rules run with the caller's rights: asked for
    another tenant's draft and rules by their ids, as a request could be, they find nothing,
    with the plans they kept from the other tenant's calls."""
    globex = make_draft("globex")
    make_review(globex, reviewers["globex-reviewer"])
    make_execution(globex)
    ApprovalRule.objects.create(tenant_id="globex", name="Theirs", approvals=2)
    read = "SELECT portal_draft_sections(%s, %s), portal_tenant_rules(%s)"
    with tenant_context("globex"), connection.cursor() as cursor:
        force_generic_plans()
        for _ in range(6):  # more calls than PostgreSQL plans for their arguments alone
            cursor.execute(read, ["globex", globex.pk, "globex"])
            sections, rules = cursor.fetchone()
    assert {key: len(rows) for key, rows in json.loads(sections).items()} == {
        "trail": 1,
        "executions": 1,
        "rules": 1,
    }
    assert [rule["name"] for rule in json.loads(rules)] == ["Theirs"]
    with tenant_context("acme"), connection.cursor() as cursor:
        force_generic_plans()
        cursor.execute(read, ["globex", globex.pk, "globex"])
        assert [json.loads(found) for found in cursor.fetchone()] == [
            {"trail": [], "executions": [], "rules": []},
            [],
        ]


def test_the_request_role_is_not_privileged(db):
    with tenant_context("acme"), connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.rolsuper, r.rolbypassrls, "
            "EXISTS (SELECT FROM pg_tables t WHERE t.tableowner = current_user) "
            "FROM pg_roles r WHERE r.rolname = current_user"
        )
        assert cursor.fetchone() == (False, False, False)


def test_nested_tenant_context_restores_the_outer_one(rows):
    with transaction.atomic():
        with tenant_context("acme"):
            with tenant_context("globex"):
                assert set(Draft.objects.values_list("pk", flat=True)) == rows["globex"][Draft]
            assert set(Draft.objects.values_list("pk", flat=True)) == rows["acme"][Draft]
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('role'), current_setting('app.tenant_id')")
            assert cursor.fetchone() == ("none", "")


@pytest.mark.parametrize(
    "admin_url",
    [
        "draft",
        "execution",
        "settlementintent",
        "auditevent",
        "archivedauditevent",
        "draftreview",
        "approvalrule",
        "approvalrulechange",
    ],
)
def test_admin_lists_show_only_the_users_tenant(client, rows, viewers, admin_url):
    model = {m._meta.model_name: m for m in TENANT_TABLES}[admin_url]
    for tenant_id, user in viewers.items():
        client.force_login(user)
        response = client.get(f"/admin/storage/{admin_url}/")
        assert response.status_code == 200
        shown = {obj.pk for obj in response.context["cl"].result_list}
        assert shown == rows[tenant_id][model]


def test_a_superuser_flag_bypasses_nothing(client, rows, tenants, make_user):
    client.force_login(make_user("acme-root", tenant=tenants["acme"], is_superuser=True))
    response = client.get("/admin/storage/draft/")
    assert {d.pk for d in response.context["cl"].result_list} == rows["acme"][Draft]
    globex_draft = next(iter(rows["globex"][Draft]))
    assert client.get(f"/admin/storage/draft/{globex_draft}/change/").status_code == 404
    assert client.get("/admin/storage/draft/not-a-uuid/change/").status_code == 404


def test_a_user_without_tenant_sees_no_rows_and_is_told_why(client, rows, make_user):
    client.force_login(make_user("root", is_superuser=True))
    response = client.get("/admin/storage/draft/")
    assert list(response.context["cl"].result_list) == []
    assert "Your account belongs to no tenant" in response.text
    assert "Your account belongs to no tenant" in client.get("/admin/").text


def test_a_user_with_a_tenant_sees_no_banner(client, viewers):
    client.force_login(viewers["acme"])
    response = client.get("/admin/")
    assert "Your account belongs to no tenant" not in response.text
    assert "Tenant: <strong>acme</strong>" in response.text


@pytest.mark.urls("tests.urls")
def test_requests_in_turn_on_one_connection_each_see_their_own_rows(rows, viewers):
    client = Client(raise_request_exception=False)

    def probe() -> dict:
        response = client.get("/_probe/")
        assert response.status_code == 200
        return response.json()

    def assert_connection_is_clean() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('role'), "
                "coalesce(current_setting('app.tenant_id', true), '')"
            )
            assert cursor.fetchone() == ("none", "")

    def as_tenant(tenant_id: str) -> dict:
        client.force_login(viewers[tenant_id])
        seen = probe()
        assert (seen["role"], seen["tenant_id"]) == ("lynx_portal", tenant_id)
        assert set(seen["drafts"]) == {str(pk) for pk in rows[tenant_id][Draft]}
        assert_connection_is_clean()
        return seen

    pids = {as_tenant("acme")["pid"], as_tenant("globex")["pid"]}
    client.logout()
    anonymous = probe()
    assert (anonymous["tenant_id"], anonymous["drafts"]) == ("", [])
    assert_connection_is_clean()
    client.force_login(viewers["acme"])
    assert client.get("/_boom/").status_code == 500
    assert_connection_is_clean()
    assert set(Draft.objects.values_list("status", flat=True)) == {"submitted"}, "not rolled back"
    pids |= {anonymous["pid"], as_tenant("globex")["pid"], as_tenant("acme")["pid"]}
    assert len(pids) == 1, "the requests did not share one connection"


@pytest.mark.urls("tests.urls")
@pytest.mark.parametrize("signs_in_no_more", ["deactivated", "password changed"])
def test_a_session_django_no_longer_accepts_enters_no_tenant(
    client, rows, viewers, signs_in_no_more
):
    """The read of the signed-in user enters their tenant as it runs; when Django then refuses
    that user, the request, anonymous, must see no tenant's rows all the same."""
    client.force_login(viewers["acme"])
    assert client.get("/_probe/").json()["tenant_id"] == "acme"
    users = User.objects.filter(pk=viewers["acme"].pk)
    if signs_in_no_more == "deactivated":
        users.update(is_active=False)
    else:
        users.update(password="pbkdf2_sha256$1$salt$changed-elsewhere")

    seen = client.get("/_probe/").json()

    assert (seen["tenant_id"], seen["drafts"]) == ("", [])


@pytest.mark.urls("tests.urls")
def test_a_refused_request_commits_nothing(client, rows, viewers):
    client.force_login(viewers["acme"])
    assert client.get("/_refuse/").status_code == 403
    assert set(Draft.objects.values_list("status", flat=True)) == {"submitted"}


@pytest.mark.parametrize(
    "url",
    [
        "/admin/storage/execution/?tool_id=a%00b",
        "/admin/storage/settlementintent/pay%00/change/",
        "/admin/storage/auditevent/run/?run_id=r%00",
        "/admin/storage/draft/?q=%00",
    ],
)
def test_a_nul_character_in_the_address_is_a_clear_400(client, viewers, url):
    client.force_login(viewers["acme"])
    response = client.get(url)
    assert (response.status_code, response.text) == (400, "The address contains a NUL character.")

"""The web process logs in as a role that gains nothing by leaving the RLS role.

Here this process's connection logs in as the web role of DATABASE_URL, as gunicorn's does
(README, Deploy), and a request runs what a SQL injection would: leaving the RLS role must
end in SQLSTATE 42501, never in another tenant's rows.
"""

import threading
import time
from io import StringIO

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client

from lynxportal.management.commands.runserver import Command as Runserver
from storage import db_roles
from storage.models import ApprovalRule, Draft, Execution
from storage.tenancy import tenant_context
from tests.catalog import connect_as_superuser
from tests.conftest import TENANT_TABLES
from tests.web_login import INSUFFICIENT_PRIVILEGE, inject, signed_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.urls")]

RULES = "/admin/storage/approvalrule/"
PATH = "search_path=public, pg_temp"
READ_ALL_TENANTS = "SELECT DISTINCT tenant_id FROM lynx_drafts ORDER BY 1"


@pytest.mark.parametrize(
    "escape",
    [
        "RESET ROLE",
        "SET ROLE {owner}",
        "SET ROLE postgres",
        "SET ROLE service_role",
        "SET SESSION AUTHORIZATION {owner}",
    ],
)
def test_leaving_the_rls_role_inside_a_request_gains_nothing(rows, viewers, web_process, escape):
    owner = settings.LYNX_OWNER_DATABASE["USER"]
    client = signed_in("acme-viewer")
    assert inject(client, READ_ALL_TENANTS) == {"rows": [["acme"]]}

    attempt = inject(client, f"{escape.format(owner=owner)}; {READ_ALL_TENANTS}")

    assert attempt == {"sqlstate": INSUFFICIENT_PRIVILEGE}


def test_a_request_cannot_read_the_sessions_of_others(rows, viewers, web_process):
    """Reading every session key would let any of them be taken over from another browser."""
    signed_in("globex-viewer")
    client = signed_in("acme-viewer")

    for sql in ("SELECT session_key FROM django_session", "DELETE FROM django_session"):
        assert inject(client, sql) == {"sqlstate": INSUFFICIENT_PRIVILEGE}
    assert client.get("/admin/storage/draft/").status_code == 200  # its own still works


def test_a_request_reads_no_parameter_another_worker_sends(rows, viewers, web_process):
    """Leaving the RLS role, a request's own SQL is the web role, which sees the SQL text of
    every session of its role in pg_stat_activity: another worker's session keys and proofs
    must not be in it (parameters are bound on the server, apart from that text)."""
    client = signed_in("acme-viewer")
    secret = "the-session-key-of-someone-else"
    sent = threading.Event()

    def send() -> None:
        other_worker = connections.create_connection("default")
        with other_worker.cursor() as cursor:
            sent.set()
            cursor.execute("SELECT %s::text, pg_sleep(3)", [secret])
        other_worker.close()

    worker = threading.Thread(target=send)
    worker.start()
    assert sent.wait(timeout=10)
    watch = (
        "RESET ROLE; SELECT query FROM pg_stat_activity "
        "WHERE pid <> pg_backend_pid() AND query LIKE '%pg_sleep(3)%'"
    )
    deadline = time.monotonic() + 2.5
    while not (seen := inject(client, watch)["rows"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.join()
    assert seen, "the other worker's statement was never seen"
    assert all(secret not in query for [query] in seen), seen


def forged_key_acting_for(user_id: int) -> str:
    """Statements that put a signing key of the request's own making first in the request's
    name lookup, then act for `user_id` with that key's proof (storage.acting's formula)."""
    proof = f"encode(sha256(k || sha256(k || convert_to('user:{user_id}', 'UTF8'))), 'hex')"
    return (
        "SELECT set_config('search_path', 'pg_temp, public', true); "
        "CREATE TEMP TABLE portal_signing_key (key bytea); "
        "INSERT INTO portal_signing_key VALUES (decode(repeat('ab', 32), 'hex')); "
        "GRANT SELECT ON portal_signing_key TO PUBLIC; "
        f"SELECT set_config('app.tenant_id', 'globex', true), "
        f"set_config('app.user_id', '{user_id}', true), "
        f"set_config('app.user_proof', {proof}, true) FROM portal_signing_key signing(k)"
    )


def test_a_table_of_a_request_s_own_stands_in_for_none_of_the_portal_s(rows, viewers, web_process):
    """PostgreSQL lets everyone create temporary tables, which name lookup finds first unless
    pg_temp comes last: a forged signing key would let the portal's functions take any proof,
    and a temporary lynx_drafts would stand in for Lynx AI's in the next requests of the
    connection, whoever makes them."""
    client = signed_in("acme-viewer")
    globex = viewers["globex"].pk
    forge = forged_key_acting_for(globex)
    assert inject(client, f"{forge}; SELECT count(*) FROM lynx_drafts") == {"rows": [[0]]}

    empty = "CREATE TEMP TABLE lynx_drafts AS SELECT * FROM public.lynx_drafts WHERE false"
    assert inject(client, f"{empty}; SELECT count(*) FROM pg_temp.lynx_drafts") == {"rows": [[0]]}
    other = signed_in("globex-viewer")  # the same connection: this process has one
    assert inject(other, "SELECT count(*) FROM lynx_drafts")["rows"] == [
        [len(rows["globex"][Draft])]
    ]
    assert other.get("/admin/storage/draft/?status=all").context["cl"].result_count == len(
        rows["globex"][Draft]
    )


# Session settings a request's own SQL may leave for the next requests of its connection (a
# timeout of 1 ms would fail them as surely, and the rest of this request with them).
LEFT_BEHIND = (
    "SET statement_timeout = '42s'; SET lock_timeout = '42s'; "
    "SET TIME ZONE 'Pacific/Kiritimati'; "
    "SET default_transaction_read_only = on; SET enable_indexscan = off; SET jit = on; "
    "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE; SELECT 1"
)
SETTINGS_NOW = (
    "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), "
    "current_setting('TimeZone'), current_setting('transaction_read_only'), "
    "current_setting('enable_indexscan'), current_setting('jit'), "
    "current_setting('transaction_isolation'), "
    "current_user, pg_sleep(0.01)::text"
)


def test_a_request_leaves_no_session_setting_to_the_next(rows, viewers, web_process):
    """A statement_timeout of 1 ms or a read-only default, say, would fail every later request
    of the connection, whoever makes it; each request starts from the login's settings, with
    its own statement timeout (LYNX_REQUEST_STATEMENT_TIMEOUT, 10 s), and compiles no
    statement (storage.tenancy.ACTIVATE)."""
    assert inject(signed_in("acme-viewer"), LEFT_BEHIND) == {"rows": [[1]]}
    other = signed_in("globex-viewer")  # the same connection: this process has one
    assert inject(other, SETTINGS_NOW) == {
        "rows": [
            ["10s", "0", "UTC", "off", "on", "off", "read committed", settings.LYNX_DB_RLS_ROLE, ""]
        ]
    }
    assert other.get("/admin/storage/draft/?status=all").status_code == 200


def test_a_fresh_session_is_opened_for_nobody():
    """Its first statement travels as text, where a user's proof must never be."""
    with (
        pytest.raises(ValueError, match="acts for nobody"),
        tenant_context(None, acting_user=1, fresh_session=True),
    ):
        pass


def test_every_function_that_runs_as_the_owner_looks_in_pg_temp_last():
    """Migration 0030, for the functions of later migrations too: one that takes the search
    path `migrate` ran with would find a request's temporary tables first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname, proconfig FROM pg_proc WHERE prosecdef AND proname LIKE 'portal%'"
        )
        found = dict(cursor.fetchall())
    assert "portal_acting_tenant" in found
    assert {name: config for name, config in found.items() if config != [PATH]} == {}


def globex_rows_seen(client: Client, forge: str) -> dict[str, int]:
    """What `forge` (statements run first) lets acme's request see of globex, table by table."""
    counts = {}
    for model in TENANT_TABLES:
        table = model._meta.db_table
        sql = f"{forge}; SELECT count(*) FROM {table} WHERE tenant_id = 'globex'"
        [[counts[table]]] = inject(client, sql)["rows"]
    return counts


def test_naming_another_tenant_inside_a_request_reaches_none_of_its_rows(
    rows, viewers, web_process
):
    """The spec's policies trust app.tenant_id, which a request's own SQL can set; the
    portal's restrictive policy reaches only the tenant of the signed user it acts for."""
    client = signed_in("acme-viewer")
    globex_user = viewers["globex"].pk
    forgeries = [
        "SELECT set_config('app.tenant_id', 'globex', true)",
        # Acting for a globex user needs that user's proof: another's, or none, is no proof.
        f"SELECT set_config('app.tenant_id', 'globex', true), "
        f"set_config('app.user_id', '{globex_user}', true)",
        "SELECT set_config('app.tenant_id', 'globex', true), "
        "set_config('app.user_id', current_setting('app.user_id'), true)",
    ]

    assert inject(client, "SELECT count(*) FROM lynx_drafts")["rows"] == [
        [len(rows["acme"][Draft])]
    ]
    for forge in forgeries:
        assert set(globex_rows_seen(client, forge).values()) == {0}, forge
    approve = "UPDATE lynx_drafts SET status = 'approved' WHERE tenant_id = 'globex' RETURNING 1"
    assert inject(client, f"{forgeries[0]}; {approve}") == {"rows": []}


def test_a_request_acts_for_nobody_once_its_user_is_refused(rows, viewers, web_process):
    """A session Django no longer accepts (here: the password changed since) reads its user
    once; the rest of that request must not act for them."""
    client = signed_in("acme-viewer")
    forged = "SELECT set_config('app.tenant_id', 'acme', true); SELECT count(*) FROM lynx_drafts"
    assert inject(client, forged)["rows"] == [[len(rows["acme"][Draft])]]  # still acting
    with connect_as_superuser(connection.settings_dict["NAME"]) as owner:
        owner.execute(
            "UPDATE storage_user SET password = 'md5$x$0' WHERE username = %s", ["acme-viewer"]
        )

    assert inject(client, forged)["rows"] == [[0]]


@pytest.fixture
def people(tenants, make_user) -> None:
    make_user("acme-auditor", tenant=tenants["acme"], groups=("Auditors",))
    make_user("root", is_superuser=True)


def test_an_export_streamed_after_its_request_acts_for_the_same_user(rows, people, web_process):
    client = signed_in("acme-auditor")
    response = client.get("/admin/storage/execution/export/")
    _, *lines = b"".join(response.streaming_content).decode().splitlines()
    assert {line.split(",")[0] for line in lines} == {str(pk) for pk in rows["acme"][Execution]}


def test_a_superuser_without_a_tenant_works_on_the_tenant_it_chose(rows, people, web_process):
    """The rules screen: a tenantless superuser acts for the tenant it names."""
    client = signed_in("root")
    client.post("/admin/storage/approvalrule/tenant/", {"tenant": "acme"})
    response = client.post("/admin/storage/approvalrule/add/", {"name": "Big", "approvals": "2"})
    assert response.status_code == 302
    acme_rules = {rule.pk: str(rule) for rule in client.get(RULES).context["cl"].result_list}
    assert sorted(acme_rules.values()).count("Big") == 1
    assert set(acme_rules) - rows["acme"][ApprovalRule] == {
        pk for pk, name in acme_rules.items() if name == "Big"
    }
    client.post("/admin/storage/approvalrule/tenant/", {"tenant": "globex"})
    globex_rules = {rule.pk for rule in client.get(RULES).context["cl"].result_list}
    assert globex_rules == rows["globex"][ApprovalRule]


def test_a_session_django_s_own_backend_signed_in_is_signed_out(rows, viewers, web_process):
    """Sessions made before PortalUserBackend name ModelBackend, whose read of the user comes
    before the request acts for anyone and finds nobody: the person signs in again."""
    client, viewer = Client(), viewers["acme"]
    with tenant_context(None, acting_user=viewer.pk):  # as the sign-in of a request
        client.force_login(viewer, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get("/admin/storage/draft/")
    assert (response.status_code, response["Location"]) == (
        302,
        "/admin/login/?next=/admin/storage/draft/",
    )
    assert signed_in("acme-viewer").get("/admin/storage/draft/").status_code == 200


def test_the_web_role_holds_nothing_and_still_signs_in_and_serves_pages(rows, viewers, web_process):
    """Session and user are read and saved inside the request's transaction, as the RLS
    role: the login role needs no privilege of its own."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == (web_process,)
        weaknesses = db_roles.web_role_weaknesses(
            cursor, web_role=web_process, rls_role=settings.LYNX_DB_RLS_ROLE
        )
    assert weaknesses == []

    client = signed_in("globex-viewer")
    response = client.get("/admin/storage/draft/")
    assert response.status_code == 200
    assert {d.pk for d in response.context["cl"].result_list} == rows["globex"][Draft]
    assert client.post("/admin/logout/").status_code == 200


def test_runserver_tells_of_unapplied_migrations_though_the_web_role_may_not_read_them(
    web_process, settings
):
    settings.LYNX_CONNECT_AS = "web"
    out = StringIO()
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege('django_migrations', 'SELECT')")
        assert cursor.fetchone() == (False,)
    Runserver(stdout=out).check_migrations()
    assert out.getvalue() == ""  # all applied; no permission error either

"""The web process logs in as a role that gains nothing by leaving the RLS role.

Here this process's connection logs in as the web role of DATABASE_URL, as gunicorn's does
(README, Deploy), and a request runs what a SQL injection would: leaving the RLS role must
end in SQLSTATE 42501, never in another tenant's rows.
"""

from io import StringIO

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from lynxportal.management.commands.runserver import Command as Runserver
from storage import db_roles
from storage.database import CREDENTIALS
from storage.models import Draft

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.urls")]

INSUFFICIENT_PRIVILEGE = "42501"
READ_ALL_TENANTS = "SELECT DISTINCT tenant_id FROM lynx_drafts ORDER BY 1"


@pytest.fixture
def web_process(transactional_db):
    """This process's default connection logs in as the web role from here on."""
    saved = {key: connection.settings_dict[key] for key in CREDENTIALS}
    connection.close()
    connection.settings_dict.update({key: settings.LYNX_WEB_DATABASE[key] for key in CREDENTIALS})
    yield settings.LYNX_WEB_DATABASE["USER"]
    connection.close()
    connection.settings_dict.update(saved)


def signed_in(username: str) -> Client:
    """A browser that signed in through the login page, as a person does."""
    client = Client()
    response = client.post("/admin/login/", {"username": username, "password": "pw"})
    assert response.status_code == 302, "sign-in failed"
    return client


def inject(client: Client, sql: str) -> dict:
    response = client.post("/_inject/", {"sql": sql})
    assert response.status_code == 200
    return response.json()


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

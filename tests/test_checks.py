"""The deploy safety checks, on a sound database and on sabotaged ones (rolled back)."""

import os

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection, transaction

from storage.checks import check_row_level_security, check_signing_key, check_web_role
from tests.catalog import connect, connect_as_superuser

pytestmark = pytest.mark.django_db


def errors_after(sql: str) -> list[tuple[str, str]]:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)
        errors = [(e.id, e.msg) for e in check_row_level_security()]
        transaction.set_rollback(True)
    return errors


def test_a_sound_database_passes():
    assert check_row_level_security() == []
    call_command("check")


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "ALTER TABLE lynx_audit_events DISABLE ROW LEVEL SECURITY",
            ("storage.E003", "Row level security is disabled on lynx_audit_events."),
        ),
        (
            'DROP POLICY "Tenant isolation for drafts" ON lynx_drafts',
            ("storage.E004", 'Policy "Tenant isolation for drafts" is missing on lynx_drafts.'),
        ),
        (
            'ALTER POLICY "Tenant isolation for executions" ON lynx_executions USING (true)',
            (
                "storage.E005",
                'Policy "Tenant isolation for executions" on lynx_executions '
                "differs from the spec.",
            ),
        ),
        (
            "ALTER TABLE lynx_audit_events_archive DISABLE ROW LEVEL SECURITY",
            ("storage.E003", "Row level security is disabled on lynx_audit_events_archive."),
        ),
        (
            "GRANT CREATE ON SCHEMA public TO lynx_portal; "
            "ALTER TABLE settlement_intents OWNER TO lynx_portal",
            ("storage.E013", "The RLS role lynx_portal owns settlement_intents."),
        ),
        (
            "ALTER FUNCTION portal_acting_tenant() SET search_path FROM CURRENT",
            (
                "storage.E008",
                "portal_acting_tenant() runs as its owner without pg_temp last in its search "
                "path: a request could stand a temporary table in for the portal's.",
            ),
        ),
        (
            "ALTER TABLE axes_accessattempt DISABLE ROW LEVEL SECURITY",
            ("storage.E003", "Row level security is disabled on axes_accessattempt."),
        ),
        (
            "ALTER TABLE storage_user DISABLE ROW LEVEL SECURITY",
            ("storage.E003", "Row level security is disabled on storage_user."),
        ),
        (
            "ALTER TABLE storage_user_groups DISABLE ROW LEVEL SECURITY",
            ("storage.E003", "Row level security is disabled on storage_user_groups."),
        ),
        (
            "ALTER TABLE django_admin_log DISABLE ROW LEVEL SECURITY",
            ("storage.E003", "Row level security is disabled on django_admin_log."),
        ),
        (
            "GRANT SELECT ON django_session TO lynx_portal",
            (
                "storage.E006",
                "The RLS role lynx_portal can reach django_session: any request could read "
                "every signed-in person's session.",
            ),
        ),
        (
            'DROP POLICY "Portal lynx_draft_reviews: as recorded (insert)" ON lynx_draft_reviews',
            (
                "storage.E015",
                'Restrictive policy "Portal lynx_draft_reviews: as recorded (insert)" is missing '
                "on lynx_draft_reviews: a request could write what its person may not.",
            ),
        ),
        (
            'DROP POLICY "Portal settlement_intents: moved by operators (update)" '
            "ON settlement_intents",
            (
                "storage.E015",
                'Restrictive policy "Portal settlement_intents: moved by operators (update)" is '
                "missing on settlement_intents: a request could write what its person may not.",
            ),
        ),
    ],
    ids=[
        "rls-disabled",
        "policy-dropped",
        "policy-changed",
        "archive-rls",
        "owner",
        "definer-search-path",
        "sign-in-records-rls",
        "users-rls",
        "memberships-rls",
        "admin-log-rls",
        "sessions-granted",
        "decision-policy-dropped",
        "intent-policy-dropped",
    ],
)
def test_each_weakness_is_an_error(sql, expected):
    assert errors_after(sql) == [expected]


def test_manage_py_check_fails_on_a_weakened_database():
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE lynx_drafts DISABLE ROW LEVEL SECURITY")
        with pytest.raises(SystemCheckError, match="Row level security is disabled on lynx_drafts"):
            call_command("check")
        transaction.set_rollback(True)


def test_an_rls_role_that_bypasses_rls_is_an_error(settings):
    """E.g. Supabase's service_role named as LYNX_DB_RLS_ROLE."""
    settings.LYNX_DB_RLS_ROLE = "service_role"
    errors = [(e.id, e.msg) for e in check_row_level_security()]
    assert errors == [("storage.E012", "The RLS role service_role has BYPASSRLS.")]


def test_an_rls_role_that_is_a_superuser_is_an_error(settings):
    """A role of its own (a superuser makes and drops it): the shared lynx_portal stays as is."""
    name = f"test_super_{os.getpid()}"
    with connect_as_superuser("postgres") as conn:
        conn.execute(f"CREATE ROLE {name} SUPERUSER NOLOGIN")
    try:
        settings.LYNX_DB_RLS_ROLE = name
        errors = [(e.id, e.msg) for e in check_row_level_security()]
        assert errors == [("storage.E011", f"The RLS role {name} is a superuser.")]
    finally:
        with connect_as_superuser("postgres") as conn:
            conn.execute(f"DROP ROLE {name}")


def test_a_missing_role_is_an_error(settings):
    settings.LYNX_DB_RLS_ROLE = "no_such_role"
    assert [e.id for e in check_row_level_security()] == ["storage.E010"]


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE lynx_audit_events_archive; DELETE FROM django_migrations "
        "WHERE app = 'storage' AND name = '0010_audit_events_archive'",
        "ALTER TABLE storage_user DISABLE ROW LEVEL SECURITY; DELETE FROM django_migrations "
        "WHERE app = 'storage' AND name = '0018_people_and_log_security'",
        "ALTER TABLE portal_tenants DISABLE ROW LEVEL SECURITY; "
        "REVOKE ALL ON portal_tenants FROM lynx_portal",
        "GRANT SELECT ON django_session TO lynx_portal; DELETE FROM django_migrations "
        "WHERE app = 'storage' AND name = '0025_sessions_through_functions'",
        "ALTER TABLE axes_accesslog DISABLE ROW LEVEL SECURITY; DELETE FROM django_migrations "
        "WHERE app = 'storage' AND name = '0031_sign_in_records_of_the_attempt'",
    ],
    ids=[
        "archive-before-0010",
        "users-before-0018",
        "out-of-the-rls-roles-reach",
        "sessions-before-0025",
        "sign-in-records-before-0031",
    ],
)
def test_what_is_not_yet_secured_or_out_of_reach_is_no_error(sql):
    """`migrate` runs the checks first: a database before 0010 has no archive, one before
    0018 users without RLS, one before 0025 sessions the RLS role reads, one before 0031
    sign-in records without RLS. A table revoked from the RLS role is out of every
    request's reach, RLS or not."""
    assert errors_after(sql) == []


def test_a_signing_key_of_another_secret_key_is_a_deploy_error(settings):
    assert check_signing_key() == []
    settings.SECRET_KEY = "another-secret-key-than-migrate-ran-with"

    errors = [(e.id, e.msg) for e in check_signing_key()]

    assert errors == [
        (
            "storage.E007",
            "The database's signing key is not this SECRET_KEY's: requests would reach no "
            "tenant's rows.",
        )
    ]


def test_the_web_role_make_test_set_up_passes_the_deploy_check():
    assert check_web_role() == []


def test_a_web_role_that_is_the_owner_can_leave_rls(settings):
    """One URL for everything: RESET ROLE inside a request would regain the owner."""
    settings.LYNX_WEB_DATABASE = settings.LYNX_OWNER_DATABASE
    owner = settings.LYNX_OWNER_DATABASE["USER"]
    [error] = check_web_role()
    assert error.id == "storage.E020"
    assert error.msg.startswith(
        f"The web role {owner} can leave row level security: it has BYPASSRLS; "
        "it has CREATEROLE; it is INHERIT; it owns "
    )


def test_a_web_role_that_cannot_switch_to_the_rls_role_is_an_error(settings):
    name = f"test_web_{os.getpid()}"
    with connect("postgres") as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN NOINHERIT")
    try:
        settings.LYNX_WEB_DATABASE = {**settings.LYNX_WEB_DATABASE, "USER": name}
        assert [(e.id, e.msg) for e in check_web_role()] == [
            ("storage.E014", f"The web role {name} cannot SET ROLE lynx_portal.")
        ]
    finally:
        with connect("postgres") as conn:
            conn.execute(f"DROP ROLE {name}")

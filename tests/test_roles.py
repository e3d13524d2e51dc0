"""migrate sets up the RLS role as a non-superuser owner, on PostgreSQL 15 to 18.

The owner is like Supabase's `postgres`: CREATEROLE and BYPASSRLS, no superuser. Since
PostgreSQL 16 it may grant only roles it holds WITH ADMIN OPTION, which it gets by
creating them; a role someone else made needs a superuser, and migrate must say so before
it changes anything.
"""

import os
import re

import pytest
from django.conf import settings

from tests.catalog import connect, connect_as_superuser, scratch_database
from tests.subprocesses import deployed, manage

# The functions the request role calls (migrations 0023, 0024 and 0034).
PORTAL_FUNCTIONS = [
    "portal_list_count(text, integer, double precision)",
    "portal_draft_sections(text, uuid)",
    "portal_tenant_rules(text)",
    "portal_user_access(bigint, boolean)",
]


@pytest.fixture
def rls_role(request):
    """A role name of this test's own: roles belong to the whole (maybe shared) server."""
    name = f"test_rls_{os.getpid()}_{request.node.name[5:30]}"
    yield name
    with connect_as_superuser("postgres") as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def migrate(dbname: str, rls_role: str, *args: str):
    return manage("migrate", "--no-input", *args, LYNX_DB_RLS_ROLE=rls_role, **deployed(dbname))


def may_switch_to(conn, role: str) -> dict[str, bool]:
    """{role name: whether it may SET ROLE to `role`} for the owner and the web role."""
    privilege = "SET" if conn.info.server_version >= 160000 else "MEMBER"
    members = [settings.LYNX_OWNER_DATABASE["USER"], settings.LYNX_WEB_DATABASE["USER"]]
    return {
        member: conn.execute(
            "SELECT pg_has_role(%s, %s, %s)", [member, role, privilege]
        ).fetchone()[0]
        for member in members
    }


@pytest.mark.django_db
def test_a_missing_rls_role_is_created_bare_and_granted_to_the_owner_and_web_role(rls_role):
    with scratch_database("newrole") as dbname:
        result = migrate(dbname, rls_role)
        assert result.returncode == 0, result.stdout + result.stderr
        with connect(dbname) as conn:
            attributes = conn.execute(
                "SELECT rolcanlogin, rolinherit, rolsuper, rolbypassrls, rolcreaterole, "
                "rolcreatedb FROM pg_roles WHERE rolname = %s",
                [rls_role],
            ).fetchone()
            assert attributes == (False, False, False, False, False, False)
            assert set(may_switch_to(conn, rls_role).values()) == {True}


@pytest.mark.django_db
def test_an_rls_role_someone_else_made_needs_one_statement_from_a_superuser(rls_role):
    """Issue: GRANT ... TO CURRENT_USER failed on 16+ with 0001-0003 applied."""
    with scratch_database("otherrole") as dbname:
        owner = settings.LYNX_OWNER_DATABASE["USER"]
        with connect_as_superuser(dbname) as superuser:
            superuser.execute(f'CREATE ROLE "{rls_role}" NOLOGIN NOINHERIT')
            superuser.execute(f'GRANT "{rls_role}" TO "{owner}"')  # membership, no ADMIN
            version = superuser.info.server_version

        told = manage("lynx_preflight", LYNX_DB_RLS_ROLE=rls_role, **deployed(dbname))
        first = migrate(dbname, rls_role)
        assert (told.returncode == 0) == (first.returncode == 0), told.stdout + told.stderr

        if version < 160000:  # CREATEROLE may grant any role but a superuser
            assert first.returncode == 0, first.stdout + first.stderr
        else:
            assert first.returncode != 0
            [line] = first.stderr.strip().splitlines()
            web = settings.LYNX_WEB_DATABASE["USER"]
            assert line == (
                f"CommandError: migrate cannot grant the role {rls_role} to {web} "
                f"(PostgreSQL {version // 10000} lets {owner} grant only roles it holds "
                f'WITH ADMIN OPTION); a superuser must run: GRANT "{rls_role}" TO "{web}";'
            )
            with connect(dbname) as conn:  # stopped before changing anything
                assert conn.execute(
                    "SELECT to_regclass('django_migrations'), to_regclass('lynx_drafts')"
                ).fetchone() == (None, None)
            assert line.removeprefix("CommandError: ") in told.stderr
            statement = re.search(r"a superuser must run: (.*)$", line).group(1)
            with connect_as_superuser(dbname) as superuser:
                superuser.execute(statement)
            second = migrate(dbname, rls_role)
            assert second.returncode == 0, second.stdout + second.stderr
        with connect(dbname) as conn:
            assert set(may_switch_to(conn, rls_role).values()) == {True}


def test_supabase_api_roles_lose_what_they_were_given_on_the_portals_tables():
    """Supabase grants anon and authenticated everything on new tables and functions in public."""
    with scratch_database("apiroles") as dbname:
        with connect(dbname) as conn:
            for objects in ("TABLES", "FUNCTIONS"):
                conn.execute(
                    "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
                    f"GRANT ALL ON {objects} TO anon, authenticated, service_role"
                )
        result = manage("migrate", "--no-input", **deployed(dbname))
        assert result.returncode == 0, result.stdout + result.stderr
        with connect(dbname) as conn:
            reachable = conn.execute(
                """
                SELECT DISTINCT c.relname::text FROM pg_class c, aclexplode(c.relacl) a
                WHERE a.grantee IN ('anon'::regrole, 'authenticated'::regrole)
                  AND c.relkind = 'r' ORDER BY 1
                """
            ).fetchall()
        # The spec's tables keep what Supabase gives them: they are Lynx AI's.
        assert [name for (name,) in reachable] == [
            "lynx_audit_events",
            "lynx_drafts",
            "lynx_executions",
            "settlement_intents",
        ]
        # The portal's functions (the list count runs the query it is given): only the RLS
        # role may call them, not PUBLIC (any role) and not the Data API's roles, whatever
        # Supabase's defaults give them.
        for function in PORTAL_FUNCTIONS:
            with connect(dbname) as conn:
                callers = conn.execute(
                    "SELECT r.rolname, has_function_privilege(r.oid, %s, 'EXECUTE') "
                    "FROM pg_roles r "
                    "WHERE r.rolname IN ('anon', 'authenticated', 'service_role', %s, %s)",
                    [function, settings.LYNX_DB_RLS_ROLE, settings.LYNX_WEB_DATABASE["USER"]],
                ).fetchall()
            assert dict(callers) == {
                "anon": False,
                "authenticated": False,
                "service_role": False,
                settings.LYNX_DB_RLS_ROLE: True,
                settings.LYNX_WEB_DATABASE["USER"]: False,  # NOINHERIT: only as the RLS role
            }, function

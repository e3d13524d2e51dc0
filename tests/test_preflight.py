"""`manage.py lynx_preflight`: what migrate would do, told before it does anything."""

import pytest
from django.conf import settings

from tests.catalog import (
    build_spec_schema,
    connect,
    connect_as_superuser,
    grants_snapshot,
    schema_snapshot,
    scratch_database,
)
from tests.subprocesses import deployed, manage
from tests.test_adoption import ROWS


@pytest.fixture
def spec_database():
    with scratch_database("preflight") as dbname:
        build_spec_schema(dbname)
        with connect(dbname) as conn:
            conn.execute(ROWS)
        yield dbname


def preflight(dbname: str):
    return manage("lynx_preflight", **deployed(dbname))


def everything(dbname: str) -> tuple:
    with connect(dbname) as conn, conn.cursor() as cursor:
        tables = cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
        return tables, schema_snapshot(cursor), grants_snapshot(cursor)


def test_it_tells_what_migrate_adopts_and_repairs_and_changes_nothing(spec_database):
    with connect(spec_database) as conn:
        conn.execute(
            "DROP INDEX idx_lynx_audit_events_run_id; "
            'ALTER POLICY "Tenant isolation for drafts" ON lynx_drafts USING (true)'
        )
    before = everything(spec_database)

    report = preflight(spec_database)

    assert report.returncode == 0, report.stdout + report.stderr
    assert everything(spec_database) == before
    lines = report.stdout.splitlines()
    owner, web = settings.LYNX_OWNER_DATABASE["USER"], settings.LYNX_WEB_DATABASE["USER"]
    for expected in [
        "  lynx_drafts: migrate adopts it, 3 rows",
        '    policy differs (CREATE POLICY "Tenant isolation for drafts" ON lynx_drafts AS '
        "PERMISSIVE FOR ALL TO public USING (true)): migrate creates the spec's",
        "  lynx_audit_events: migrate adopts it, 4 rows",
        "    index idx_lynx_audit_events_run_id missing: migrate builds it CONCURRENTLY",
        f"  RLS role lynx_portal: in place, {owner} and {web} may switch to it",
        f"  web role {web} (DATABASE_URL): gains nothing outside lynx_portal",
        "migrate would succeed.",
    ]:
        assert expected in lines, report.stdout

    assert manage("migrate", "--no-input", **deployed(spec_database)).returncode == 0
    after = preflight(spec_database).stdout.splitlines()
    for expected in [
        "  lynx_drafts: adopted, 3 rows",
        "Migrations to apply: 0, 0 of them storage's",
        "  leave lynx_drafts and its rows (Lynx AI's)",
        "    restore its policy Tenant isolation for drafts",
        "    remove its check lynx_drafts_tenant_id_not_blank",
        "  leave lynx_audit_events and its rows (Lynx AI's)",
        "    remove its spec index idx_lynx_audit_events_run_id",
    ]:
        assert expected in after, "\n".join(after)


def test_it_fails_where_migrate_would_and_says_why(spec_database):
    with connect(spec_database) as conn:
        conn.execute(
            "ALTER TABLE settlement_intents ALTER COLUMN metadata TYPE json; "
            "INSERT INTO lynx_audit_events (run_id, tenant_id, event_type) "
            "VALUES ('run-9', '', 'run_start')"
        )
    with connect_as_superuser(spec_database) as superuser:
        superuser.execute("ALTER TABLE lynx_drafts OWNER TO CURRENT_USER")
        (someone_else,) = superuser.execute("SELECT current_user").fetchone()

    report = preflight(spec_database)

    assert report.returncode != 0
    assert report.stderr.strip() == (
        f"CommandError: migrate would fail (3): lynx_drafts belongs to {someone_else}: "
        "DATABASE_OWNER_URL must log in as it | cannot adopt settlement_intents: metadata: "
        "json (expected jsonb) | lynx_audit_events holds 1 rows with an empty tenant_id"
    )
    assert manage("migrate", "--no-input", **deployed(spec_database)).returncode != 0

"""Deploying onto a Supabase database that Lynx AI built by hand from the spec and filled.

Plain `manage.py migrate` must adopt the tables without losing or changing a row and end
in exactly the schema a fresh `migrate` builds; a reverse must leave what Lynx AI built
exactly as it was, and drop the portal's own tables only once the operator agreed.
"""

import subprocess

import pytest
from django.db import connection

from tests.catalog import (
    assert_same_schema,
    build_spec_schema,
    connect,
    grants_snapshot,
    schema_snapshot,
    scratch_database,
)
from tests.subprocesses import deployed, manage

PRIMARY_KEYS = {
    "lynx_drafts": "draft_id",
    "lynx_executions": "execution_id",
    "settlement_intents": "payment_id",
    "lynx_audit_events": "event_id",
}
DRAFT = "11111111-1111-4111-8111-111111111111"
SPEC_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"]

# Rows as Lynx AI writes them: database defaults, NULLs, JSON, arrays, and
# executions of a draft, two of them succeeded (the partial unique index).
ROWS = f"""
INSERT INTO lynx_drafts (draft_id, tenant_id, draft_type, payload, status, risk_level,
                         created_by, source_context, recommended_approvers, request_id)
VALUES ('{DRAFT}', 'tenant-a', 'vpm_payment',
        '{{"amount": 1250.75, "currency": "EUR", "lines": [{{"memo": "Überweisung"}}]}}',
        'executed', 'high', 'lynx', '{{"channel": "slack"}}', ARRAY['alice', 'bob'], 'req-1');
INSERT INTO lynx_drafts (tenant_id, draft_type, payload, risk_level, created_by, source_context)
VALUES ('tenant-a', 'docs', '[]', 'low', 'lynx', '{{}}');
INSERT INTO lynx_drafts (tenant_id, draft_type, payload, status, risk_level, created_by,
                         created_at, source_context, recommended_approvers)
VALUES ('tenant-b', 'workflow', '{{"steps": null}}', 'rejected', 'medium', 'carol',
        '2025-12-31 23:59:59.123456+00', '{{"nested": {{"deep": [1, 2, 3]}}}}', NULL);

INSERT INTO lynx_executions (draft_id, tool_id, tenant_id, actor_id, status, result_payload,
                             completed_at, rollback_instructions, request_id)
VALUES ('{DRAFT}', 'pay', 'tenant-a', 'lynx', 'succeeded', '{{"ok": true}}', now(),
        '{{"undo": "refund"}}', 'req-1'),
       ('{DRAFT}', 'notify', 'tenant-a', 'lynx', 'succeeded', DEFAULT, now(), NULL, NULL);
INSERT INTO lynx_executions (draft_id, tool_id, tenant_id, actor_id, status, result_payload,
                             error_message, source_context)
VALUES ('{DRAFT}', 'pay', 'tenant-a', 'lynx', 'failed', NULL, 'bank timeout', NULL);
INSERT INTO lynx_executions (draft_id, tool_id, tenant_id, actor_id)
SELECT draft_id, 'publish', tenant_id, 'dave' FROM lynx_drafts WHERE draft_type = 'docs';

INSERT INTO settlement_intents (payment_id, tenant_id) VALUES ('pay-001', 'tenant-a');
INSERT INTO settlement_intents (payment_id, settlement_status, provider, tenant_id, metadata)
VALUES ('pay-002', 'processing', 'manual', 'tenant-b', NULL),
       ('pay-003', 'completed', 'bank_x', 'tenant-a', '{{"reference": "X-42"}}');

INSERT INTO lynx_audit_events (run_id, tenant_id, event_type)
VALUES ('run-1', 'tenant-a', 'run_start');
INSERT INTO lynx_audit_events (run_id, tenant_id, tool_id, event_type, status, input_data,
                               output_data, error_message)
VALUES ('run-1', 'tenant-a', 'pay', 'tool_call', 'succeeded', '{{"draft": "{DRAFT}"}}',
        '{{"ok": true}}', NULL),
       ('run-2', 'tenant-a', 'pay', 'refusal', 'denied', NULL, NULL, 'over the limit'),
       ('run-3', 'tenant-b', NULL, 'run_failure', 'failed', '"just a string"', 'null', 'boom');
"""


@pytest.fixture
def spec_database():
    """A scratch database built from the spec's SQL, as Supabase holds it before the deploy."""
    with scratch_database("adopt") as dbname:
        build_spec_schema(dbname)
        yield dbname


def migrate(dbname: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`manage.py migrate` as the deploy runs it: a separate process, the two roles' URLs."""
    if stdin is None:
        args = (*args, "--no-input")
    return manage("migrate", *args, stdin=stdin, **deployed(dbname))


def catalog(dbname: str) -> tuple[dict, dict]:
    """The spec tables' schema and who may do what with them."""
    with connect(dbname) as conn, conn.cursor() as cursor:
        return schema_snapshot(cursor), grants_snapshot(cursor)


def assert_migrate_refuses(dbname: str, message: str) -> None:
    """The deploy stops with one readable line, not a traceback."""
    result = migrate(dbname)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert message in result.stderr


def assert_schema_of_a_fresh_migrate(dbname: str) -> None:
    with connect(dbname) as conn, conn.cursor() as cursor:
        adopted = schema_snapshot(cursor)
    with connection.cursor() as cursor:
        fresh = schema_snapshot(cursor)
    assert_same_schema(fresh, adopted, ("fresh", "adopted"))


def all_rows(dbname: str) -> dict:
    with connect(dbname) as conn:
        return {
            table: conn.execute(f"SELECT to_jsonb(t) FROM {table} t ORDER BY {pk}").fetchall()
            for table, pk in PRIMARY_KEYS.items()
        }


@pytest.mark.django_db
def test_migrate_adopts_a_spec_built_database_with_rows(spec_database):
    with connect(spec_database) as conn:
        conn.execute(ROWS)
    before = all_rows(spec_database)
    assert {table: len(rows) for table, rows in before.items()} == {
        "lynx_drafts": 3,
        "lynx_executions": 4,
        "settlement_intents": 3,
        "lynx_audit_events": 4,
    }

    result = migrate(spec_database)
    assert result.returncode == 0, result.stdout + result.stderr
    assert all_rows(spec_database) == before

    assert_schema_of_a_fresh_migrate(spec_database)

    again = migrate(spec_database)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No migrations to apply." in again.stdout


def test_migrate_refuses_blank_tenants_by_name_and_keeps_the_row(spec_database):
    """The hardening cannot hold on such a row; the operator must see which table to fix."""
    with connect(spec_database) as conn:
        conn.execute(
            "INSERT INTO lynx_audit_events (run_id, tenant_id, event_type) "
            "VALUES ('run-1', '', 'run_start')"
        )

    assert_migrate_refuses(
        spec_database,
        "lynx_audit_events holds 1 rows with an empty tenant_id; "
        "give them their tenant before migrating.",
    )
    with connect(spec_database) as conn:
        assert conn.execute("SELECT run_id, tenant_id FROM lynx_audit_events").fetchall() == [
            ("run-1", "")
        ]
        # Following the message's advice lets the interrupted migrate finish.
        conn.execute("UPDATE lynx_audit_events SET tenant_id = 'tenant-a'")
    resumed = migrate(spec_database)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr


@pytest.mark.django_db
def test_migrate_repairs_a_hand_built_database_that_drifted_from_the_spec(spec_database):
    """A missing index, a FK without ON DELETE CASCADE or a grant service_role lacks is
    added back, not adopted as is."""
    with connect(spec_database) as conn:
        conn.execute(
            "DROP INDEX idx_lynx_audit_events_run_id; "
            "ALTER TABLE lynx_executions DROP CONSTRAINT lynx_executions_draft_id_fkey; "
            "ALTER TABLE lynx_executions ADD CONSTRAINT lynx_executions_draft_id_fkey "
            "FOREIGN KEY (draft_id) REFERENCES lynx_drafts(draft_id); "
            "REVOKE TRUNCATE ON lynx_audit_events FROM service_role"
        )
    result = migrate(spec_database)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_schema_of_a_fresh_migrate(spec_database)
    with connect(spec_database) as conn:
        lacking = conn.execute(
            "SELECT t, p FROM unnest(%s::text[]) t, unnest(%s::text[]) p "
            "WHERE NOT has_table_privilege('service_role', t, p)",  # one privilege at a time
            [list(PRIMARY_KEYS), SPEC_PRIVILEGES],
        ).fetchall()
    assert lacking == []  # the spec's GRANT ALL


def test_migrate_refuses_a_table_whose_columns_differ(spec_database):
    with connect(spec_database) as conn:
        conn.execute("ALTER TABLE settlement_intents ALTER COLUMN metadata TYPE json")
    assert_migrate_refuses(
        spec_database,
        "Cannot adopt the existing table settlement_intents, it differs from the spec: "
        "metadata: json (expected jsonb)",
    )


# Lynx AI's database drifted from the spec in every way adoption repairs: a missing index,
# a foreign key without ON DELETE CASCADE, a policy worded otherwise, RLS off on one table,
# a grant service_role lacks.
DRIFT = """
DROP INDEX idx_lynx_audit_events_run_id;
ALTER TABLE lynx_executions DROP CONSTRAINT lynx_executions_draft_id_fkey;
ALTER TABLE lynx_executions ADD CONSTRAINT lynx_executions_draft_id_fkey
    FOREIGN KEY (draft_id) REFERENCES lynx_drafts(draft_id);
ALTER POLICY "Tenant isolation for drafts" ON lynx_drafts
    USING (tenant_id = current_setting('app.tenant_id'));
ALTER TABLE settlement_intents DISABLE ROW LEVEL SECURITY;
REVOKE TRUNCATE ON lynx_audit_events FROM service_role;
"""
# Statistics Lynx AI made under the name the portal's would have (migration 0035): kept.
LYNX_STATISTICS = """
CREATE STATISTICS stat_lynx_audit_events_type_status (mcv) ON event_type, status, tool_id
    FROM lynx_audit_events;
"""


@pytest.mark.django_db
def test_a_reverse_leaves_what_lynx_ai_built_exactly_as_it_was(spec_database):
    """`migrate storage zero` removes the portal's additions and restores what it replaced:
    the tables, their rows, indexes, keys, RLS, policies and grants are Lynx AI's."""
    with connect(spec_database) as conn:
        conn.execute(ROWS + DRIFT + LYNX_STATISTICS)
    before, rows = catalog(spec_database), all_rows(spec_database)

    adopted = migrate(spec_database)
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert_schema_of_a_fresh_migrate(spec_database)

    reverse = migrate(spec_database, "storage", "zero")
    assert reverse.returncode == 0, reverse.stdout + reverse.stderr
    assert all_rows(spec_database) == rows
    after = catalog(spec_database)
    assert_same_schema(before[0], after[0], ("before adoption", "after the reverse"))
    assert after[1] == before[1], "grants differ"


def test_a_reverse_that_would_drop_rows_asks_first_and_refuses_without_asking():
    """The portal created these tables; Lynx AI has written to them since."""
    with scratch_database("reverse") as dbname:
        assert migrate(dbname).returncode == 0
        with connect(dbname) as conn:
            conn.execute(
                "INSERT INTO lynx_drafts (tenant_id, draft_type, payload, risk_level, "
                "created_by, source_context) VALUES ('tenant-a', 'docs', '{}', 'low', 'lynx', '{}')"
            )

        refused = migrate(dbname, "storage", "zero")
        assert refused.returncode != 0
        assert "This reverse would drop tables holding rows: lynx_drafts (1 rows)." in (
            refused.stderr
        )
        assert "Nothing was changed. Run it interactively to confirm, or pass --discard-rows." in (
            refused.stderr
        )
        with connect(dbname) as conn:
            assert conn.execute("SELECT count(*) FROM lynx_drafts").fetchone() == (1,)

        confirmed = migrate(dbname, "storage", "zero", stdin="yes\n")
        assert confirmed.returncode == 0, confirmed.stdout + confirmed.stderr
        assert "This reverse drops these tables and every row in them:\n  lynx_drafts: 1 rows" in (
            confirmed.stdout
        )
        with connect(dbname) as conn:
            assert conn.execute("SELECT to_regclass('lynx_drafts')").fetchone() == (None,)

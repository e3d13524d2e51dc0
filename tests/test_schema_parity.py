"""The migrations build exactly the spec's SQL, compared catalog to catalog.

The only allowed differences are documented (README, differences from the spec): one
`<table>_tenant_id_not_blank` CHECK per table, the portal's own indexes and statistics, its
restrictive policy for the acting tenant, and its restrictive policies on what a request may
write (migration 0029), on the migrated side only.
"""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from storage.models import User
from tests.catalog import (
    SPEC_TABLES,
    assert_same_schema,
    build_spec_schema,
    connect,
    schema_snapshot,
    scratch_database,
)

HARDENING_CHECK = {"type": "c", "definition": "CHECK ((NOT (tenant_id = ''::text)))"}
PORTAL_INDEXES = {
    "lynx_drafts": {
        "idx_lynx_drafts_submitted": "CREATE INDEX idx_lynx_drafts_submitted "
        "ON public.lynx_drafts USING btree (tenant_id, created_at DESC, draft_id) "
        "INCLUDE (recommended_approvers, created_by) WHERE (status = 'submitted'::text)"
    },
    "lynx_audit_events": {
        "idx_lynx_audit_events_rare_types": "CREATE INDEX idx_lynx_audit_events_rare_types "
        "ON public.lynx_audit_events USING btree (tenant_id, event_type, created_at DESC) "
        "WHERE (event_type = ANY (ARRAY['refusal'::text, 'run_failure'::text]))",
        "idx_lynx_audit_events_type_status": "CREATE INDEX idx_lynx_audit_events_type_status "
        "ON public.lynx_audit_events USING btree (tenant_id, event_type, status, tool_id) "
        "WHERE (NOT ("
        "((event_type = 'tool_call'::text) AND (status = 'succeeded'::text) "
        "AND (status IS NOT NULL)) OR "
        "((event_type = 'run_start'::text) AND (status = 'started'::text) "
        "AND (status IS NOT NULL) AND (tool_id IS NULL)) OR "
        "((event_type = 'run_success'::text) AND (status = 'succeeded'::text) "
        "AND (status IS NOT NULL) AND (tool_id IS NULL))))",
    },
}
PORTAL_STATISTICS = {
    "lynx_audit_events": {
        "stat_lynx_audit_events_type_status": "CREATE STATISTICS "
        "public.stat_lynx_audit_events_type_status (mcv) ON tool_id, event_type, status "
        "FROM lynx_audit_events"
    },
}

ROLE = settings.LYNX_DB_RLS_ROLE
# A second, restrictive policy for the RLS role alone (storage.acting); Lynx AI's roles see the
# spec's policy only.
ACTING_POLICY = "Portal: rows of the acting tenant"
ACTING_POLICY_DEFINITION = {
    "command": "*",
    "permissive": False,
    "roles": [ROLE],
    "using": "(tenant_id = ( SELECT portal_acting_tenant() AS portal_acting_tenant))",
    "with_check": None,
}
# Restrictive policies on the RLS role's writes (migration 0029; tests/test_acting_writes.py).
WRITE_POLICIES = {
    "lynx_drafts": ("Portal lynx_drafts: status as decided (update)", "portal_acting_user()"),
    "settlement_intents": (
        "Portal settlement_intents: moved by operators (update)",
        "portal_acting_user_may('settle_intent'::text)",
    ),
}


@pytest.fixture(scope="module")
def spec_snapshot() -> dict:
    """The catalog of a database built by the spec's SQL alone."""
    with scratch_database("spec") as dbname:
        build_spec_schema(dbname)
        with connect(dbname) as conn, conn.cursor() as cursor:
            return schema_snapshot(cursor)


def migrated_snapshot() -> dict:
    with connection.cursor() as cursor:
        return schema_snapshot(cursor)


def without_hardening(snapshot: dict) -> dict:
    """The snapshot minus the tenant_id_not_blank checks, the portal's indexes and its
    restrictive policies, which must be there."""
    stripped = {}
    for table, catalog in snapshot.items():
        constraints = dict(catalog["constraints"])
        name = f"{table}_tenant_id_not_blank"
        assert constraints.pop(name, None) == HARDENING_CHECK, f"{name} is missing or differs"
        indexes = dict(catalog["indexes"])
        for index, definition in PORTAL_INDEXES.get(table, {}).items():
            found = indexes.pop(index, None)
            assert found and found["definition"] == definition, f"{index} is missing or differs"
        statistics = dict(catalog["statistics"])
        for name, definition in PORTAL_STATISTICS.get(table, {}).items():
            found = statistics.pop(name, None)
            assert found and found["definition"] == definition, f"{name} is missing or differs"
        policies = dict(catalog["policies"])
        assert policies.pop(ACTING_POLICY, None) == ACTING_POLICY_DEFINITION, table
        if table in WRITE_POLICIES:
            name, mentioned = WRITE_POLICIES[table]
            write = policies.pop(name, None) or {}
            assert mentioned in (write.pop("with_check", None) or ""), f"{name} is missing"
            assert write == {"command": "w", "permissive": False, "roles": [ROLE], "using": None}
        stripped[table] = {
            **catalog,
            "constraints": constraints,
            "indexes": indexes,
            "statistics": statistics,
            "policies": policies,
        }
    return stripped


def test_snapshot_sees_the_spec_schema(spec_snapshot):
    """Guards the comparison: a snapshot that missed things would compare equal too."""
    assert all(spec_snapshot.values()), "a spec table is missing"
    executions = spec_snapshot["lynx_executions"]
    assert len(executions["columns"]) == 13
    assert executions["columns"]["result_payload"] == {
        "position": 7,
        "type": "jsonb",
        "not_null": False,
        "default": "'{}'::jsonb",
    }
    assert executions["constraints"]["lynx_executions_draft_id_fkey"] == {
        "type": "f",
        "definition": "FOREIGN KEY (draft_id) REFERENCES lynx_drafts(draft_id) ON DELETE CASCADE",
    }
    assert executions["indexes"]["idx_lynx_executions_draft_tool_unique"]["definition"] == (
        "CREATE UNIQUE INDEX idx_lynx_executions_draft_tool_unique ON public.lynx_executions "
        "USING btree (tenant_id, draft_id, tool_id) WHERE (status = 'succeeded'::text)"
    )
    assert spec_snapshot["lynx_drafts"]["columns"]["created_at"]["default"] == "now()"
    # Every index the spec creates, plus the primary keys', and nothing else.
    assert {table: len(catalog["indexes"]) for table, catalog in spec_snapshot.items()} == {
        "lynx_drafts": 5,
        "lynx_executions": 8,
        "settlement_intents": 4,
        "lynx_audit_events": 5,
    }
    for table, catalog in spec_snapshot.items():
        assert catalog["row_security"] and not catalog["force_row_security"]
        [policy] = catalog["policies"].values()
        assert policy == {
            "command": "*",
            "permissive": True,
            "roles": ["public"],
            "using": "(tenant_id = current_setting('app.tenant_id'::text, true))",
            "with_check": None,
        }, table


@pytest.mark.django_db
def test_migrations_build_the_spec_schema_plus_hardening(spec_snapshot):
    """Lynx AI writes these tables without Django: every catalog detail is the contract."""
    assert_same_schema(spec_snapshot, without_hardening(migrated_snapshot()), ("spec", "migrated"))


@pytest.mark.django_db
def test_models_and_migrations_agree():
    """Models that drifted from the migrations would validate against another schema."""
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_migrations_unapply_and_reapply_to_the_same_schema():
    """storage is AUTH_USER_MODEL's app, so `storage zero` unapplies admin too."""
    before = migrated_snapshot()
    try:
        call_command(
            "migrate", "storage", "zero", verbosity=0, interactive=False, discard_rows=True
        )
        assert migrated_snapshot() == dict.fromkeys(SPEC_TABLES)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolname, has_table_privilege(rolname, 'django_session', 'SELECT') "
                "FROM pg_roles WHERE rolname = %s",
                [settings.LYNX_DB_RLS_ROLE],
            )
            assert cursor.fetchall() == [(settings.LYNX_DB_RLS_ROLE, False)]
    finally:
        call_command("migrate", verbosity=0)
    assert_same_schema(before, migrated_snapshot(), ("before", "reapplied"))


@pytest.mark.django_db(transaction=True)
def test_a_reverse_the_operator_declines_changes_nothing(make_user, monkeypatch):
    make_user("someone")  # a row in storage_user, which `storage zero` drops
    before = migrated_snapshot()
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Reverse cancelled; nothing was changed."):
        call_command("migrate", "storage", "zero", stdout=StringIO())
    assert migrated_snapshot() == before
    assert User.objects.filter(username="someone").exists()

"""The spec's SQL that Django cannot express: the cascading FK, the partial unique
index, row level security with its four policies verbatim, and the service_role
grants. Every statement is idempotent so that a spec-built database is adopted."""

from django.db import migrations, models

from storage.migration_operations import tenant_policy

FOREIGN_KEY = """
DO $$ BEGIN
    IF NOT EXISTS (
        SELECT FROM pg_constraint
        WHERE conrelid = 'lynx_executions'::regclass
          AND conname = 'lynx_executions_draft_id_fkey'
          AND confdeltype = 'c'
    ) THEN
        ALTER TABLE lynx_executions DROP CONSTRAINT IF EXISTS lynx_executions_draft_id_fkey;
        ALTER TABLE lynx_executions ADD CONSTRAINT lynx_executions_draft_id_fkey
            FOREIGN KEY (draft_id) REFERENCES lynx_drafts(draft_id) ON DELETE CASCADE;
    END IF;
END $$;
"""

UNIQUE_INDEX = """
CREATE UNIQUE INDEX IF NOT EXISTS idx_lynx_executions_draft_tool_unique
    ON lynx_executions(tenant_id, draft_id, tool_id)
    WHERE status = 'succeeded';
"""

POLICIES = {
    "lynx_drafts": "Tenant isolation for drafts",
    "lynx_executions": "Tenant isolation for executions",
    "settlement_intents": "Tenant isolation for settlement intents",
    "lynx_audit_events": "Tenant isolation for audit events",
}


SERVICE_ROLE_GRANTS = f"""
DO $$ BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT ALL ON {", ".join(POLICIES)} TO service_role;
    END IF;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("storage", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql=FOREIGN_KEY,
            reverse_sql="ALTER TABLE lynx_executions "
            "DROP CONSTRAINT IF EXISTS lynx_executions_draft_id_fkey;",
        ),
        migrations.RunSQL(
            sql=UNIQUE_INDEX,
            reverse_sql="DROP INDEX IF EXISTS idx_lynx_executions_draft_tool_unique;",
            state_operations=[
                migrations.AddConstraint(
                    model_name="execution",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("status", "succeeded")),
                        fields=("tenant_id", "draft", "tool_id"),
                        name="idx_lynx_executions_draft_tool_unique",
                        violation_error_message=(
                            "This draft already has a succeeded execution of this tool."
                        ),
                    ),
                ),
            ],
        ),
        *(tenant_policy(table, policy) for table, policy in POLICIES.items()),
        # Supabase only: elsewhere there is no service_role to grant to.
        migrations.RunSQL(sql=SERVICE_ROLE_GRANTS, reverse_sql=migrations.RunSQL.noop),
    ]

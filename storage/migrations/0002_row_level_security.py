"""The spec's SQL that Django cannot express: the cascading FK, the partial unique index,
row level security with its four policies verbatim, and the service_role grants.

On tables Lynx AI built, whatever already matches is kept as it is (no lock is taken for
it), and a reverse leaves it; see storage/migration_operations.py. The partial unique index
is only declared here: 0012 builds it CONCURRENTLY where it is missing.
"""

from django.db import migrations, models

from storage.migration_operations import ServiceRoleGrants, SpecForeignKey, TenantPolicy

POLICIES = {
    "lynx_drafts": "Tenant isolation for drafts",
    "lynx_executions": "Tenant isolation for executions",
    "settlement_intents": "Tenant isolation for settlement intents",
    "lynx_audit_events": "Tenant isolation for audit events",
}


class Migration(migrations.Migration):
    dependencies = [("storage", "0001_initial")]

    operations = [
        SpecForeignKey(
            "lynx_executions",
            "lynx_executions_draft_id_fkey",
            "FOREIGN KEY (draft_id) REFERENCES lynx_drafts(draft_id) ON DELETE CASCADE",
        ),
        migrations.SeparateDatabaseAndState(
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
        *(TenantPolicy(table, policy) for table, policy in POLICIES.items()),
        # Supabase only: elsewhere there is no service_role to grant to.
        ServiceRoleGrants(list(POLICIES)),
    ]

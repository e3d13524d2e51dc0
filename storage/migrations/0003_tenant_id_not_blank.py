"""Hardening beyond the spec: CHECK (tenant_id <> '') on every tenant table.

A session that once set app.tenant_id reads it back as '' afterwards, so a row
with a blank tenant would be visible to tenantless requests.

The checks are added NOT VALID, which holds each table's lock for an instant instead of
for a scan of its rows; 0012 validates them without blocking Lynx AI's writers."""

from django.core.management import CommandError
from django.db import migrations, models

from storage.migration_operations import AddConstraintNotValid
from storage.schema_facts import blank_tenant_rows

TABLES = {
    "draft": "lynx_drafts",
    "execution": "lynx_executions",
    "settlementintent": "settlement_intents",
    "auditevent": "lynx_audit_events",
}


def refuse_blank_tenants(apps, schema_editor) -> None:
    """On an adopted database, say which table holds blank tenants instead of failing obscurely."""
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES.values():
            if count := blank_tenant_rows(cursor, table):
                raise CommandError(
                    f"{table} holds {count} rows with an empty tenant_id; give them "
                    "their tenant before migrating."
                )


class Migration(migrations.Migration):
    dependencies = [("storage", "0002_row_level_security")]

    operations = [
        migrations.RunPython(refuse_blank_tenants, migrations.RunPython.noop),
        *(
            AddConstraintNotValid(
                model_name=model_name,
                constraint=models.CheckConstraint(
                    condition=models.Q(("tenant_id", ""), _negated=True),
                    name=f"{table}_tenant_id_not_blank",
                    violation_error_message="The tenant id must not be empty.",
                ),
            )
            for model_name, table in TABLES.items()
        ),
    ]

"""lynx_audit_events_archive: where `archive_audit_events` moves events past retention.

The spec asks for old audit events to go to a separate table. It has the live
table's columns, types, defaults and CHECKs (so `INSERT ... SELECT` moves rows
unchanged), its own indexes, the same tenant policy, and the RLS role may only
read it."""

import django.db.models.expressions
from django.db import migrations, models

from storage.migration_operations import TenantPolicy, for_rls_role

TABLE = "lynx_audit_events_archive"
POLICY = "Tenant isolation for archived audit events"


def raw(sql: str) -> django.db.models.expressions.RawSQL:
    return django.db.models.expressions.RawSQL(sql, ())


EVENT_TYPES = ["run_start", "run_success", "run_failure", "tool_call", "refusal"]
STATUSES = [
    ("started", "Started"),
    ("succeeded", "Succeeded"),
    ("failed", "Failed"),
    ("denied", "Denied"),
]


class Migration(migrations.Migration):
    dependencies = [("storage", "0009_settlement_status_grant")]

    operations = [
        migrations.CreateModel(
            name="ArchivedAuditEvent",
            fields=[
                (
                    "event_id",
                    models.UUIDField(
                        db_default=raw("gen_random_uuid()"),
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("run_id", models.TextField()),
                ("tenant_id", models.TextField()),
                ("tool_id", models.TextField(blank=True, null=True)),
                (
                    "event_type",
                    models.TextField(
                        choices=[
                            (value, value.replace("_", " ").capitalize()) for value in EVENT_TYPES
                        ]
                    ),
                ),
                ("status", models.TextField(blank=True, choices=STATUSES, null=True)),
                ("input_data", models.JSONField(blank=True, null=True)),
                ("output_data", models.JSONField(blank=True, null=True)),
                ("error_message", models.TextField(blank=True, null=True)),
                ("created_at", models.DateTimeField(db_default=raw("NOW()"), editable=False)),
            ],
            options={
                "verbose_name": "archived audit event",
                "db_table": TABLE,
                "ordering": ["-created_at"],
                "indexes": [
                    models.Index(fields=["tenant_id"], name=f"idx_{TABLE}_tenant_id"),
                    models.Index(fields=["tenant_id", "run_id"], name=f"idx_{TABLE}_run_id"),
                    models.Index(
                        condition=models.Q(("tool_id__isnull", False)),
                        fields=["tenant_id", "tool_id"],
                        name=f"idx_{TABLE}_tool_id",
                    ),
                    models.Index(
                        fields=["tenant_id", "-created_at"], name=f"idx_{TABLE}_created_at"
                    ),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("event_type__in", EVENT_TYPES)),
                        name=f"{TABLE}_event_type_check",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("tenant_id", ""), _negated=True),
                        name=f"{TABLE}_tenant_id_not_blank",
                        violation_error_message="The tenant id must not be empty.",
                    ),
                ],
            },
        ),
        TenantPolicy(TABLE, POLICY),
        for_rls_role(
            f"GRANT SELECT ON {TABLE} TO {{role}}", f"REVOKE ALL ON {TABLE} FROM {{role}}"
        ),
    ]

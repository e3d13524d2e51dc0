"""The daily digests sent to reviewers (`manage.py notify_reviewers`): one per reviewer and day.

Under the spec's tenant policy; the command records each digest inside its
tenant's context, as the web role, which may only read and add them.
"""

import django.db.models.deletion
import django.db.models.expressions
from django.conf import settings
from django.db import migrations, models

from storage.migration_operations import for_rls_role, tenant_policy

TABLE = "portal_review_digests"


class Migration(migrations.Migration):
    dependencies = [("storage", "0013_approval_rules")]

    operations = [
        migrations.CreateModel(
            name="ReviewDigest",
            fields=[
                (
                    "digest_id",
                    models.UUIDField(
                        db_default=django.db.models.expressions.RawSQL("gen_random_uuid()", ()),
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("tenant_id", models.TextField()),
                ("day", models.DateField()),
                (
                    "drafts",
                    models.PositiveIntegerField(help_text="How many drafts awaited the reviewer."),
                ),
                (
                    "sent_at",
                    models.DateTimeField(
                        db_default=django.db.models.expressions.RawSQL("NOW()", ()),
                        editable=False,
                    ),
                ),
                (
                    "reviewer",
                    models.ForeignKey(
                        db_column="reviewer_id",
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "db_table": TABLE,
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("tenant_id", ""), _negated=True),
                        name="portal_review_digests_tenant_id_not_blank",
                        violation_error_message="The tenant id must not be empty.",
                    ),
                    models.UniqueConstraint(
                        fields=("reviewer", "day"), name="portal_review_digests_one_per_day"
                    ),
                ],
            },
        ),
        tenant_policy(TABLE, "Tenant isolation for review digests"),
        for_rls_role(
            f"GRANT SELECT, INSERT ON {TABLE} TO {{role}}", f"REVOKE ALL ON {TABLE} FROM {{role}}"
        ),
    ]

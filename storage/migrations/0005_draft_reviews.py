"""The decision trail (lynx_draft_reviews) and the permission to approve or reject drafts.

The table's tenant policy and the web role's grants on it come in 0006."""

import django.db.models.deletion
import django.db.models.expressions
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("storage", "0004_rls_role"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="draft",
            options={
                "ordering": ["-created_at"],
                "permissions": [("review_draft", "Can approve or reject drafts")],
            },
        ),
        migrations.CreateModel(
            name="DraftReview",
            fields=[
                (
                    "review_id",
                    models.UUIDField(
                        db_default=django.db.models.expressions.RawSQL("gen_random_uuid()", ()),
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("tenant_id", models.TextField()),
                (
                    "decision",
                    models.TextField(choices=[("approve", "Approve"), ("reject", "Reject")]),
                ),
                (
                    "reason",
                    models.TextField(
                        blank=True,
                        db_default="",
                        help_text="The rejection's reason or the approval's note.",
                    ),
                ),
                (
                    "from_status",
                    models.TextField(
                        choices=[
                            ("draft", "Draft"),
                            ("submitted", "Submitted"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                            ("cancelled", "Cancelled"),
                            ("published", "Published"),
                            ("executed", "Executed"),
                        ]
                    ),
                ),
                (
                    "to_status",
                    models.TextField(
                        choices=[
                            ("draft", "Draft"),
                            ("submitted", "Submitted"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                            ("cancelled", "Cancelled"),
                            ("published", "Published"),
                            ("executed", "Executed"),
                        ]
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.expressions.RawSQL("NOW()", ()), editable=False
                    ),
                ),
                (
                    "draft",
                    models.ForeignKey(
                        db_column="draft_id",
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="reviews",
                        to="storage.draft",
                    ),
                ),
                (
                    "reviewer",
                    models.ForeignKey(
                        db_column="reviewer_id",
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="draft_reviews",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "decision",
                "verbose_name_plural": "decision trail",
                "db_table": "lynx_draft_reviews",
                "ordering": ["-created_at"],
                "indexes": [
                    models.Index(
                        fields=["tenant_id", "draft", "-created_at"],
                        name="idx_lynx_draft_reviews_draft_id",
                    ),
                    models.Index(
                        fields=["tenant_id", "reviewer", "-created_at"],
                        name="idx_lynx_draft_reviews_reviewer_id",
                    ),
                    models.Index(
                        fields=["tenant_id", "-created_at"],
                        name="idx_lynx_draft_reviews_created_at",
                    ),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("decision__in", ["approve", "reject"])),
                        name="lynx_draft_reviews_decision_check",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "from_status__in",
                                [
                                    "draft",
                                    "submitted",
                                    "approved",
                                    "rejected",
                                    "cancelled",
                                    "published",
                                    "executed",
                                ],
                            )
                        ),
                        name="lynx_draft_reviews_from_status_check",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "to_status__in",
                                [
                                    "draft",
                                    "submitted",
                                    "approved",
                                    "rejected",
                                    "cancelled",
                                    "published",
                                    "executed",
                                ],
                            )
                        ),
                        name="lynx_draft_reviews_to_status_check",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("tenant_id", ""), _negated=True),
                        name="lynx_draft_reviews_tenant_id_not_blank",
                        violation_error_message="The tenant id must not be empty.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("decision", "approve"),
                            models.Q(("reason", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="lynx_draft_reviews_reject_reason_check",
                        violation_error_message="A rejection needs a reason.",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("decision", "approve")),
                        fields=("draft", "reviewer"),
                        name="lynx_draft_reviews_one_approval_per_reviewer",
                        violation_error_message="This reviewer has already approved this draft.",
                    ),
                ],
            },
        ),
    ]

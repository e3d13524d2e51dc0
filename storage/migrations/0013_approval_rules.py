"""Approval rules per tenant, and the history of every change to them.

Both tables are under the spec's tenant policy. The web role edits rules only
inside the rules' tenant (storage.approval_rules.services opens that tenant's
context), and may only add to and read the history: nobody rewrites it.
The custom permission storage.edit_approval_rules is created here, as in 0007.
"""

import django.db.models.deletion
import django.db.models.expressions
from django.conf import settings
from django.db import migrations, models

from storage.migration_operations import for_rls_role, tenant_policy

RULES = "portal_approval_rules"
CHANGES = "portal_approval_rule_changes"
DRAFT_TYPES = [("docs", "Docs"), ("workflow", "Workflow"), ("vpm_payment", "VPM payment")]
RISK_LEVELS = [("low", "Low"), ("medium", "Medium"), ("high", "High")]
ACTIONS = [("added", "Added"), ("changed", "Changed"), ("deleted", "Deleted")]


def raw(sql: str) -> django.db.models.expressions.RawSQL:
    return django.db.models.expressions.RawSQL(sql, ())


def not_blank(table: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(("tenant_id", ""), _negated=True),
        name=f"{table}_tenant_id_not_blank",
        violation_error_message="The tenant id must not be empty.",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("storage", "0012_trail_outlives_drafts"),
    ]

    operations = [
        migrations.CreateModel(
            name="ApprovalRule",
            fields=[
                (
                    "rule_id",
                    models.UUIDField(
                        db_default=raw("gen_random_uuid()"),
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("tenant_id", models.TextField()),
                ("name", models.TextField(help_text="What reviewers see, e.g. “Large payments”.")),
                (
                    "draft_type",
                    models.TextField(
                        blank=True, choices=DRAFT_TYPES, help_text="Empty: every type.", null=True
                    ),
                ),
                (
                    "risk_level",
                    models.TextField(
                        blank=True,
                        choices=RISK_LEVELS,
                        help_text="Empty: every risk level.",
                        null=True,
                    ),
                ),
                (
                    "min_amount",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        help_text="Payments only: the rule applies from this amount up "
                        "(in the currency below).",
                        max_digits=18,
                        null=True,
                        verbose_name="from amount",
                    ),
                ),
                (
                    "currency",
                    models.TextField(
                        blank=True,
                        help_text="The amount's currency, a three-letter code (EUR).",
                        null=True,
                    ),
                ),
                (
                    "approvals",
                    models.PositiveSmallIntegerField(
                        help_text="Distinct reviewers who must approve (1 to 10)."
                    ),
                ),
                (
                    "required_group",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        help_text="If set, one of the approvers must be a member of this group.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="auth.group",
                    ),
                ),
            ],
            options={
                "db_table": RULES,
                "ordering": ["draft_type", "risk_level", "currency", "min_amount"],
                "permissions": [
                    ("edit_approval_rules", "Can add, change and delete approval rules")
                ],
                "indexes": [
                    models.Index(fields=["tenant_id"], name="idx_portal_approval_rules_tenant_id")
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("draft_type__in", ["docs", "workflow", "vpm_payment"])),
                        name="portal_approval_rules_draft_type_check",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("risk_level__in", ["low", "medium", "high"])),
                        name="portal_approval_rules_risk_level_check",
                    ),
                    not_blank(RULES),
                    models.CheckConstraint(
                        condition=models.Q(("approvals__gte", 1), ("approvals__lte", 10)),
                        name="portal_approval_rules_approvals_range",
                        violation_error_message="A rule asks for 1 to 10 approvals.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("currency__isnull", True), ("min_amount__isnull", True)),
                            models.Q(
                                ("currency__isnull", False),
                                ("currency__regex", "^[A-Z]{3}$"),
                                ("draft_type", "vpm_payment"),
                                ("min_amount__gte", 0),
                                ("min_amount__isnull", False),
                            ),
                            _connector="OR",
                        ),
                        name="portal_approval_rules_amount_check",
                        violation_error_message="An amount needs a three-letter currency, and "
                        "only payment rules have one.",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="ApprovalRuleChange",
            fields=[
                (
                    "change_id",
                    models.UUIDField(
                        db_default=raw("gen_random_uuid()"),
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("tenant_id", models.TextField()),
                ("rule_id", models.UUIDField()),
                ("action", models.TextField(choices=ACTIONS)),
                ("changed_at", models.DateTimeField(db_default=raw("NOW()"), editable=False)),
                ("before", models.JSONField(blank=True, null=True)),
                ("after", models.JSONField(blank=True, null=True)),
                (
                    "changed_by",
                    models.ForeignKey(
                        db_column="changed_by_id",
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "db_table": CHANGES,
                "ordering": ["-changed_at"],
                "indexes": [
                    models.Index(
                        fields=["tenant_id", "rule_id", "-changed_at"],
                        name="idx_portal_approval_rule_changes_rule_id",
                    ),
                    models.Index(
                        fields=["tenant_id", "-changed_at"],
                        name="idx_portal_approval_rule_changes_changed_at",
                    ),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("action__in", ["added", "changed", "deleted"])),
                        name="portal_approval_rule_changes_action_check",
                    ),
                    not_blank(CHANGES),
                ],
            },
        ),
        tenant_policy(RULES, "Tenant isolation for approval rules"),
        tenant_policy(CHANGES, "Tenant isolation for approval rule changes"),
        for_rls_role(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON {RULES} TO {{role}}; "
            f"GRANT SELECT, INSERT ON {CHANGES} TO {{role}}",
            f"REVOKE ALL ON {RULES}, {CHANGES} FROM {{role}}",
        ),
    ]

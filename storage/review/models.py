"""The reviewer workflow's own tables: the decision trail, approval rules and sent digests.

Each is the portal's, not the spec's, and lives under the same tenant policy as
the spec's tables (migrations say which statements the web role may run).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from storage.choices import Decision, DraftStatus, DraftType, RiskLevel, RuleChange
from storage.fields import ExactDecimal, db_default
from storage.models import NOW, choices_check, tenant_id_field, tenant_id_not_blank, tenant_index


def uuid_key() -> models.UUIDField:
    return models.UUIDField(
        primary_key=True, db_default=db_default("gen_random_uuid()"), editable=False
    )


class DraftReview(models.Model):
    """One reviewer's decision on one draft, with its own copy of what was decided.

    The web role may insert and read it, never change or delete it. It keeps
    the draft's id without a foreign key, and a snapshot of the draft as
    decided (type, risk, amount, the content and its fingerprint): Lynx AI may
    delete the draft, as the spec allows, and the decision stays readable.
    """

    review_id = uuid_key()
    tenant_id = tenant_id_field()
    draft_id = models.UUIDField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        db_index=False,
        db_column="reviewer_id",
        related_name="draft_reviews",
    )
    decision = models.TextField(choices=Decision.choices)
    reason = models.TextField(
        blank=True, db_default="", help_text="The rejection's reason or the approval's note."
    )
    from_status = models.TextField(choices=DraftStatus.choices)
    to_status = models.TextField(choices=DraftStatus.choices)
    created_at = models.DateTimeField(db_default=db_default(NOW), editable=False)
    # The review round the decision belongs to (storage.review.rounds says when one starts).
    round = models.PositiveIntegerField(db_default=1)
    # The draft as the reviewer saw it; amount and currency as the approval rules read them.
    draft_type = models.TextField(choices=DraftType.choices)
    risk_level = models.TextField(choices=RiskLevel.choices)
    amount = ExactDecimal(null=True, blank=True)
    currency = models.TextField(null=True, blank=True)
    payload = models.JSONField()
    source_context = models.JSONField()
    fingerprint = models.TextField(help_text="SHA-256 of the payload and source context decided.")

    class Meta:
        db_table = "lynx_draft_reviews"
        ordering = ["-created_at"]
        verbose_name = "decision"
        verbose_name_plural = "decision trail"
        constraints = [
            choices_check("lynx_draft_reviews", "decision", Decision),
            choices_check("lynx_draft_reviews", "from_status", DraftStatus),
            choices_check("lynx_draft_reviews", "to_status", DraftStatus),
            tenant_id_not_blank("lynx_draft_reviews"),
            models.CheckConstraint(
                condition=Q(decision=Decision.APPROVE) | ~Q(reason=""),
                name="lynx_draft_reviews_reject_reason_check",
                violation_error_message="A rejection needs a reason.",
            ),
            # The last line of defence against a double-counted approval.
            models.UniqueConstraint(
                fields=["draft_id", "reviewer", "round"],
                condition=Q(decision=Decision.APPROVE),
                name="lynx_draft_reviews_one_approval_per_round",
                violation_error_message="This reviewer has already approved this draft "
                "in this round.",
            ),
        ]
        indexes = [
            tenant_index("lynx_draft_reviews_draft_id", "draft_id", "-created_at"),
            tenant_index("lynx_draft_reviews_reviewer_id", "reviewer", "-created_at"),
            tenant_index("lynx_draft_reviews_created_at", "-created_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} {str(self.draft_id)[:8]}"


class ApprovalRule(models.Model):
    """A tenant's rule: drafts of this type and risk (and, for payments, at least this amount
    in this currency) need this many distinct approvals, and one from a member of this group.

    Every rule that applies to a draft counts: it needs the most approvals any of
    them asks for, and a member of each group they name (storage.review.rules).
    """

    rule_id = uuid_key()
    tenant_id = tenant_id_field()
    name = models.TextField(help_text="What reviewers see, e.g. “Large payments”.")
    draft_type = models.TextField(
        choices=DraftType.choices, null=True, blank=True, help_text="Empty: every type."
    )
    risk_level = models.TextField(
        choices=RiskLevel.choices, null=True, blank=True, help_text="Empty: every risk level."
    )
    min_amount = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        verbose_name="from amount",
        help_text="Payments only: the rule applies from this amount up (in the currency below).",
    )
    currency = models.TextField(
        null=True, blank=True, help_text="The amount's currency, a three-letter code (EUR)."
    )
    approvals = models.PositiveSmallIntegerField(
        help_text="Distinct reviewers who must approve (1 to 10)."
    )
    required_group = models.ForeignKey(
        "auth.Group",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
        help_text="If set, one of the approvers must be a member of this group.",
    )

    class Meta:
        db_table = "portal_approval_rules"
        ordering = ["draft_type", "risk_level", "currency", "min_amount"]
        constraints = [
            choices_check("portal_approval_rules", "draft_type", DraftType),
            choices_check("portal_approval_rules", "risk_level", RiskLevel),
            tenant_id_not_blank("portal_approval_rules"),
            models.CheckConstraint(
                condition=Q(approvals__gte=1, approvals__lte=10),
                name="portal_approval_rules_approvals_range",
                violation_error_message="A rule asks for 1 to 10 approvals.",
            ),
            models.CheckConstraint(
                condition=Q(min_amount__isnull=True, currency__isnull=True)
                | Q(
                    # Spelt out: a CHECK passes when its condition is NULL.
                    min_amount__isnull=False,
                    currency__isnull=False,
                    min_amount__gte=0,
                    currency__regex=r"^[A-Z]{3}$",
                    draft_type=DraftType.VPM_PAYMENT,
                ),
                name="portal_approval_rules_amount_check",
                violation_error_message="An amount needs a three-letter currency, and only "
                "payment rules have one.",
            ),
        ]
        indexes = [tenant_index("portal_approval_rules_tenant_id")]
        permissions = [("edit_approval_rules", "Can add, change and delete approval rules")]

    def __str__(self) -> str:
        return self.name


class ApprovalRuleChange(models.Model):
    """Who changed an approval rule, when, and the rule before and after: append-only."""

    change_id = uuid_key()
    tenant_id = tenant_id_field()
    rule_id = models.UUIDField()
    action = models.TextField(choices=RuleChange.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        db_index=False,
        db_column="changed_by_id",
        related_name="+",
    )
    changed_at = models.DateTimeField(db_default=db_default(NOW), editable=False)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "portal_approval_rule_changes"
        ordering = ["-changed_at"]
        constraints = [
            choices_check("portal_approval_rule_changes", "action", RuleChange),
            tenant_id_not_blank("portal_approval_rule_changes"),
        ]
        indexes = [
            tenant_index("portal_approval_rule_changes_rule_id", "rule_id", "-changed_at"),
            tenant_index("portal_approval_rule_changes_changed_at", "-changed_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {str(self.rule_id)[:8]}"


class ReviewDigest(models.Model):
    """A daily digest sent to a reviewer: at most one per reviewer and day."""

    digest_id = uuid_key()
    tenant_id = tenant_id_field()
    # No database key: a digest record never stands in the way of removing a user.
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        db_column="reviewer_id",
        related_name="+",
    )
    day = models.DateField()
    drafts = models.PositiveIntegerField(help_text="How many drafts awaited the reviewer.")
    sent_at = models.DateTimeField(db_default=db_default(NOW), editable=False)

    class Meta:
        db_table = "portal_review_digests"
        constraints = [
            tenant_id_not_blank("portal_review_digests"),
            models.UniqueConstraint(
                fields=["reviewer", "day"], name="portal_review_digests_one_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"Digest of {self.day}"

"""The four Lynx AI tables of the Supabase spec, plus the portal's own tenants and users.

Lynx AI writes the spec tables without Django, so every default lives in the
database (`db_default`), and every constraint and index carries the spec's name.
"""

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.crypto import salted_hmac

from storage.choices import (
    DraftStatus,
    DraftType,
    EventType,
    ExecutionStatus,
    Provider,
    RiskLevel,
    SettlementStatus,
)
from storage.fields import TextPrimaryKey, db_default
from storage.people import passwords

NOW = "NOW()"
SESSION_HASH_SALT = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
EMPTY_JSONB = "'{}'::JSONB"


def tenant_id_field() -> models.TextField:
    return models.TextField(db_index=False)


def tenant_id_not_blank(table: str) -> models.CheckConstraint:
    """Hardening beyond the spec: a blank tenant could match a tenantless session."""
    return models.CheckConstraint(
        condition=~Q(tenant_id=""),
        name=f"{table}_tenant_id_not_blank",
        violation_error_message="The tenant id must not be empty.",
    )


def choices_check(table: str, column: str, choices) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{column}__in": choices.values}),
        name=f"{table}_{column}_check",
    )


def tenant_index(name: str, *fields: str, **kwargs) -> models.Index:
    """One of the spec's `(tenant_id, ...)` indexes, named `idx_<name>`."""
    return models.Index(fields=["tenant_id", *fields], name=f"idx_{name}", **kwargs)


class Tenant(models.Model):
    """A Lynx AI tenant as the portal knows it; `tenant_id` is the value in the spec's rows."""

    tenant_id = models.TextField(primary_key=True)
    name = models.TextField()

    class Meta:
        db_table = "portal_tenants"
        ordering = ["tenant_id"]
        constraints = [tenant_id_not_blank("portal_tenants")]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A portal user, in at most one tenant; without one, no tenant row is visible.

    Once the user has a history (decisions, admin log entries) the tenant can no
    longer change: the database refuses it (migration 0017).
    """

    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        db_column="tenant_id",
    )
    # Bumped by the database whenever the user's tenant, groups, permissions or
    # flags change; part of the session hash, so that their other sessions end.
    session_version = models.PositiveIntegerField(default=0, db_default=0, editable=False)

    def _get_session_auth_hash(self, secret=None) -> str:
        """Django's HMAC of the password as the row holds it (its stand-in, whether this copy
        holds the hash or not: storage.people.passwords), and of the session version once it
        moved (version 0 gives Django's own hash)."""
        password = passwords.stand_in(self.password)
        value = f"{password}:{self.session_version}" if self.session_version else password
        return salted_hmac(SESSION_HASH_SALT, value, secret=secret, algorithm="sha256").hexdigest()

    def check_password(self, raw_password) -> bool:
        """Django's check, against the hash held apart when this copy holds its stand-in."""
        if passwords.is_held(self.password):
            self.password = passwords.held_hash(username=self.username) or self.password
        return super().check_password(raw_password)

    def has_usable_password(self) -> bool:
        return passwords.is_held(self.password) or super().has_usable_password()


# Beyond the spec (README, differences from the spec): the review queue and "awaiting me"
# walk a tenant's submitted drafts oldest first, and count them, from this index alone.
SUBMITTED_DRAFTS_INDEX = tenant_index(
    "lynx_drafts_submitted",
    "-created_at",
    "draft_id",
    include=["recommended_approvers", "created_by"],
    condition=Q(status=DraftStatus.SUBMITTED),
)


class Draft(models.Model):
    draft_id = models.UUIDField(
        primary_key=True, db_default=db_default("gen_random_uuid()"), editable=False
    )
    tenant_id = tenant_id_field()
    draft_type = models.TextField(choices=DraftType.choices)
    payload = models.JSONField()
    status = models.TextField(choices=DraftStatus.choices, db_default=DraftStatus.DRAFT.value)
    risk_level = models.TextField(choices=RiskLevel.choices)
    created_by = models.TextField()
    created_at = models.DateTimeField(db_default=db_default(NOW), editable=False)
    source_context = models.JSONField()
    recommended_approvers = ArrayField(
        models.TextField(),
        null=True,
        blank=True,
        db_default=db_default("ARRAY[]::TEXT[]"),
    )
    request_id = models.TextField(null=True, blank=True)

    class Meta:
        db_table = "lynx_drafts"
        ordering = ["-created_at"]
        constraints = [
            choices_check("lynx_drafts", "status", DraftStatus),
            choices_check("lynx_drafts", "risk_level", RiskLevel),
            choices_check("lynx_drafts", "draft_type", DraftType),
            tenant_id_not_blank("lynx_drafts"),
        ]
        indexes = [
            tenant_index("lynx_drafts_tenant_id"),
            tenant_index("lynx_drafts_status", "status"),
            tenant_index(
                "lynx_drafts_request_id",
                "request_id",
                condition=Q(request_id__isnull=False),
            ),
            tenant_index("lynx_drafts_created_at", "-created_at"),
            SUBMITTED_DRAFTS_INDEX,
        ]
        permissions = [("review_draft", "Can approve or reject drafts")]

    def __str__(self) -> str:
        return f"{self.get_draft_type_display()} {str(self.draft_id)[:8]}"


class Execution(models.Model):
    execution_id = models.UUIDField(
        primary_key=True, db_default=db_default("gen_random_uuid()"), editable=False
    )
    # The constraint itself (ON DELETE CASCADE, which Django 5.2 cannot
    # declare) is created by migration 0002 with the spec's name.
    draft = models.ForeignKey(
        Draft,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        db_column="draft_id",
        related_name="executions",
    )
    tool_id = models.TextField()
    tenant_id = tenant_id_field()
    actor_id = models.TextField()
    status = models.TextField(
        choices=ExecutionStatus.choices, db_default=ExecutionStatus.STARTED.value
    )
    result_payload = models.JSONField(null=True, blank=True, db_default=db_default(EMPTY_JSONB))
    created_at = models.DateTimeField(db_default=db_default(NOW), editable=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    rollback_instructions = models.JSONField(null=True, blank=True)
    request_id = models.TextField(null=True, blank=True)
    source_context = models.JSONField(null=True, blank=True, db_default=db_default(EMPTY_JSONB))

    class Meta:
        db_table = "lynx_executions"
        ordering = ["-created_at"]
        constraints = [
            choices_check("lynx_executions", "status", ExecutionStatus),
            tenant_id_not_blank("lynx_executions"),
            # Created by migration 0002 as the spec's partial unique index.
            models.UniqueConstraint(
                fields=["tenant_id", "draft", "tool_id"],
                condition=Q(status=ExecutionStatus.SUCCEEDED),
                name="idx_lynx_executions_draft_tool_unique",
                violation_error_message=(
                    "This draft already has a succeeded execution of this tool."
                ),
            ),
        ]
        indexes = [
            tenant_index("lynx_executions_tenant_id"),
            tenant_index("lynx_executions_draft_id", "draft"),
            tenant_index("lynx_executions_tool_id", "tool_id"),
            tenant_index("lynx_executions_status", "status"),
            tenant_index(
                "lynx_executions_request_id",
                "request_id",
                condition=Q(request_id__isnull=False),
            ),
            tenant_index("lynx_executions_created_at", "-created_at"),
        ]

    def __str__(self) -> str:
        return f"{self.tool_id} {str(self.execution_id)[:8]}"


class SettlementIntent(models.Model):
    payment_id = TextPrimaryKey()
    settlement_status = models.TextField(
        choices=SettlementStatus.choices, db_default=SettlementStatus.QUEUED.value
    )
    provider = models.TextField(choices=Provider.choices, db_default=Provider.NONE.value)
    tenant_id = tenant_id_field()
    created_at = models.DateTimeField(db_default=db_default(NOW), editable=False)
    updated_at = models.DateTimeField(db_default=db_default(NOW))
    metadata = models.JSONField(null=True, blank=True, db_default=db_default(EMPTY_JSONB))

    class Meta:
        db_table = "settlement_intents"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(settlement_status__in=SettlementStatus.values),
                name="settlement_intents_status_check",
            ),
            choices_check("settlement_intents", "provider", Provider),
            tenant_id_not_blank("settlement_intents"),
        ]
        indexes = [
            tenant_index("settlement_intents_tenant_id"),
            tenant_index("settlement_intents_status", "settlement_status"),
            tenant_index("settlement_intents_created_at", "-created_at"),
        ]
        permissions = [("settle_intent", "Can move a manual settlement intent to its next status")]

    def __str__(self) -> str:
        return self.payment_id


class AuditEventColumns(models.Model):
    """The spec's audit event columns, shared by the live table and its archive."""

    event_id = models.UUIDField(
        primary_key=True, db_default=db_default("gen_random_uuid()"), editable=False
    )
    run_id = models.TextField()
    tenant_id = tenant_id_field()
    tool_id = models.TextField(null=True, blank=True)
    event_type = models.TextField(choices=EventType.choices)
    # The spec lists the values but has no CHECK for them: model validation only.
    status = models.TextField(choices=ExecutionStatus.choices, null=True, blank=True)
    input_data = models.JSONField(null=True, blank=True)
    output_data = models.JSONField(null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=db_default(NOW), editable=False)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.event_type} {self.run_id}"


def audit_event_constraints(table: str) -> list[models.CheckConstraint]:
    return [choices_check(table, "event_type", EventType), tenant_id_not_blank(table)]


def audit_event_indexes(table: str) -> list[models.Index]:
    """The spec's audit event indexes, named after `table`."""
    return [
        tenant_index(f"{table}_tenant_id"),
        tenant_index(f"{table}_run_id", "run_id"),
        tenant_index(f"{table}_tool_id", "tool_id", condition=Q(tool_id__isnull=False)),
        tenant_index(f"{table}_created_at", "-created_at"),
    ]


# Beyond the spec (README, differences from the spec): the audit lists, live and archived,
# filtered on a rare event type, and their counts, would otherwise walk all of a tenant's
# events.
RARE_EVENT_TYPES = [EventType.REFUSAL, EventType.RUN_FAILURE]

# And filtered on an event type with a status or a tool that seldom go with it (none, for a
# run start "denied" or a tool's run start), whose few matches lie among all of a tenant's
# events of that type. The usual events, ~86% of them and found near the top of the
# created-at index, stay out of it.
USUAL_EVENTS = [
    Q(event_type=EventType.TOOL_CALL, status=ExecutionStatus.SUCCEEDED),
    Q(event_type=EventType.RUN_START, status=ExecutionStatus.STARTED, tool_id__isnull=True),
    Q(event_type=EventType.RUN_SUCCESS, status=ExecutionStatus.SUCCEEDED, tool_id__isnull=True),
]


def audit_event_portal_indexes(table: str) -> list[models.Index]:
    """The portal's own audit event indexes, named after `table` (migrations 0020, 0035, 0036)."""
    return [
        tenant_index(
            f"{table}_rare_types",
            "event_type",
            "-created_at",
            condition=Q(event_type__in=RARE_EVENT_TYPES),
        ),
        tenant_index(
            f"{table}_type_status",
            "event_type",
            "status",
            "tool_id",
            condition=~Q(*USUAL_EVENTS, _connector=Q.OR),
        ),
    ]


class AuditEvent(AuditEventColumns):
    class Meta:
        db_table = "lynx_audit_events"
        ordering = ["-created_at"]
        constraints = audit_event_constraints("lynx_audit_events")
        indexes = [
            *audit_event_indexes("lynx_audit_events"),
            *audit_event_portal_indexes("lynx_audit_events"),
        ]
        permissions = [("export_rows", "Can export drafts, executions and audit events as CSV")]


class ArchivedAuditEvent(AuditEventColumns):
    """Audit events past the retention period, moved here by `manage.py archive_audit_events`.

    Same columns, same tenant policy (migration 0010), its own indexes; the web
    role may only read it.
    """

    class Meta:
        db_table = "lynx_audit_events_archive"
        ordering = ["-created_at"]
        constraints = audit_event_constraints("lynx_audit_events_archive")
        indexes = [
            *audit_event_indexes("lynx_audit_events_archive"),
            *audit_event_portal_indexes("lynx_audit_events_archive"),
        ]
        verbose_name = "archived audit event"


# The reviewer workflow's own tables live with their domain; imported here so Django finds them.
from storage.review.models import (  # noqa: E402
    ApprovalRule,
    ApprovalRuleChange,
    DraftReview,
    ReviewDigest,
)

__all__ = [
    "ApprovalRule",
    "ApprovalRuleChange",
    "ArchivedAuditEvent",
    "AuditEvent",
    "Draft",
    "DraftReview",
    "Execution",
    "ReviewDigest",
    "SettlementIntent",
    "Tenant",
    "User",
]

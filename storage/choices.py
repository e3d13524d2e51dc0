"""The allowed values of the spec's CHECK constraints, in the spec's order.

Models, admin, demo data and tests all use these; the order matters because
the CHECK constraints built from them must match the spec's catalog text.
"""

from django.db import models


class DraftType(models.TextChoices):
    DOCS = "docs", "Docs"
    WORKFLOW = "workflow", "Workflow"
    VPM_PAYMENT = "vpm_payment", "VPM payment"


class DraftStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"
    PUBLISHED = "published", "Published"
    EXECUTED = "executed", "Executed"


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class ExecutionStatus(models.TextChoices):
    STARTED = "started", "Started"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    DENIED = "denied", "Denied"


class SettlementStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class Provider(models.TextChoices):
    NONE = "none", "None"
    MANUAL = "manual", "Manual"
    BANK_X = "bank_x", "Bank X"


class EventType(models.TextChoices):
    RUN_START = "run_start", "Run start"
    RUN_SUCCESS = "run_success", "Run success"
    RUN_FAILURE = "run_failure", "Run failure"
    TOOL_CALL = "tool_call", "Tool call"
    REFUSAL = "refusal", "Refusal"


# The portal's own table (lynx_draft_reviews), not the spec's.
class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


# The portal's own table (portal_approval_rule_changes).
class RuleChange(models.TextChoices):
    ADDED = "added", "Added"
    CHANGED = "changed", "Changed"
    DELETED = "deleted", "Deleted"

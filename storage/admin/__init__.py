"""The admin is the portal's user interface. Spec rows come from Lynx AI: read-only here."""

from storage.admin import (  # noqa: F401
    accounts,
    approval_rules,
    audit_events,
    draft_reviews,
    drafts,
    executions,
    settlements,
)

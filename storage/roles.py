"""The portal's groups and exactly the permissions each holds, defined once.

Used by test fixtures (tests that flush the database delete migration-made
rows) and the demo data. Group migrations call `ensure_groups` with a frozen
copy of the definitions as of their time (later permissions do not exist yet
there): changing GROUP_PERMISSIONS needs a new migration with the new copy,
and a test fails until the newest group migration matches it.
"""

from django.apps import apps as global_apps

REVIEWERS = "Reviewers"
AUDITORS = "Auditors"
SETTLEMENT_OPERATORS = "Settlement operators"
TENANT_ADMINS = "Tenant admins"
REVIEW_PERMISSION = "storage.review_draft"
SETTLE_PERMISSION = "storage.settle_intent"
EXPORT_PERMISSION = "storage.export_rows"
# Editing one's own tenant's approval rules (superusers edit any tenant's): grant it, with
# view_approvalrule and view_approvalrulechange, to a group that manages a tenant's rules.
EDIT_RULES_PERMISSION = "storage.edit_approval_rules"

VIEW_EVIDENCE = ["view_draft", "view_execution", "view_settlementintent", "view_draftreview"]
GROUP_PERMISSIONS = {
    # Decide on drafts; see the evidence around them and the decision trail.
    REVIEWERS: [*VIEW_EVIDENCE, "review_draft", "view_approvalrule"],
    # See everything and export it; decide nothing.
    AUDITORS: [
        *VIEW_EVIDENCE,
        "view_auditevent",
        "view_archivedauditevent",
        "export_rows",
        "view_approvalrule",
        "view_approvalrulechange",
    ],
    # Move manual settlement intents along.
    SETTLEMENT_OPERATORS: ["view_settlementintent", "settle_intent"],
    # Manage the people and the approval rules of their own tenant
    # (storage/admin/accounts.py and storage/admin/approval_rules.py say how far).
    TENANT_ADMINS: [
        "view_user",
        "add_user",
        "change_user",
        "view_approvalrule",
        "view_approvalrulechange",
        "edit_approval_rules",
    ],
}


def ensure_groups(*, apps=global_apps, definitions: dict | None = None) -> None:
    """Create the groups if missing and give each exactly its permissions (idempotent)."""
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in (definitions or GROUP_PERMISSIONS).items():
        permissions = list(
            permission_model.objects.filter(
                content_type__app_label="storage", codename__in=codenames
            )
        )
        missing = set(codenames) - {p.codename for p in permissions}
        if missing:
            raise RuntimeError(f"Permissions missing for {name}: {', '.join(sorted(missing))}.")
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.set(permissions)

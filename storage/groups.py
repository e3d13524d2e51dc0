"""The operations groups and their permissions, defined once for migrations and tests.

`ensure_groups` only adds: a group another migration made (Auditors may come from
the review screens too) keeps the permissions it already has.
"""

from django.apps import apps as global_apps

VIEW_TENANT_TABLES = [
    "view_draft",
    "view_execution",
    "view_settlementintent",
    "view_auditevent",
    "view_archivedauditevent",
]
GROUP_PERMISSIONS = {
    "Settlement operators": ["view_settlementintent", "settle_intent"],
    "Auditors": [*VIEW_TENANT_TABLES, "export_rows"],
}


def ensure_groups(*, apps=global_apps) -> None:
    """Create the groups that are missing and give every group its permissions (idempotent)."""
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        permissions = permission_model.objects.filter(
            content_type__app_label="storage", codename__in=codenames
        )
        missing = set(codenames) - {p.codename for p in permissions}
        if missing:
            raise RuntimeError(f"Permissions missing for {name}: {', '.join(sorted(missing))}")
        group.permissions.add(*permissions)

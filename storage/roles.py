"""The portal's groups and exactly the permissions each holds.

One definition, used by the data migration that creates the groups and by test
fixtures (tests that flush the database delete migration-made rows). Models are
passed in so that a migration can hand over its historical ones.
"""

REVIEWERS = "Reviewers"
AUDITORS = "Auditors"
REVIEW_PERMISSION = "storage.review_draft"

VIEW_SPEC_TABLES = ["view_draft", "view_execution", "view_settlementintent"]
GROUP_PERMISSIONS = {
    # Decide on drafts; see the evidence around them and the decision trail.
    REVIEWERS: [*VIEW_SPEC_TABLES, "view_draftreview", "review_draft"],
    # See everything, decide nothing.
    AUDITORS: [*VIEW_SPEC_TABLES, "view_auditevent", "view_draftreview"],
}


def ensure_groups(*, group_model, permission_model) -> None:
    """Create the groups if missing and give each exactly its permissions (idempotent)."""
    for name, codenames in GROUP_PERMISSIONS.items():
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

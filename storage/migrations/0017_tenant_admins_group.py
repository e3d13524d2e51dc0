"""Tenant admins is new: they manage the users and the approval rules of their own tenant.

A frozen copy of storage/roles.py's GROUP_PERMISSIONS as of this migration (a
test keeps the newest group migration equal to it)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from storage.roles import ensure_groups

VIEW_EVIDENCE = ["view_draft", "view_execution", "view_settlementintent", "view_draftreview"]
GROUPS = {
    "Reviewers": [*VIEW_EVIDENCE, "review_draft", "view_approvalrule"],
    "Auditors": [
        *VIEW_EVIDENCE,
        "view_auditevent",
        "view_archivedauditevent",
        "export_rows",
        "view_approvalrule",
        "view_approvalrulechange",
    ],
    "Settlement operators": ["view_settlementintent", "settle_intent"],
    "Tenant admins": [
        "view_user",
        "add_user",
        "change_user",
        "view_approvalrule",
        "view_approvalrulechange",
        "edit_approval_rules",
    ],
}


def create_groups(apps, schema_editor) -> None:
    # Permissions are made by post_migrate, after every migration: too late for this one.
    app_config = apps.get_app_config("storage")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    ensure_groups(apps=apps, definitions=GROUPS)


class Migration(migrations.Migration):
    dependencies = [("storage", "0016_complete_spec_tables")]

    # The group stays on the way back: people may be in it.
    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]

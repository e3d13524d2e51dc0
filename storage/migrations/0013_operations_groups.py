"""The groups `Settlement operators` and `Auditors` with their permissions (storage.groups)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from storage.groups import ensure_groups


def create_groups(apps, schema_editor) -> None:
    # Permissions are made by post_migrate, after every migration: too late for this one.
    app_config = apps.get_app_config("storage")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    ensure_groups(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("storage", "0012_audit_events_archive"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # The groups stay on the way back: people may be in them.
    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]

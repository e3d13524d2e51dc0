"""The groups as storage/roles.py defines them now: Settlement operators is new, and
Auditors may also read archived audit events and export lists."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from storage.roles import ensure_groups


def create_groups(apps, schema_editor) -> None:
    # Permissions are made by post_migrate, after every migration: too late for this one.
    app_config = apps.get_app_config("storage")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    ensure_groups(apps=apps)


class Migration(migrations.Migration):
    dependencies = [("storage", "0010_audit_events_archive")]

    # The groups stay on the way back: people may be in them.
    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]

"""The groups Reviewers and Auditors (storage/roles.py says what each may do).

Custom permissions such as storage.review_draft are normally created after
`migrate` (post_migrate), so they are created here first."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from storage.roles import GROUP_PERMISSIONS, ensure_groups


def create_groups(apps, schema_editor) -> None:
    app_config = apps.get_app_config("storage")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    ensure_groups(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
    )


def delete_groups(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=GROUP_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [("storage", "0006_draft_reviews_security")]

    operations = [migrations.RunPython(create_groups, delete_groups)]

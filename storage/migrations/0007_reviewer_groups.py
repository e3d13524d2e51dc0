"""The groups Reviewers and Auditors, as they were when the reviewer workflow came.

A frozen copy: later permissions (storage/roles.py) do not exist yet here.
Custom permissions such as storage.review_draft are normally created after
`migrate` (post_migrate), so they are created here first."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from storage.roles import ensure_groups

VIEW_EVIDENCE = ["view_draft", "view_execution", "view_settlementintent", "view_draftreview"]
GROUPS = {
    "Reviewers": [*VIEW_EVIDENCE, "review_draft"],
    "Auditors": [*VIEW_EVIDENCE, "view_auditevent"],
}


def create_groups(apps, schema_editor) -> None:
    app_config = apps.get_app_config("storage")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    ensure_groups(apps=apps, definitions=GROUPS)


def delete_groups(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [("storage", "0006_draft_reviews_security")]

    operations = [migrations.RunPython(create_groups, delete_groups)]

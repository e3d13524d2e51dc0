"""Two permissions of the operations screens: settling manual intents and exporting lists."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("storage", "0007_reviewer_groups")]

    operations = [
        migrations.AlterModelOptions(
            name="auditevent",
            options={
                "ordering": ["-created_at"],
                "permissions": [
                    ("export_rows", "Can export drafts, executions and audit events as CSV")
                ],
            },
        ),
        migrations.AlterModelOptions(
            name="settlementintent",
            options={
                "ordering": ["-created_at"],
                "permissions": [
                    ("settle_intent", "Can move a manual settlement intent to its next status")
                ],
            },
        ),
    ]

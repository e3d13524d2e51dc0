"""What an adopted table lacks of the spec, built without blocking Lynx AI's writers.

Not one transaction (`atomic = False`): indexes are built CONCURRENTLY, missing CHECKs are
added NOT VALID, and every constraint the portal added NOT VALID (the foreign key of 0002,
the hardening of 0003, the CHECKs here) is then validated, which lets Lynx AI read and write
meanwhile. Each step is recorded and can be re-run, so an interrupted migrate continues
where it stopped. Spec tables migrated before the provenance record existed count as
adopted from here on: a reverse leaves them.
"""

from django.db import migrations

from storage.concurrent_operations import (
    CompleteSpecTables,
    RecordEarlierAdoptions,
    ValidatePortalConstraints,
)
from storage.schema_facts import SPEC_TABLES


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("storage", "0015_approval_rule_viewers")]

    operations = [
        RecordEarlierAdoptions(),
        CompleteSpecTables(["draft", "execution", "settlementintent", "auditevent"]),
        ValidatePortalConstraints(SPEC_TABLES),
    ]

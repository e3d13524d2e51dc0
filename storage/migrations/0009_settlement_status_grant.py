"""The RLS role may move a settlement intent on: these three columns, nothing else of it.

`storage.settlement.services.move_settlements` is the only writer; the provider, tenant and
payment id stay out of reach of the web role."""

from django.db import migrations

from storage.migration_operations import for_rls_role

COLUMNS = "settlement_status, updated_at, metadata"


class Migration(migrations.Migration):
    dependencies = [("storage", "0008_operations_permissions")]

    operations = [
        for_rls_role(
            f"GRANT UPDATE ({COLUMNS}) ON settlement_intents TO {{role}}",
            f"REVOKE UPDATE ({COLUMNS}) ON settlement_intents FROM {{role}}",
        )
    ]

"""lynx_draft_reviews under the spec's tenant policy, append-only for the web role.

The web role (settings.LYNX_DB_RLS_ROLE) may read and insert decisions, never
update or delete them. The primary key is a UUID with a database default: no
sequence to grant."""

from django.db import migrations

from storage.migration_operations import TenantPolicy, for_rls_role

TABLE = "lynx_draft_reviews"


class Migration(migrations.Migration):
    dependencies = [("storage", "0005_draft_reviews")]

    operations = [
        TenantPolicy(TABLE, "Tenant isolation for draft reviews"),
        for_rls_role(
            f"GRANT SELECT, INSERT ON {TABLE} TO {{role}}", f"REVOKE ALL ON {TABLE} FROM {{role}}"
        ),
    ]

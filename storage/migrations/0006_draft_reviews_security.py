"""lynx_draft_reviews under the spec's tenant policy, append-only for the web role.

The web role (settings.LYNX_DB_RLS_ROLE) may read and insert decisions, never
update or delete them. The primary key is a UUID with a database default: no
sequence to grant."""

from django.conf import settings
from django.db import migrations
from psycopg import sql

TABLE = "lynx_draft_reviews"
POLICY = "Tenant isolation for draft reviews"


def _execute(schema_editor, statement: sql.Composable) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(statement)


def grant(apps, schema_editor) -> None:
    role = sql.Identifier(settings.LYNX_DB_RLS_ROLE)
    _execute(
        schema_editor,
        sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(sql.Identifier(TABLE), role),
    )


def revoke(apps, schema_editor) -> None:
    role = sql.Identifier(settings.LYNX_DB_RLS_ROLE)
    _execute(schema_editor, sql.SQL("REVOKE ALL ON {} FROM {}").format(sql.Identifier(TABLE), role))


class Migration(migrations.Migration):
    dependencies = [("storage", "0005_draft_reviews")]

    operations = [
        migrations.RunSQL(
            sql=f"""
            ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY;
            CREATE POLICY "{POLICY}"
                ON {TABLE}
                FOR ALL
                USING (tenant_id = current_setting('app.tenant_id', true));
            """,
            reverse_sql=f"""
            DROP POLICY "{POLICY}" ON {TABLE};
            ALTER TABLE {TABLE} DISABLE ROW LEVEL SECURITY;
            """,
        ),
        migrations.RunPython(grant, revoke),
    ]

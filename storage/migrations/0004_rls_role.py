"""What the role every request runs as (settings.LYNX_DB_RLS_ROLE) may do: RLS applies to it.

The role itself (NOLOGIN, NOSUPERUSER, NOBYPASSRLS, NOINHERIT, owning nothing) and who may
switch to it are set up by `migrate` before any migration runs (storage/db_roles.py). It
holds only what the portal needs: it reads the spec's tables, may change a draft's status
and nothing else of them, and uses Django's own tables for sign-in, sessions, the admin
log and the superusers' user and tenant management.

Roles belong to the cluster, not the database: unapplying this migration
revokes the grants here but leaves the role for other databases."""

from django.conf import settings
from django.db import migrations
from psycopg import sql

SPEC_TABLES = [
    "lynx_drafts",
    "lynx_executions",
    "settlement_intents",
    "lynx_audit_events",
]
READ_ONLY_TABLES = ["auth_permission", "django_content_type"]
APPEND_ONLY_TABLES = ["django_admin_log"]
READ_WRITE_TABLES = [
    "django_session",
    "portal_tenants",
    "storage_user",
    "storage_user_groups",
    "storage_user_user_permissions",
    "auth_group",
    "auth_group_permissions",
]


def _grants(role: sql.Identifier) -> list[sql.Composed]:
    def tables(names):
        return sql.SQL(", ").join(map(sql.Identifier, names))

    return [
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
        sql.SQL("GRANT SELECT ON {} TO {}").format(tables(SPEC_TABLES + READ_ONLY_TABLES), role),
        sql.SQL("GRANT UPDATE (status) ON lynx_drafts TO {}").format(role),
        sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(tables(APPEND_ONLY_TABLES), role),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(
            tables(READ_WRITE_TABLES), role
        ),
    ]


def _sequences(cursor, names: list[str]) -> list[str]:
    """The sequences behind the id columns of these tables."""
    cursor.execute(
        """
        SELECT s.oid::regclass::text FROM pg_class s
        JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
        WHERE s.relkind = 'S' AND d.refclassid = 'pg_class'::regclass
          AND d.refobjid = ANY (SELECT to_regclass(t) FROM unnest(%s::text[]) t)
        """,
        [names],
    )
    return [row[0] for row in cursor.fetchall()]


def grant_privileges(apps, schema_editor) -> None:
    role = sql.Identifier(settings.LYNX_DB_RLS_ROLE)
    with schema_editor.connection.cursor() as cursor:
        for statement in _grants(role):
            cursor.execute(statement)
        for sequence in _sequences(cursor, APPEND_ONLY_TABLES + READ_WRITE_TABLES):
            cursor.execute(
                sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(sql.SQL(sequence), role)
            )


def revoke_grants(apps, schema_editor) -> None:
    role = sql.Identifier(settings.LYNX_DB_RLS_ROLE)
    every_table = SPEC_TABLES + READ_ONLY_TABLES + APPEND_ONLY_TABLES + READ_WRITE_TABLES
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("REVOKE ALL ON {} FROM {}").format(
                sql.SQL(", ").join(map(sql.Identifier, every_table)), role
            )
        )
        for sequence in _sequences(cursor, every_table):
            cursor.execute(
                sql.SQL("REVOKE ALL ON SEQUENCE {} FROM {}").format(sql.SQL(sequence), role)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("storage", "0003_tenant_id_not_blank"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant_privileges, revoke_grants)]

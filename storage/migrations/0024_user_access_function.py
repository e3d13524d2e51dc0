"""`portal_user_access`: a signed-in person's permissions and groups, read with plans kept.

Every request reads its user with their permissions and groups in one statement
(storage.people.backend). Its subqueries cost PostgreSQL more to parse, rewrite under RLS
and plan than to run, on every page; a PL/pgSQL function's plans are kept for the database
session (on the server: they work through a transaction pooler). It runs with the caller's
rights (SECURITY INVOKER: the RLS role) and, as the portal's other functions, only the RLS role
may execute it.
"""

from django.db import migrations

from storage.migration_operations import only_the_rls_role_executes

FUNCTION = "portal_user_access(bigint, boolean)"

CREATE = """
CREATE FUNCTION portal_user_access(person_id bigint, superuser boolean,
                                   OUT permissions text[], OUT group_ids integer[])
LANGUAGE plpgsql STABLE SECURITY INVOKER
AS $$
BEGIN
    permissions := ARRAY(
        SELECT type.app_label || '.' || permission.codename
        FROM auth_permission permission
        JOIN django_content_type type ON type.id = permission.content_type_id
        WHERE superuser
            OR permission.id IN (
                SELECT own.permission_id FROM storage_user_user_permissions own
                WHERE own.user_id = person_id)
            OR permission.id IN (
                SELECT granted.permission_id
                FROM auth_group_permissions granted
                JOIN storage_user_groups membership ON membership.group_id = granted.group_id
                WHERE membership.user_id = person_id)
    );
    group_ids := ARRAY(
        SELECT membership.group_id FROM storage_user_groups membership
        WHERE membership.user_id = person_id
    );
END
$$
"""


class Migration(migrations.Migration):
    dependencies = [("storage", "0023_draft_page_functions")]

    operations = [
        migrations.RunSQL(CREATE, f"DROP FUNCTION {FUNCTION}"),
        *only_the_rls_role_executes(FUNCTION),
    ]

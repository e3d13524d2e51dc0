"""Sessions only through their key: the RLS role no longer reads `django_session` itself.

Any statement a request runs, a SQL injection included, runs as the RLS role: with the table
granted, `SELECT session_key FROM django_session` listed every signed-in person's session,
and any of them could be taken over from another browser. Now the role holds nothing on the
table; the session store (storage.people.sessions) goes through these functions, which run
with their owner's rights and reach one session only, the one whose key the caller already
holds: the key is the secret. Each is one statement, all-or-nothing without a savepoint.
"""

from django.db import migrations

from storage.migration_operations import for_rls_role, only_the_rls_role_executes

FUNCTIONS = {
    "portal_session_data(text, timestamptz)": """
        RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
            SELECT session_data FROM django_session WHERE session_key = $1 AND expire_date > $2
        $$""",
    "portal_session_exists(text)": """
        RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
            SELECT EXISTS (SELECT FROM django_session WHERE session_key = $1)
        $$""",
    "portal_session_create(text, text, timestamptz)": """
        RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
            WITH made AS (
                INSERT INTO django_session (session_key, session_data, expire_date)
                VALUES ($1, $2, $3) ON CONFLICT (session_key) DO NOTHING RETURNING 1
            )
            SELECT EXISTS (SELECT FROM made)
        $$""",
    "portal_session_update(text, text, timestamptz)": """
        RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
            WITH saved AS (
                UPDATE django_session SET session_data = $2, expire_date = $3
                WHERE session_key = $1 RETURNING 1
            )
            SELECT EXISTS (SELECT FROM saved)
        $$""",
    "portal_session_delete(text)": """
        RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
            DELETE FROM django_session WHERE session_key = $1
        $$""",
}


def _create(signature: str, body: str) -> migrations.RunSQL:
    return migrations.RunSQL(f"CREATE FUNCTION {signature} {body}", f"DROP FUNCTION {signature}")


class Migration(migrations.Migration):
    dependencies = [("storage", "0024_user_access_function")]

    operations = [
        *(_create(signature, body) for signature, body in FUNCTIONS.items()),
        *(op for signature in FUNCTIONS for op in only_the_rls_role_executes(signature)),
        for_rls_role(
            "REVOKE ALL ON django_session FROM {role}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON django_session TO {role}",
        ),
    ]

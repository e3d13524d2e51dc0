"""`portal_list_count`: a list's estimate and, when it is small, its exact count, in one statement.

A list page asks the planner how many rows its filters match (EXPLAIN) and, below
`exact_below`, counts them exactly: two round trips done by one function here. It runs with the
caller's rights (SECURITY INVOKER: the RLS role, with the request's tenant), so it reads nothing
the caller could not; only the RLS role may execute it, not PUBLIC and not Supabase's Data API
roles, since a function that runs the query it is given is no business of theirs.
"""

from django.db import migrations

from storage.migration_operations import for_rls_role

FUNCTION = "portal_list_count(text, integer)"
API_ROLES = ("anon", "authenticated", "service_role")

CREATE = """
CREATE FUNCTION portal_list_count(query text, exact_below integer,
                                  OUT estimate bigint, OUT counted bigint)
LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    estimate := (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
    IF estimate < exact_below THEN
        EXECUTE 'SELECT count(*) FROM (' || query || ' LIMIT ' || exact_below || ') AS bounded'
            INTO counted;
    END IF;
END
$$
"""

# Supabase grants its Data API roles EXECUTE on new functions in `public`; elsewhere they may
# not exist.
REVOKE_API_ROLES = f"""
DO $$
DECLARE
    api_role text;
BEGIN
    FOREACH api_role IN ARRAY ARRAY{list(API_ROLES)} LOOP
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = api_role) THEN
            EXECUTE format('REVOKE ALL ON FUNCTION {FUNCTION} FROM %I', api_role);
        END IF;
    END LOOP;
END
$$
"""


class Migration(migrations.Migration):
    dependencies = [("storage", "0021_drafts_submitted_index")]

    operations = [
        migrations.RunSQL(
            [CREATE, f"REVOKE ALL ON FUNCTION {FUNCTION} FROM PUBLIC", REVOKE_API_ROLES],
            f"DROP FUNCTION {FUNCTION}",
        ),
        for_rls_role(
            f"GRANT EXECUTE ON FUNCTION {FUNCTION} TO {{role}}",
            f"REVOKE ALL ON FUNCTION {FUNCTION} FROM {{role}}",
        ),
    ]

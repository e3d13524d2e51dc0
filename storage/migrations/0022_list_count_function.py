"""`portal_list_count`: a list's estimate and, when it is small, its exact count, in one statement.

A list page asks the planner how many rows its filters match (EXPLAIN) and, below
`exact_below`, counts them exactly: two round trips done by one function here. It runs with the
caller's rights (SECURITY INVOKER: the RLS role, with the request's tenant), so it reads nothing
the caller could not; only the RLS role may execute it, not PUBLIC and not Supabase's Data API
roles, since a function that runs the query it is given is no business of theirs.
"""

from django.db import migrations

from storage.migration_operations import only_the_rls_role_executes

FUNCTION = "portal_list_count(text, integer)"

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


class Migration(migrations.Migration):
    dependencies = [("storage", "0021_drafts_submitted_index")]

    operations = [
        migrations.RunSQL(CREATE, f"DROP FUNCTION {FUNCTION}"),
        *only_the_rls_role_executes(FUNCTION),
    ]

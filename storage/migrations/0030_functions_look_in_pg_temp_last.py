"""The portal's SECURITY DEFINER functions find tables of the schema, never a request's own.

PostgreSQL lets every role create temporary tables, and name lookup searches `pg_temp` first
unless the search path names it. The functions took the search path `migrate` ran with
(`SET search_path FROM CURRENT`), which does not name it: a request's own SQL could create a
temporary `portal_signing_key` holding a key it knows, sign any user with it, and act for
that user in any tenant. Each function now searches its schema, then `pg_temp` (as
PostgreSQL's "Writing SECURITY DEFINER Functions Safely" advises); the request's own
statements get the same path in every transaction (storage.tenancy).
"""

from django.db import migrations

# The portal's SECURITY DEFINER functions in the schema migrate runs in, as `regprocedure`.
FUNCTIONS = """
    SELECT fn.oid::regprocedure FROM pg_proc fn
    WHERE fn.prosecdef AND fn.proname LIKE 'portal\\_%'
        AND fn.pronamespace = current_schema()::regnamespace
"""


def each_function(alter: str) -> str:
    """Run `alter`, a format() string of the function, on each of FUNCTIONS."""
    return f"""
DO $$
DECLARE
    portal_function regprocedure;
BEGIN
    FOR portal_function IN {FUNCTIONS} LOOP
        EXECUTE {alter};
    END LOOP;
END
$$
"""


class Migration(migrations.Migration):
    dependencies = [("storage", "0029_writes_in_the_acting_persons_name")]

    operations = [
        migrations.RunSQL(
            each_function(
                "format('ALTER FUNCTION %s SET search_path = %I, pg_temp', "
                "portal_function, current_schema())"
            ),
            each_function(
                "format('ALTER FUNCTION %s SET search_path FROM CURRENT', portal_function)"
            ),
        ),
    ]

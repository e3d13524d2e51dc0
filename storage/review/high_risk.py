"""The default rule's approvals for a high-risk draft, as the database enforces it.

storage.review.rules reads LYNX_HIGH_RISK_APPROVALS from the settings; the database's check of
every decision (migration 0032) reads `portal_high_risk_approvals()`, a function only its
owner may replace, not a setting a request could change. Every `migrate` makes the function
return the setting (`keep_function`, on post_migrate); the deploy checks report a web process
whose setting differs (storage.checks).
"""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, migrations

SIGNATURE = "portal_high_risk_approvals()"


def function_sql(approvals: int) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {SIGNATURE} RETURNS integer "
        f"LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$ SELECT {int(approvals)} $$"
    )


def create_function() -> migrations.RunPython:
    """For migration 0032: the function, returning the setting of the `migrate` that runs
    (only_the_rls_role_executes() after it)."""

    def create(apps, schema_editor) -> None:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(function_sql(settings.LYNX_HIGH_RISK_APPROVALS))

    def drop(apps, schema_editor) -> None:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"DROP FUNCTION {SIGNATURE}")

    return migrations.RunPython(create, drop)


def database_approvals(cursor) -> int | None:
    """What the database counts for a high-risk draft now; None before migration 0032."""
    cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [SIGNATURE])
    if not cursor.fetchone()[0]:
        return None
    cursor.execute(f"SELECT {SIGNATURE}")
    return cursor.fetchone()[0]


def keep_function(*, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate: the function returns LYNX_HIGH_RISK_APPROVALS (a `CREATE OR REPLACE`,
    which keeps who may execute it, only when it returns something else)."""
    with connections[using].cursor() as cursor:
        found = database_approvals(cursor)
        if found is not None and found != settings.LYNX_HIGH_RISK_APPROVALS:
            cursor.execute(function_sql(settings.LYNX_HIGH_RISK_APPROVALS))

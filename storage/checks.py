"""Deploy safety checks: refuse to serve when tenant isolation is not in force.

They run with `manage.py check` and before `migrate`; an unreachable database
is reported by manage.py itself, in one line. A check that must be
bypassed to deploy its own fix can be, with `migrate --skip-checks`. They read the
catalogs and django_migrations as the owner (storage.database). `check --deploy` also
checks the web login role of DATABASE_URL: that it can switch to the RLS role and can
gain nothing more from inside a request.
"""

import json

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, register

from storage import acting, db_roles
from storage.database import connection_as, current_role
from storage.review import high_risk
from storage.schema_facts import SPEC_POLICY
from storage.tenancy import rls_role

# Every tenant table and the name of the policy that isolates it.
TENANT_POLICIES = {
    "lynx_drafts": "Tenant isolation for drafts",
    "lynx_executions": "Tenant isolation for executions",
    "settlement_intents": "Tenant isolation for settlement intents",
    "lynx_audit_events": "Tenant isolation for audit events",
    "lynx_draft_reviews": "Tenant isolation for draft reviews",
    "lynx_audit_events_archive": "Tenant isolation for archived audit events",
    "portal_approval_rules": "Tenant isolation for approval rules",
    "portal_approval_rule_changes": "Tenant isolation for approval rule changes",
    "portal_review_digests": "Tenant isolation for review digests",
}
# The migration that gives each table its policy: before it is applied, nothing to check.
POLICY_MIGRATIONS = dict.fromkeys(TENANT_POLICIES, ("storage", "0002_row_level_security")) | {
    "lynx_draft_reviews": ("storage", "0006_draft_reviews_security"),
    "lynx_audit_events_archive": ("storage", "0010_audit_events_archive"),
    "portal_approval_rules": ("storage", "0013_approval_rules"),
    "portal_approval_rule_changes": ("storage", "0013_approval_rules"),
    "portal_review_digests": ("storage", "0014_review_digests"),
}
ROLE_MIGRATION = ("storage", "0004_rls_role")
# From this migration on, every table of the project's models that the RLS role can read or write
# has row level security (people, groups, tenants, the admin log), but for these: they hold no
# tenant's rows, or are read before the user, and so the tenant, is known.
PEOPLE_MIGRATION = ("storage", "0018_people_and_log_security")
NO_TENANT_ROWS = {"django_session", "django_content_type", "auth_permission"}
# From this one on, the RLS role reaches sessions only through their key (storage.people.sessions).
SESSIONS_MIGRATION = ("storage", "0025_sessions_through_functions")
# From this one on, requests sign the user they act for (storage.acting).
ACTING_MIGRATION = ("storage", "0026_acting_tenant")
# From this one on, the functions that run as the owner look in pg_temp last.
TEMP_LAST_MIGRATION = ("storage", "0030_functions_look_in_pg_temp_last")
# From this one on, django-axes' records have row level security too (storage.acting).
SIGN_IN_RECORDS_MIGRATION = ("storage", "0031_sign_in_records_of_the_attempt")
# The restrictive policies that hold a request's writes to what its person may, in their own
# name (0029), and a decision to what the workflow records (0032), by the migration making them.
WRITE_POLICIES = {
    ("storage", "0029_writes_in_the_acting_persons_name"): [
        ("lynx_draft_reviews", "Portal lynx_draft_reviews: the acting reviewer's (insert)"),
        ("lynx_drafts", "Portal lynx_drafts: status as decided (update)"),
        ("settlement_intents", "Portal settlement_intents: moved by operators (update)"),
        *(
            ("portal_approval_rules", f"Portal portal_approval_rules: changed by editors ({c})")
            for c in ("insert", "update", "delete")
        ),
        (
            "portal_approval_rule_changes",
            "Portal portal_approval_rule_changes: by its editor (insert)",
        ),
        ("django_admin_log", "Portal django_admin_log: the acting person's (insert)"),
    ],
    ("storage", "0032_approvals_counted_by_the_database"): [
        ("lynx_draft_reviews", "Portal lynx_draft_reviews: as recorded (insert)"),
    ],
}
SIGN_IN_RECORDS = {
    "axes_accessattempt",
    "axes_accessattemptexpiration",
    "axes_accessfailurelog",
    "axes_accesslog",
}


@register()
def check_row_level_security(app_configs=None, **kwargs) -> list[Error]:
    with connection_as("owner") as connection, connection.cursor() as cursor:
        applied = _applied_migrations(cursor)
        errors = []
        # Until `migrate` has built them, there is nothing to check.
        policed = {t: p for t, p in TENANT_POLICIES.items() if POLICY_MIGRATIONS[t] in applied}
        if policed:
            errors += _table_errors(cursor, policed)
        if ROLE_MIGRATION in applied:
            errors += _role_errors(cursor)
        if PEOPLE_MIGRATION in applied:
            exempt = set() if SIGN_IN_RECORDS_MIGRATION in applied else SIGN_IN_RECORDS
            errors += _reachable_table_errors(cursor, exempt=exempt)
        if SESSIONS_MIGRATION in applied:
            errors += _session_table_errors(cursor)
        if TEMP_LAST_MIGRATION in applied:
            errors += _definer_path_errors(cursor)
        written = [
            policy
            for key, policies in WRITE_POLICIES.items()
            if key in applied
            for policy in policies
        ]
        if written:
            errors += _write_policy_errors(cursor, written)
    return errors


def _applied_migrations(cursor) -> set[tuple[str, str]]:
    """Read directly: the owner's connection may be no alias of the ORM's."""
    cursor.execute("SELECT to_regclass('django_migrations') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return set()
    cursor.execute("SELECT app, name FROM django_migrations")
    return set(cursor.fetchall())


@register(Tags.security, deploy=True)
def check_web_role(app_configs=None, **kwargs) -> list[Error]:
    """The web login role can switch to the RLS role and gains nothing by leaving it."""
    role = rls_role()
    with connection_as("web") as connection, connection.cursor() as cursor:
        web_role = current_role(connection)
        cursor.execute(
            "SELECT pg_has_role(current_user, %s, %s) FROM pg_roles WHERE rolname = %s",
            [role, db_roles.membership(connection.pg_version), role],
        )
        row = cursor.fetchone()
        weaknesses = db_roles.web_role_weaknesses(cursor, web_role=web_role, rls_role=role)
    hint = "Follow the README's deploy checklist: DATABASE_URL is the web login role."
    errors = []
    if row is not None and not row[0]:
        errors.append(
            Error(
                f"The web role {web_role} cannot SET ROLE {role}.",
                hint="Run migrate, which grants it.",
                id="storage.E014",
            )
        )
    if weaknesses:
        errors.append(
            Error(
                f"The web role {web_role} can leave row level security: it "
                + "; it ".join(weaknesses)
                + ".",
                hint=hint,
                id="storage.E020",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def check_high_risk_approvals(app_configs=None, **kwargs) -> list[Error]:
    """The database approves a high-risk draft after as many approvals as this process asks."""
    with connection_as("owner") as connection, connection.cursor() as cursor:
        found = high_risk.database_approvals(cursor)
    wanted = settings.LYNX_HIGH_RISK_APPROVALS
    if found is None or found == wanted:
        return []
    return [
        Error(
            f"The database approves a high-risk draft after {found} approvals; this process's "
            f"LYNX_HIGH_RISK_APPROVALS is {wanted}.",
            hint="Run manage.py migrate with this setting: migrate sets the database's count.",
            id="storage.E009",
        )
    ]


@register(Tags.security, deploy=True)
def check_signing_key(app_configs=None, **kwargs) -> list[Error]:
    """The web process signs who it acts for with SECRET_KEY's key: the database must hold the
    same, or no request would reach a tenant row. Not for plain `migrate`, which stores it."""
    with connection_as("owner") as connection, connection.cursor() as cursor:
        if ACTING_MIGRATION not in _applied_migrations(cursor):
            return []
        cursor.execute(f"SELECT key FROM {acting.KEY_TABLE}")
        stored = [bytes(key) for (key,) in cursor]
    if stored == [acting.signing_key()]:
        return []
    return [
        Error(
            "The database's signing key is not this SECRET_KEY's: requests would reach no "
            "tenant's rows.",
            hint="Run migrate with the SECRET_KEY the web process uses; it stores the key.",
            id="storage.E007",
        )
    ]


def _table_errors(cursor, policies: dict[str, str]) -> list[Error]:
    cursor.execute(
        f"""
        SELECT c.relname, c.relrowsecurity, p.polname IS NOT NULL, {SPEC_POLICY}
        FROM pg_class c
        LEFT JOIN pg_policy p ON p.polrelid = c.oid AND p.polname = (%s::jsonb ->> c.relname)
        WHERE c.oid = ANY (SELECT to_regclass(t) FROM unnest(%s::text[]) t)
        """,
        [json.dumps(policies), list(policies)],
    )
    found = {name: (rls, has_policy, exact) for name, rls, has_policy, exact in cursor}
    errors = []
    for table, policy in policies.items():
        rls, has_policy, exact = found.get(table, (False, False, False))
        if table not in found:
            errors.append(Error(f"Table {table} is missing.", id="storage.E002"))
        elif not rls:
            errors.append(_rls_disabled(table))
        elif not has_policy:
            errors.append(Error(f'Policy "{policy}" is missing on {table}.', id="storage.E004"))
        elif not exact:
            errors.append(
                Error(
                    f'Policy "{policy}" on {table} differs from the spec.',
                    id="storage.E005",
                )
            )
    return errors


def _reachable_table_errors(cursor, *, exempt: set[str]) -> list[Error]:
    """A table of the project's models, not a tenant table (checked above), that the RLS role
    can read or write without row level security: e.g. users, whose policies keep each tenant
    to its own people, with RLS switched off."""
    tables = {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
    cursor.execute(
        """
        SELECT c.relname FROM pg_class c
        WHERE c.oid = ANY (SELECT to_regclass(t) FROM unnest(%s::text[]) t)
            AND NOT c.relrowsecurity
            AND has_table_privilege(
                (SELECT r.oid FROM pg_roles r WHERE r.rolname = %s),  -- none: NULL, false
                c.oid, 'SELECT, INSERT, UPDATE, DELETE')
        ORDER BY c.relname
        """,
        [sorted(tables - set(TENANT_POLICIES) - NO_TENANT_ROWS - exempt), rls_role()],
    )
    return [_rls_disabled(table) for (table,) in cursor]


def _definer_path_errors(cursor) -> list[Error]:
    """A portal function that runs as its owner and would find a request's temporary table
    before the schema's (`search_path` changed, or a function created without it)."""
    cursor.execute(
        """
        SELECT p.oid::regprocedure::text FROM pg_proc p
        WHERE p.prosecdef AND p.proname LIKE 'portal\\_%'
            AND p.pronamespace = current_schema()::regnamespace
            AND p.proconfig IS DISTINCT FROM
                ARRAY[format('search_path=%I, pg_temp', current_schema())]
        ORDER BY 1
        """
    )
    return [
        Error(
            f"{function} runs as its owner without pg_temp last in its search path: a request "
            "could stand a temporary table in for the portal's.",
            hint=f"ALTER FUNCTION {function} SET search_path = public, pg_temp (migration 0030).",
            id="storage.E008",
        )
        for (function,) in cursor
    ]


def _write_policy_errors(cursor, policies: list[tuple[str, str]]) -> list[Error]:
    """A restrictive write policy of WRITE_POLICIES dropped, or made permissive."""
    tables, names = zip(*policies, strict=True)
    cursor.execute(
        """
        SELECT wanted.tablename, wanted.policyname FROM unnest(%s::text[], %s::text[])
            AS wanted(tablename, policyname)
        WHERE NOT EXISTS (
            SELECT FROM pg_policy p
            WHERE p.polrelid = to_regclass(wanted.tablename)
                AND p.polname = wanted.policyname AND NOT p.polpermissive
        )
        ORDER BY 1, 2
        """,
        [list(tables), list(names)],
    )
    return [
        Error(
            f'Restrictive policy "{name}" is missing on {table}: a request could write what '
            "its person may not.",
            hint="Migrate back before the migration that makes it (storage.checks."
            "WRITE_POLICIES), then forward again.",
            id="storage.E015",
        )
        for table, name in cursor.fetchall()
    ]


def _session_table_errors(cursor) -> list[Error]:
    role = rls_role()
    cursor.execute(
        """
        SELECT has_table_privilege(r.oid, 'django_session', 'SELECT, INSERT, UPDATE, DELETE')
        FROM pg_roles r WHERE r.rolname = %s AND NOT r.rolsuper  -- a superuser: E011
        """,
        [role],
    )
    if not any(reachable for (reachable,) in cursor.fetchall()):
        return []
    return [
        Error(
            f"The RLS role {role} can reach django_session: any request could read every "
            "signed-in person's session.",
            hint=f"REVOKE ALL ON django_session FROM {role}, as migration 0025 did.",
            id="storage.E006",
        )
    ]


def _rls_disabled(table: str) -> Error:
    return Error(f"Row level security is disabled on {table}.", id="storage.E003")


def _role_errors(cursor) -> list[Error]:
    role = rls_role()
    cursor.execute(
        """
        SELECT r.rolsuper, r.rolbypassrls,
               ARRAY(SELECT c.relname::text FROM pg_class c
                     WHERE c.relowner = r.oid AND c.relname = ANY (%s::text[])
                     ORDER BY 1)
        FROM pg_roles r WHERE r.rolname = %s
        """,
        [list(TENANT_POLICIES), role],
    )
    row = cursor.fetchone()
    hint = "Set LYNX_DB_RLS_ROLE to a role made by migrate, or run migrate."
    if row is None:
        return [Error(f"The RLS role {role} does not exist.", hint=hint, id="storage.E010")]
    superuser, bypassrls, owned = row
    errors = []
    if superuser:
        errors.append(Error(f"The RLS role {role} is a superuser.", id="storage.E011"))
    if bypassrls:
        errors.append(Error(f"The RLS role {role} has BYPASSRLS.", id="storage.E012"))
    if owned:
        errors.append(Error(f"The RLS role {role} owns {', '.join(owned)}.", id="storage.E013"))
    return errors

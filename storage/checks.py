"""Deploy safety checks: refuse to serve when tenant isolation is not in force.

They run with `manage.py check` and before `migrate`; an unreachable database
is reported by manage.py itself, in one line. A check that must be
bypassed to deploy its own fix can be, with `migrate --skip-checks`.
"""

import json

from django.core.checks import Error, register
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.recorder import MigrationRecorder

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
POLICY_QUAL = "(tenant_id = current_setting('app.tenant_id'::text, true))"
ROLE_MIGRATION = ("storage", "0004_rls_role")


@register()
def check_row_level_security(app_configs=None, **kwargs) -> list[Error]:
    connection = connections[DEFAULT_DB_ALIAS]
    recorder = MigrationRecorder(connection)
    applied = recorder.applied_migrations() if recorder.has_table() else {}
    errors = []
    # Until `migrate` has built them, there is nothing to check.
    with connection.cursor() as cursor:
        policed = {t: p for t, p in TENANT_POLICIES.items() if POLICY_MIGRATIONS[t] in applied}
        if policed:
            errors += _table_errors(cursor, policed)
        if ROLE_MIGRATION in applied:
            errors += _role_errors(cursor)
    return errors


def _table_errors(cursor, policies: dict[str, str]) -> list[Error]:
    cursor.execute(
        """
        SELECT c.relname, c.relrowsecurity, p.polname IS NOT NULL,
               p.polcmd = '*' AND p.polpermissive AND p.polroles = '{0}'
               AND pg_get_expr(p.polqual, p.polrelid) = %s AND p.polwithcheck IS NULL
        FROM pg_class c
        LEFT JOIN pg_policy p ON p.polrelid = c.oid AND p.polname = (%s::jsonb ->> c.relname)
        WHERE c.oid = ANY (SELECT to_regclass(t) FROM unnest(%s::text[]) t)
        """,
        [POLICY_QUAL, json.dumps(policies), list(policies)],
    )
    found = {name: (rls, has_policy, exact) for name, rls, has_policy, exact in cursor}
    errors = []
    for table, policy in policies.items():
        rls, has_policy, exact = found.get(table, (False, False, False))
        if table not in found:
            errors.append(Error(f"Table {table} is missing.", id="storage.E002"))
        elif not rls:
            errors.append(Error(f"Row level security is disabled on {table}.", id="storage.E003"))
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


def _role_errors(cursor) -> list[Error]:
    role = rls_role()
    cursor.execute(
        """
        SELECT r.rolsuper, r.rolbypassrls,
               pg_has_role(current_user, r.oid, 'MEMBER'),
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
    superuser, bypassrls, member, owned = row
    errors = []
    if superuser:
        errors.append(Error(f"The RLS role {role} is a superuser.", id="storage.E011"))
    if bypassrls:
        errors.append(Error(f"The RLS role {role} has BYPASSRLS.", id="storage.E012"))
    if owned:
        errors.append(Error(f"The RLS role {role} owns {', '.join(owned)}.", id="storage.E013"))
    if not member:
        errors.append(
            Error(
                f"The connecting role cannot SET ROLE {role}.",
                hint=f"GRANT {role} TO the role in DATABASE_URL.",
                id="storage.E014",
            )
        )
    return errors

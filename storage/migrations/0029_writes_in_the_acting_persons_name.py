"""Within its tenant, a request writes only what its person may, and only in their own name.

Migration 0026 holds a request to the tenant it acts for; inside that tenant the RLS role
could still write whatever it was granted, whoever the request acts for: a viewer's injected
SQL could approve a draft with no decision recorded, record a decision in another
reviewer's name, move a settlement intent or edit the approval rules. Here restrictive
policies, for the RLS role only, ask what the services' own checks ask:

- a decision names the person the request acts for, who may review drafts;
- a draft's status is what the newest decision on it, by that person, moved it to;
- a settlement intent moves, and approval rules change, only for a person whose Django
  permissions let them;
- an admin log entry names the person the request acts for.

Connections that log in as the owner (commands, migrations) stay trusted. Lynx AI's roles
see no change: every policy here is `TO` the RLS role.
"""

from django.db import migrations

from storage.migration_operations import for_rls_role, only_the_rls_role_executes

TRUSTED = "(SELECT portal_trusted_login())"
ACTING_USER = "(SELECT portal_acting_user())"


def may(codename: str) -> str:
    return f"(SELECT portal_acting_user_may('{codename}'))"


def in_the_acting_name(column: str) -> str:
    return f"{TRUSTED} OR {column} = {ACTING_USER}"


NEWEST_DECISION = f"""{TRUSTED} OR EXISTS (
        SELECT FROM (
            SELECT decision.to_status, decision.reviewer_id FROM lynx_draft_reviews decision
            WHERE decision.tenant_id = lynx_drafts.tenant_id
                AND decision.draft_id = lynx_drafts.draft_id
            ORDER BY decision.created_at DESC LIMIT 1
        ) newest
        WHERE newest.to_status = lynx_drafts.status AND newest.reviewer_id = {ACTING_USER})"""

# (table, command) -> the restrictive policy's name and its WITH CHECK (INSERT, UPDATE) or
# USING (DELETE) expression.
POLICIES = {
    ("lynx_draft_reviews", "INSERT"): (
        "the acting reviewer's",
        f"({in_the_acting_name('reviewer_id')}) AND {may('review_draft')}",
    ),
    ("lynx_drafts", "UPDATE"): ("status as decided", NEWEST_DECISION),
    ("settlement_intents", "UPDATE"): ("moved by operators", may("settle_intent")),
    **{
        ("portal_approval_rules", command): (
            "changed by editors",
            may("edit_approval_rules"),
        )
        for command in ("INSERT", "UPDATE", "DELETE")
    },
    ("portal_approval_rule_changes", "INSERT"): (
        "by its editor",
        f"({in_the_acting_name('changed_by_id')}) AND {may('edit_approval_rules')}",
    ),
    ("django_admin_log", "INSERT"): (
        "the acting person's",
        in_the_acting_name("user_id"),
    ),
}

TRUSTED_LOGIN = """
CREATE FUNCTION portal_trusted_login() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT pg_has_role(session_user, current_user, 'MEMBER')
$$;
COMMENT ON FUNCTION portal_trusted_login() IS
    'Whether this connection logged in as the owner (commands, migrations), not as the web role.'
"""


def restrictive(table: str, command: str, name: str, expression: str) -> migrations.RunPython:
    clause = "USING" if command == "DELETE" else "WITH CHECK"
    policy = f'"Portal {table}: {name} ({command.lower()})"'
    # Braces are doubled: for_rls_role formats the text, and only {role} is a placeholder.
    expression = expression.replace("{", "{{").replace("}", "}}")
    return for_rls_role(
        f"CREATE POLICY {policy} ON {table} AS RESTRICTIVE FOR {command} TO {{role}} "
        f"{clause} ({expression})",
        f"DROP POLICY {policy} ON {table}",
    )


class Migration(migrations.Migration):
    dependencies = [("storage", "0028_password_hashes_held_apart")]

    operations = [
        migrations.RunSQL(TRUSTED_LOGIN, "DROP FUNCTION portal_trusted_login()"),
        *only_the_rls_role_executes("portal_trusted_login()"),
        *(
            restrictive(table, command, name, expression)
            for (table, command), (name, expression) in POLICIES.items()
        ),
    ]

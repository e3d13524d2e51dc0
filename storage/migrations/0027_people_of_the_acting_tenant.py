"""People, groups, tenants and the admin log of the tenant a request acts for, not the one it names.

Migration 0018's policies trust `app.tenant_id`, which any statement may set: a SQL injection
naming another tenant reached its accounts, and naming none (`''`) the view of every account
that sign-in needed, changes included (a new superuser, anyone's password). Here the same
policies read `portal_people_tenant()` instead: for the web login role, the tenant of the
signed user the request acts for (`portal_acting_tenant()`, migration 0026), `''` (every
account) only for an active superuser without a tenant, and NULL (no account) for a request
that acts for nobody. Within a tenant, accounts and memberships change only for a person whose
Django permissions let them (`portal_acting_user_may`), as the admin's own checks do. Connections
that log in as the owner keep `app.tenant_id` as it is and every permission.

A request acts for nobody until its user is known, so the two reads that come before go
through functions that ask for what only the web process can sign (storage.acting): the
signed-in user by id (`portal_signed_user`, with their permissions and groups), and the
account that signs in by name (`portal_sign_in_user`). An account without a tenant may save
its own row (its last sign-in, its password), and nothing that decides what it may reach.
"""

import importlib

from django.db import migrations

from storage.migration_operations import create_functions

people = importlib.import_module("storage.migrations.0018_people_and_log_security")

PEOPLE_TENANT = "(SELECT portal_people_tenant())"
ACTING_USER = "(SELECT portal_acting_user())"
WHOLE_VIEW = f"{PEOPLE_TENANT} = ''"
OWN_USER = people.OWN_USER.replace(people.TENANT, PEOPLE_TENANT)


def may(codename: str) -> str:
    return f"(SELECT portal_acting_user_may('{codename}'))"


# The writes a tenant's request makes on its people, each for whom Django lets do it; the
# acting person's own row for anyone (their last sign-in, password, name).
WRITES = {
    ("storage_user", "add"): f"{WHOLE_VIEW} OR (tenant_id = {PEOPLE_TENANT} AND {may('add_user')})",
    ("storage_user", "change"): f"{WHOLE_VIEW} OR (tenant_id = {PEOPLE_TENANT} AND "
    f"{may('change_user')}) OR id = {ACTING_USER}",
    ("storage_user", "delete"): f"{WHOLE_VIEW} OR (tenant_id = {PEOPLE_TENANT} AND "
    f"{may('delete_user')})",
    ("storage_user_groups", "add"): f"{WHOLE_VIEW} OR ({OWN_USER} AND {may('change_user')})",
    ("storage_user_groups", "delete"): f"{WHOLE_VIEW} OR ({OWN_USER} AND {may('change_user')})",
    ("storage_user_user_permissions", "delete"): f"{WHOLE_VIEW} OR ({OWN_USER} AND "
    f"{may('change_user')})",
}

# Both hashes are keyed with the key `migrate` stores (storage.acting.proof).
FUNCTIONS = {
    "portal_proof_valid(text, text)": """
        RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
            SELECT EXISTS (
                SELECT FROM portal_signing_key signing
                WHERE $2 = encode(sha256(
                    signing.key || sha256(signing.key || convert_to($1, 'UTF8'))
                ), 'hex')
            )
        $$""",
    "portal_people_tenant()": """
        RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
        BEGIN
            IF pg_has_role(session_user, current_user, 'MEMBER') THEN
                RETURN coalesce(current_setting('app.tenant_id', true), '');
            END IF;
            RETURN portal_acting_tenant();
        END
        $$""",
    "portal_acting_user()": r"""
        RETURNS bigint LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
        DECLARE
            acting_id text := current_setting('app.user_id', true);
        BEGIN
            IF acting_id IS NULL OR acting_id !~ '^[0-9]{1,18}$' THEN
                RETURN NULL;
            END IF;
            RETURN (
                SELECT person.id FROM storage_user person
                WHERE person.id = acting_id::bigint AND person.is_active
                    AND portal_proof_valid(
                        'user:' || person.id, current_setting('app.user_proof', true))
            );
        END
        $$""",
    "portal_acting_user_may(text)": """
        RETURNS boolean
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
        BEGIN
            IF pg_has_role(session_user, current_user, 'MEMBER') THEN
                RETURN true;
            END IF;
            RETURN coalesce((
                SELECT 'storage.' || $1 = ANY (access.permissions)
                FROM storage_user person
                CROSS JOIN LATERAL portal_user_access(person.id, person.is_superuser) access
                WHERE person.id = portal_acting_user()
            ), false);
        END
        $$""",
    "portal_signed_user(bigint, text)": """
        RETURNS TABLE (person storage_user, permissions text[], group_ids integer[])
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
        BEGIN
            RETURN QUERY
            SELECT signed, access.permissions, access.group_ids
            FROM storage_user signed
            CROSS JOIN LATERAL portal_user_access(signed.id, signed.is_superuser) access
            WHERE signed.id = $1
                AND (pg_has_role(session_user, current_user, 'MEMBER')
                     OR portal_proof_valid('user:' || signed.id, $2));
        END
        $$""",
    "portal_sign_in_user(text, text)": """
        RETURNS SETOF storage_user
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
            SELECT person.* FROM storage_user person
            WHERE person.username = $1
                AND (pg_has_role(session_user, current_user, 'MEMBER')
                     OR portal_proof_valid('sign-in:' || $1, $2))
        $$""",
}
OWNER_ONLY = "portal_proof_valid(text, text)"

# The guard of migration 0018, for requests of the whole view only (not a tenant's, nor one
# that acts for nobody), and refusing changes of who an account is (tenant, flags, name) but
# by a person who may change the accounts of its tenant.
OLD_GUARD = next(
    part.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
    for part in people.FUNCTIONS.split(";\n\n")
    if part.lstrip().startswith("CREATE FUNCTION portal_user_guard()")
)
# 0018's guard up to its check of the request's tenant (the session version kept as it is).
KEPT, _ = OLD_GUARD.split(f"    IF {people.TENANT} <> ''", 1)
GUARD = f"""{KEPT}    IF {PEOPLE_TENANT} IS DISTINCT FROM '' THEN
        IF NEW.is_superuser AND (TG_OP = 'INSERT' OR NOT OLD.is_superuser) THEN
            RAISE EXCEPTION 'A request of a tenant cannot make a superuser.'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF TG_OP = 'UPDATE'
           AND (OLD.tenant_id IS NULL OR NOT {may("change_user")})
           AND (NEW.tenant_id, NEW.is_staff, NEW.is_active, NEW.username)
               IS DISTINCT FROM (OLD.tenant_id, OLD.is_staff, OLD.is_active, OLD.username) THEN
            RAISE EXCEPTION 'Only a person who manages accounts changes who % is.',
                OLD.username USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END $$
"""


def acting(table: str, name: str, expression: str) -> str:
    """A 0018 policy expression for the acting tenant: a write as WRITES has it; an account
    reads its own row (an account without a tenant too)."""
    if (table, name) in WRITES:
        return WRITES[table, name]
    expression = expression.replace(people.TENANT, PEOPLE_TENANT)
    if (table, name) == ("storage_user", "read"):
        expression = f"{expression} OR id = {ACTING_USER}"
    return expression


def alter_policy(table: str, name: str, expressions) -> migrations.RunSQL:
    """ALTER POLICY to `expressions(table, name, old)` of each clause; back to the old ones."""
    _, using, check = people.POLICIES[table][name]

    def statement(rewrite) -> str:
        clauses = "".join(
            f" {word} ({rewrite(table, name, old)})"
            for word, old in (("USING", using), ("WITH CHECK", check))
            if old
        )
        return f'ALTER POLICY "Portal {table}: {name}" ON {table}{clauses}'

    return migrations.RunSQL(statement(expressions), statement(lambda *args: args[-1]))


class Migration(migrations.Migration):
    dependencies = [("storage", "0026_acting_tenant")]

    operations = [
        *create_functions(FUNCTIONS, owner_only=(OWNER_ONLY,)),
        *(
            alter_policy(table, name, acting)
            for table, policies in people.POLICIES.items()
            for name in policies
        ),
        migrations.RunSQL(GUARD, OLD_GUARD),
    ]

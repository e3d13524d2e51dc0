"""django-axes' records of sign-in attempts, to a request only for the name and address it signs.

Migration 0019 gave the RLS role axes' tables whole: a request's own SQL could read every
name and address that ever tried to sign in, delete the failures that pause an account (and
try passwords on), or add failures that pause anyone's. Here row level security shows the RLS
role the records of the name and the address a sign-in signs (storage.acting), and of the
person the request acts for (their sign-out); owner logins see every record, as before.
axes counts an account's failures by name and an address's by address, so each count reads
the records it needs; expired records of other names and addresses wait for their own next
sign-in, or for `manage.py axes_reset`.
"""

from django.db import migrations

from storage.migration_operations import create_functions, for_rls_role

TABLES = ["axes_accessattempt", "axes_accesslog", "axes_accessfailurelog"]
EXPIRATIONS = "axes_accessattemptexpiration"

FUNCTIONS = {
    "portal_signing_in_name()": """
        RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT CASE
                WHEN portal_proof_valid('sign-in:' || current_setting('app.sign_in_name', true),
                                        current_setting('app.sign_in_proof', true))
                THEN current_setting('app.sign_in_name', true)
                ELSE (SELECT person.username FROM storage_user person
                      WHERE person.id = portal_acting_user())
            END
        $$""",
    "portal_signing_in_address()": """
        RETURNS inet
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            address text := current_setting('app.sign_in_address', true);
        BEGIN
            IF portal_proof_valid('address:' || address,
                                  current_setting('app.sign_in_address_proof', true)) THEN
                RETURN address::inet;
            END IF;
            RETURN NULL;
        END
        $$""",
}

ATTEMPT = (
    "(SELECT portal_trusted_login()) OR username = (SELECT portal_signing_in_name()) "
    "OR ip_address = (SELECT portal_signing_in_address())"
)
POLICIES = {
    **dict.fromkeys(TABLES, ATTEMPT),
    EXPIRATIONS: "EXISTS (SELECT FROM axes_accessattempt attempt "
    "WHERE attempt.id = axes_accessattemptexpiration.access_attempt_id)",
}


def policy(table: str, expression: str) -> list:
    name = f'"Portal {table}: records of the attempt"'
    return [
        migrations.RunSQL(
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
        ),
        for_rls_role(
            f"CREATE POLICY {name} ON {table} FOR ALL TO {{role}} USING ({expression})",
            f"DROP POLICY {name} ON {table}",
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [("storage", "0030_functions_look_in_pg_temp_last")]

    operations = [
        *create_functions(FUNCTIONS),
        *(
            operation
            for table, expression in POLICIES.items()
            for operation in policy(table, expression)
        ),
    ]

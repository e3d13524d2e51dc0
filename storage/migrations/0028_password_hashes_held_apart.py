"""Password hashes where only sign-in reads them, not in the account rows every request reads.

Any request reads some accounts: its own, its tenant's, and those without a tenant (the
superusers a tenant's history pages name). With the hash in `storage_user.password`, a
statement a request did not mean to run (a SQL injection) could take a superuser's hash away
to crack it. Now a trigger keeps each usable hash in `portal_password_hashes`, which only the
owner reads, and leaves in its place `portal_held_password(hash)`: "!held$" and the SHA-256
of the hash, which Django takes for no usable password, and which still changes with the
password (it is what the session hash is made of, storage.models.User). Sign-in gets the hash
back through `portal_sign_in_user`, which answers only for a name the web process signed
(migration 0027). A password Django made unusable ("!" and random characters) is no secret
and stays where it is.
"""

import importlib

from django.db import migrations

from storage.migration_operations import create_functions

signed = importlib.import_module("storage.migrations.0027_people_of_the_acting_tenant")

TABLE = """
CREATE TABLE portal_password_hashes (
    user_id bigint PRIMARY KEY,
    hash varchar(128) NOT NULL
);
REVOKE ALL ON portal_password_hashes FROM PUBLIC;
COMMENT ON TABLE portal_password_hashes IS
    'The password hash of each account whose storage_user.password is held apart; owner only.'
"""

HELD = "portal_held_password(text)"
HOLD = "portal_hold_password()"
FUNCTIONS = {
    HELD: r"""
        RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
            SELECT '!held$' || encode(sha256(convert_to($1, 'UTF8')), 'hex')
        $$""",
    HOLD: r"""
        RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                DELETE FROM portal_password_hashes WHERE user_id = OLD.id;
                RETURN OLD;
            END IF;
            IF NEW.password LIKE '!held$%' THEN  -- held apart already (a whole row saved back)
                RETURN NEW;
            END IF;
            IF NEW.password LIKE '!%' THEN  -- no usable password: nothing to hold
                DELETE FROM portal_password_hashes WHERE user_id = NEW.id;
                RETURN NEW;
            END IF;
            INSERT INTO portal_password_hashes (user_id, hash) VALUES (NEW.id, NEW.password)
                ON CONFLICT (user_id) DO UPDATE SET hash = EXCLUDED.hash;
            NEW.password := portal_held_password(NEW.password);
            RETURN NEW;
        END
        $$""",
}

TRIGGER = """
CREATE TRIGGER portal_hold_password BEFORE INSERT OR UPDATE OF password OR DELETE
    ON storage_user FOR EACH ROW EXECUTE FUNCTION portal_hold_password()
"""

HOLD_EXISTING = [
    "INSERT INTO portal_password_hashes (user_id, hash) "
    "SELECT id, password FROM storage_user WHERE password NOT LIKE '!%'",
    "UPDATE storage_user SET password = portal_held_password(password) "
    "WHERE password NOT LIKE '!%'",
]
GIVE_BACK = [
    "UPDATE storage_user person SET password = held.hash FROM portal_password_hashes held "
    "WHERE held.user_id = person.id AND person.password = portal_held_password(held.hash)",
]

SIGN_IN = "portal_sign_in_user(text, text)"
# As 0027's, with the hash held apart given back to the caller that signed the name.
SIGN_IN_HELD = """
        RETURNS SETOF storage_user
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
        DECLARE
            person storage_user;
        BEGIN
            IF NOT (pg_has_role(session_user, current_user, 'MEMBER')
                    OR portal_proof_valid('sign-in:' || $1, $2)) THEN
                RETURN;
            END IF;
            FOR person IN SELECT * FROM storage_user WHERE username = $1 LOOP
                IF person.password LIKE '!held$%' THEN
                    person.password := (
                        SELECT held.hash FROM portal_password_hashes held
                        WHERE held.user_id = person.id
                            AND person.password = portal_held_password(held.hash)
                    );
                END IF;
                RETURN NEXT person;
            END LOOP;
        END
        $$"""


def create_or_replace(signature: str, body: str) -> str:
    return f"CREATE OR REPLACE FUNCTION {signature} {body}"


class Migration(migrations.Migration):
    dependencies = [("storage", "0027_people_of_the_acting_tenant")]

    operations = [
        migrations.RunSQL(TABLE.split(";\n"), "DROP TABLE portal_password_hashes"),
        *create_functions(FUNCTIONS, owner_only=tuple(FUNCTIONS)),
        migrations.RunSQL(HOLD_EXISTING, GIVE_BACK),
        migrations.RunSQL(TRIGGER, "DROP TRIGGER portal_hold_password ON storage_user"),
        migrations.RunSQL(
            create_or_replace(SIGN_IN, SIGN_IN_HELD),
            create_or_replace(SIGN_IN, signed.FUNCTIONS[SIGN_IN]),
        ),
    ]

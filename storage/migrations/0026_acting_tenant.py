"""Tenant rows only for the tenant a request acts for, whatever it sets `app.tenant_id` to.

A second, restrictive policy on every tenant table, for the RLS role only: a row is the
request's if its tenant is `portal_acting_tenant()` (storage.acting). The spec's own policies
stay as they are, and nothing changes for Lynx AI's roles.
"""

from django.db import migrations

from storage.migration_operations import for_rls_role, only_the_rls_role_executes

TENANT_TABLES = [
    "lynx_drafts",
    "lynx_executions",
    "settlement_intents",
    "lynx_audit_events",
    "lynx_draft_reviews",
    "lynx_audit_events_archive",
    "portal_approval_rules",
    "portal_approval_rule_changes",
    "portal_review_digests",
]

KEY_TABLE = """
CREATE TABLE portal_signing_key (key bytea NOT NULL CHECK (octet_length(key) = 32));
REVOKE ALL ON portal_signing_key FROM PUBLIC;
COMMENT ON TABLE portal_signing_key IS
    'What requests sign the user they act for with (storage.acting); written by migrate.';
"""

FUNCTION = "portal_acting_tenant()"
# Owner logins are trusted with app.tenant_id; a web login acts for its signed user's tenant,
# or, for a tenantless superuser, for the one it names.
CREATE = r"""
CREATE FUNCTION portal_acting_tenant() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    acting_id text := current_setting('app.user_id', true);
BEGIN
    IF pg_has_role(session_user, current_user, 'MEMBER') THEN
        RETURN current_setting('app.tenant_id', true);
    END IF;
    -- '' once a transaction that set it has ended: nobody (cast only what is a number).
    IF acting_id IS NULL OR acting_id !~ '^[0-9]{1,18}$' THEN
        RETURN NULL;
    END IF;
    RETURN (
        SELECT CASE WHEN person.tenant_id IS NULL AND person.is_superuser
                    THEN current_setting('app.tenant_id', true)
                    ELSE person.tenant_id END
        FROM storage_user person, portal_signing_key signing
        WHERE person.id = acting_id::bigint
            AND person.is_active
            AND current_setting('app.user_proof', true) = encode(sha256(
                signing.key || sha256(signing.key || convert_to('user:' || person.id, 'UTF8'))
            ), 'hex')
    );
END
$$;
COMMENT ON FUNCTION portal_acting_tenant() IS
    'The tenant whose rows this transaction may reach (storage.acting); NULL: none.';
"""

POLICY = '"Portal: rows of the acting tenant"'


def acting_tenant_policy(table: str) -> migrations.RunPython:
    return for_rls_role(
        f"CREATE POLICY {POLICY} ON {table} AS RESTRICTIVE FOR ALL TO {{role}} "
        "USING (tenant_id = (SELECT portal_acting_tenant()))",
        f"DROP POLICY {POLICY} ON {table}",
    )


class Migration(migrations.Migration):
    dependencies = [("storage", "0025_sessions_through_functions")]

    operations = [
        migrations.RunSQL(KEY_TABLE, "DROP TABLE portal_signing_key"),
        migrations.RunSQL(CREATE, f"DROP FUNCTION {FUNCTION}"),
        *only_the_rls_role_executes(FUNCTION),
        *(acting_tenant_policy(table) for table in TENANT_TABLES),
    ]

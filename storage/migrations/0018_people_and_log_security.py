"""People, groups, tenants and the admin log under row level security for the RLS role.

Requests of a tenant (`app.tenant_id` set) reach only that tenant's users, their
group memberships and that tenant's admin log entries; they cannot create
groups, tenants, superusers or direct permissions. Requests without a tenant
(sign-in, session loading, superusers without a tenant) keep the whole view,
since sign-in must find any user by name. The connecting (owner) role is not
restricted: migrations, commands and tests run as it.

Also:
- `storage_user.session_version`, bumped by the database whenever a user's
  tenant, groups, permissions or flags change (their other sessions then end);
- a user's tenant cannot change once they have a history (decisions or admin
  log entries), and no request of a tenant makes a superuser;
- `django_admin_log.tenant_id`: the tenant whose object an entry is about, set
  by the database (the request's tenant, or the user's for an entry about a user);
- a decision must name a draft and a reviewer of its own tenant.

Every policy is `TO` the RLS role (settings.LYNX_DB_RLS_ROLE) only.
"""

from django.db import migrations, models

from storage.migration_operations import for_rls_role

# The request's tenant, '' when it has none (current_setting may also be NULL).
TENANT = "coalesce(current_setting('app.tenant_id', true), '')"
NO_TENANT = f"{TENANT} = ''"
# Entries about these may be read by requests without a tenant (superusers' own work).
PEOPLE_MODELS = "(('storage', 'user'), ('storage', 'tenant'), ('auth', 'group'))"

FUNCTIONS = f"""
CREATE FUNCTION portal_user_has_history(user_id bigint) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT EXISTS (SELECT FROM django_admin_log l WHERE l.user_id = $1)
        OR EXISTS (SELECT FROM lynx_draft_reviews r WHERE r.reviewer_id = $1)
$$;
COMMENT ON FUNCTION portal_user_has_history(bigint) IS
    'Whether a user made decisions or admin log entries, in any tenant (RLS does not hide them).';
REVOKE ALL ON FUNCTION portal_user_has_history(bigint) FROM PUBLIC;

CREATE FUNCTION portal_username_taken(name text, excluding bigint) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT EXISTS (
        SELECT FROM storage_user u WHERE lower(u.username) = lower($1) AND u.id <> $2
    )
$$;
COMMENT ON FUNCTION portal_username_taken(text, bigint) IS
    'Whether another account, in any tenant, has this user name (names are unique overall).';
REVOKE ALL ON FUNCTION portal_username_taken(text, bigint) FROM PUBLIC;

CREATE FUNCTION portal_user_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.tenant_id IS NOT NULL AND NEW.tenant_id IS DISTINCT FROM OLD.tenant_id
           AND portal_user_has_history(OLD.id) THEN
            RAISE EXCEPTION 'The tenant of user % cannot change: they have a history there.',
                OLD.username USING ERRCODE = 'check_violation';
        END IF;
        -- A stale copy saved back never lowers the version.
        NEW.session_version := greatest(NEW.session_version, OLD.session_version);
        IF (NEW.tenant_id, NEW.is_superuser, NEW.is_staff, NEW.is_active)
           IS DISTINCT FROM (OLD.tenant_id, OLD.is_superuser, OLD.is_staff, OLD.is_active) THEN
            NEW.session_version := NEW.session_version + 1;
        END IF;
    END IF;
    IF {TENANT} <> '' AND NEW.is_superuser
       AND (TG_OP = 'INSERT' OR NOT OLD.is_superuser) THEN
        RAISE EXCEPTION 'A request of a tenant cannot make a superuser.'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION portal_user_access_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE storage_user SET session_version = session_version + 1
    WHERE id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END);
    RETURN NULL;
END $$;

CREATE FUNCTION portal_admin_log_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.tenant_id := coalesce(NEW.tenant_id, nullif({TENANT}, ''));
    IF NEW.tenant_id IS NULL AND NEW.object_id ~ '^[0-9]{{1,18}}$' THEN
        SELECT u.tenant_id INTO NEW.tenant_id
        FROM storage_user u JOIN django_content_type ct
          ON ct.id = NEW.content_type_id AND ct.app_label = 'storage' AND ct.model = 'user'
        WHERE u.id = NEW.object_id::bigint;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER portal_user_guard BEFORE INSERT OR UPDATE ON storage_user
    FOR EACH ROW EXECUTE FUNCTION portal_user_guard();
CREATE TRIGGER portal_user_groups_changed AFTER INSERT OR DELETE ON storage_user_groups
    FOR EACH ROW EXECUTE FUNCTION portal_user_access_changed();
CREATE TRIGGER portal_user_permissions_changed
    AFTER INSERT OR DELETE ON storage_user_user_permissions
    FOR EACH ROW EXECUTE FUNCTION portal_user_access_changed();

ALTER TABLE django_admin_log ADD COLUMN tenant_id text;
CREATE TRIGGER portal_admin_log_tenant BEFORE INSERT ON django_admin_log
    FOR EACH ROW EXECUTE FUNCTION portal_admin_log_tenant();
"""

REVERSE_FUNCTIONS = """
DROP TRIGGER portal_admin_log_tenant ON django_admin_log;
ALTER TABLE django_admin_log DROP COLUMN tenant_id;
DROP TRIGGER portal_user_permissions_changed ON storage_user_user_permissions;
DROP TRIGGER portal_user_groups_changed ON storage_user_groups;
DROP TRIGGER portal_user_guard ON storage_user;
DROP FUNCTION portal_admin_log_tenant();
DROP FUNCTION portal_user_access_changed();
DROP FUNCTION portal_user_guard();
DROP FUNCTION portal_user_has_history(bigint);
DROP FUNCTION portal_username_taken(text, bigint);
"""

# A user row of the request's tenant (for memberships and permissions of users).
OWN_USER = f"EXISTS (SELECT FROM storage_user u WHERE u.id = user_id AND u.tenant_id = {TENANT})"
TENANT_LOG = (
    f"tenant_id = {TENANT} OR ({NO_TENANT} AND (tenant_id IS NULL OR content_type_id IN "
    f"(SELECT id FROM django_content_type WHERE (app_label, model) IN {PEOPLE_MODELS})))"
)
# table -> {policy name: (command, USING, WITH CHECK)}
POLICIES = {
    "storage_user": {
        "read": ("SELECT", f"{NO_TENANT} OR tenant_id IS NULL OR tenant_id = {TENANT}", None),
        "add": ("INSERT", None, f"{NO_TENANT} OR tenant_id = {TENANT}"),
        "change": ("UPDATE", f"{NO_TENANT} OR tenant_id = {TENANT}", None),
        "delete": ("DELETE", f"{NO_TENANT} OR tenant_id = {TENANT}", None),
    },
    "storage_user_groups": {
        "read": ("SELECT", "EXISTS (SELECT FROM storage_user u WHERE u.id = user_id)", None),
        "add": ("INSERT", None, f"{NO_TENANT} OR {OWN_USER}"),
        "delete": ("DELETE", f"{NO_TENANT} OR {OWN_USER}", None),
    },
    "storage_user_user_permissions": {
        "read": ("SELECT", "EXISTS (SELECT FROM storage_user u WHERE u.id = user_id)", None),
        "add": ("INSERT", None, NO_TENANT),
        "delete": ("DELETE", f"{NO_TENANT} OR {OWN_USER}", None),
    },
    "auth_group": {"read": ("SELECT", "true", None), "manage": ("ALL", NO_TENANT, None)},
    "auth_group_permissions": {
        "read": ("SELECT", "true", None),
        "manage": ("ALL", NO_TENANT, None),
    },
    "portal_tenants": {
        "read": ("SELECT", f"{NO_TENANT} OR tenant_id = {TENANT}", None),
        "manage": ("ALL", NO_TENANT, None),
    },
    "django_admin_log": {
        "read": ("SELECT", TENANT_LOG, None),
        "add": ("INSERT", None, f"{NO_TENANT} OR tenant_id = {TENANT}"),
    },
}

TRAIL_CHECK = """
CREATE POLICY "Decisions name a draft and a reviewer of their tenant"
    ON lynx_draft_reviews AS RESTRICTIVE FOR INSERT TO {role}
    WITH CHECK (
        EXISTS (SELECT FROM lynx_drafts d
                WHERE d.draft_id = lynx_draft_reviews.draft_id
                  AND d.tenant_id = lynx_draft_reviews.tenant_id)
        AND EXISTS (SELECT FROM storage_user u
                    WHERE u.id = lynx_draft_reviews.reviewer_id
                      AND u.tenant_id = lynx_draft_reviews.tenant_id)
    )
"""


def policy_sql(table: str, name: str, command: str, using, check) -> tuple[str, str]:
    # Braces are doubled: for_rls_role formats the text, and only {role} is a placeholder.
    clauses = "".join(
        f" {word} ({expr})".replace("{", "{{").replace("}", "}}")
        for word, expr in (("USING", using), ("WITH CHECK", check))
        if expr
    )
    policy = f'"Portal {table}: {name}"'
    return (
        f"CREATE POLICY {policy} ON {table} FOR {command} TO {{role}}{clauses}",
        f"DROP POLICY {policy} ON {table}",
    )


def table_operations(table: str, policies: dict) -> list:
    return [
        migrations.RunSQL(
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
        ),
        *(for_rls_role(*policy_sql(table, name, *clauses)) for name, clauses in policies.items()),
    ]


class Migration(migrations.Migration):
    dependencies = [("storage", "0017_tenant_admins_group")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="session_version",
            field=models.PositiveIntegerField(db_default=0, default=0, editable=False),
        ),
        # A list, so that Django runs each part as it is instead of splitting the SQL itself.
        migrations.RunSQL(FUNCTIONS.split(";\n\n"), REVERSE_FUNCTIONS.split(";\n")),
        for_rls_role(
            "GRANT EXECUTE ON FUNCTION portal_user_has_history(bigint), "
            "portal_username_taken(text, bigint) TO {role}",
            "REVOKE EXECUTE ON FUNCTION portal_user_has_history(bigint), "
            "portal_username_taken(text, bigint) FROM {role}",
        ),
        *(op for table, policies in POLICIES.items() for op in table_operations(table, policies)),
        # Deleting an account makes Django delete its log entries first: with no DELETE
        # policy that statement finds no row, so the trail stays and the FK refuses the
        # deletion of an account with a history (the admin refuses it before that).
        for_rls_role(
            "GRANT DELETE ON django_admin_log TO {role}",
            "REVOKE DELETE ON django_admin_log FROM {role}",
        ),
        for_rls_role(
            TRAIL_CHECK,
            'DROP POLICY "Decisions name a draft and a reviewer of their tenant" '
            "ON lynx_draft_reviews",
        ),
    ]

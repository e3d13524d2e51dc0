"""The RLS role, who may switch to it, and whether the web login role can escape it.

`migrate` creates the RLS role (settings.LYNX_DB_RLS_ROLE) when it is missing and grants it
to the owner and to the web login role. On PostgreSQL 16+ a non-superuser with CREATEROLE
(Supabase's `postgres`) may grant only roles it holds WITH ADMIN OPTION, which it gets by
creating them; a role someone else made needs a superuser. So the setup is first planned,
without changing anything, and `migrate` stops with the one statement a superuser must run
when a step is impossible.

The web login role is safe when nothing it can do inside a request gains more than the RLS
role has: it is no superuser, has no BYPASSRLS or CREATEROLE, is NOINHERIT, owns nothing,
holds no privileges of its own and can switch to no role but the RLS role.
"""

from dataclasses import dataclass, field

from psycopg import sql

API_ROLES = ("anon", "authenticated")  # Supabase's Data API roles: the public internet


@dataclass
class RoleSetup:
    """What `migrate` will run for the RLS role, or why it cannot."""

    statements: list[str] = field(default_factory=list)
    blocked: str = ""


def _identifiers(names) -> sql.Composable:
    return sql.SQL(", ").join(map(sql.Identifier, names))


def membership(version: int) -> str:
    """The pg_has_role privilege that lets a role SET ROLE (16+ separates SET from MEMBER)."""
    return "SET" if version >= 160000 else "MEMBER"


def plan_role_setup(cursor, *, rls_role: str, members: list[str]) -> RoleSetup:
    """The statements that create `rls_role` if missing and grant it to `members`."""
    cursor.execute(
        """
        SELECT current_setting('server_version_num')::int, current_user, r.rolsuper,
               r.rolcreaterole, rls.oid IS NOT NULL, coalesce(rls.rolsuper, false),
               rls.oid IS NOT NULL AND pg_has_role(r.oid, rls.oid, 'MEMBER WITH ADMIN OPTION')
        FROM pg_roles r LEFT JOIN pg_roles rls ON rls.rolname = %s
        WHERE r.rolname = current_user
        """,
        [rls_role],
    )
    version, owner, superuser, createrole, exists, rls_super, admin = cursor.fetchone()
    role = sql.Identifier(rls_role)
    connection = cursor.connection
    setup = RoleSetup()
    if not exists:
        create = sql.SQL(
            "CREATE ROLE {} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT"
        ).format(role)
        if not (superuser or createrole):
            statement = sql.SQL("CREATE ROLE {} NOLOGIN NOINHERIT ROLE {};").format(
                role, _identifiers(members)
            )
            setup.blocked = (
                f"migrate cannot create the role {rls_role}: {owner} lacks CREATEROLE; "
                f"a superuser must run: {statement.as_string(connection)}"
            )
            return setup
        setup.statements.append(create.as_string(connection))
        missing = members
    else:
        cursor.execute(
            "SELECT m FROM unnest(%s::text[]) m WHERE NOT pg_has_role(m, %s, %s)",
            [members, rls_role, membership(version)],
        )
        missing = [row[0] for row in cursor.fetchall()]
    if not missing:
        return setup
    grant = sql.SQL("GRANT {} TO {}").format(role, _identifiers(missing)).as_string(connection)
    # Before 16, CREATEROLE may grant any role but a superuser; since 16, only with ADMIN.
    if exists and not (superuser or admin or (version < 160000 and createrole and not rls_super)):
        why = (
            f"PostgreSQL {version // 10000} lets {owner} grant only roles it holds "
            "WITH ADMIN OPTION"
            if version >= 160000 and createrole
            else f"{owner} lacks CREATEROLE"
        )
        setup.blocked = (
            f"migrate cannot grant the role {rls_role} to {', '.join(missing)} ({why}); "
            f"a superuser must run: {grant};"
        )
        return setup
    setup.statements.append(grant)
    return setup


def web_role_weaknesses(cursor, *, web_role: str, rls_role: str) -> list[str]:
    """How the web login role could leave row level security; empty when it cannot."""
    cursor.execute(
        """
        SELECT r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolinherit,
               ARRAY(SELECT c.relname::text FROM pg_class c
                     WHERE c.relowner = r.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                       AND c.relnamespace = ANY (%(schemas)s::regnamespace[])
                     ORDER BY 1),
               ARRAY(SELECT o.rolname::text FROM pg_roles o
                     WHERE o.oid <> r.oid AND o.rolname <> %(rls)s
                       AND pg_has_role(r.oid, o.oid, 'MEMBER') ORDER BY 1),
               ARRAY(SELECT DISTINCT c.relname::text FROM pg_class c, aclexplode(c.relacl) a
                     WHERE a.grantee = r.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                       AND c.relnamespace = ANY (%(schemas)s::regnamespace[])
                     ORDER BY 1)
        FROM pg_roles r WHERE r.rolname = %(web)s
        """,
        {"web": web_role, "rls": rls_role, "schemas": ["public"]},
    )
    superuser, bypassrls, createrole, inherit, owns, roles, privileges = cursor.fetchone()
    weaknesses = [
        text
        for flag, text in [
            (superuser, "is a superuser"),
            (bypassrls, "has BYPASSRLS"),
            (createrole, "has CREATEROLE"),
            (inherit, "is INHERIT"),
        ]
        if flag
    ]
    if owns:
        weaknesses.append(f"owns {_some(owns)}")
    if roles and not superuser:
        weaknesses.append(f"can switch to {_some(roles)}")
    if privileges:
        weaknesses.append(f"holds privileges on {_some(privileges)}")
    return weaknesses


def _some(names: list[str], shown: int = 4) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def api_role_grants(cursor, tables: list[str]) -> dict[str, list[str]]:
    """{table: Supabase API roles holding privileges on it} for these tables."""
    cursor.execute(
        """
        SELECT c.relname::text, array_agg(DISTINCT g.rolname::text ORDER BY g.rolname::text)
        FROM pg_class c, aclexplode(c.relacl) a JOIN pg_roles g ON g.oid = a.grantee
        WHERE c.oid = ANY (SELECT to_regclass(t) FROM unnest(%s::text[]) t)
          AND g.rolname = ANY (%s)
        GROUP BY 1 ORDER BY 1
        """,
        [tables, list(API_ROLES)],
    )
    return dict(cursor.fetchall())


def revoke_api_roles(cursor, tables: list[str]) -> None:
    """The portal's tables are none of the Data API's business: Supabase grants `anon` and
    `authenticated` everything on new tables in `public`, and these tables have no RLS."""
    exposed = api_role_grants(cursor, tables)
    for table, roles in exposed.items():
        cursor.execute(
            sql.SQL("REVOKE ALL ON {} FROM {}").format(sql.Identifier(table), _identifiers(roles))
        )

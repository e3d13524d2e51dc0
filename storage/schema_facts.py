"""Read-only questions to the catalogs about the spec's tables.

The adoption operations act on the answers; `lynx_preflight` reports them without acting.
"""

from dataclasses import dataclass

SPEC_TABLES = ["lynx_drafts", "lynx_executions", "settlement_intents", "lynx_audit_events"]
# A policy worded like the spec's: for all commands and roles, permissive, no WITH CHECK.
SPEC_POLICY = (
    "p.polcmd = '*' AND p.polpermissive AND p.polroles = '{0}' AND p.polwithcheck IS NULL "
    "AND pg_get_expr(p.polqual, p.polrelid) = "
    "'(tenant_id = current_setting(''app.tenant_id''::text, true))'"
)
TABLE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"]


def table_exists(cursor, table: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
    return cursor.fetchone()[0]


def row_count(cursor, table: str) -> int:
    """The table's rows, 0 when there is no such table."""
    if not table_exists(cursor, table):
        return 0
    cursor.execute(f'SELECT count(*) FROM "{table}"')
    return cursor.fetchone()[0]


def blank_tenant_rows(cursor, table: str) -> int:
    """Rows with an empty tenant_id, which the portal's hardening CHECK cannot admit."""
    cursor.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = ''")
    return cursor.fetchone()[0]


def column_differences(cursor, model, connection) -> list[str]:
    """One line per column whose name or type differs from the model's; [] when they match."""
    cursor.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        [model._meta.db_table],
    )
    existing = dict(cursor.fetchall())
    expected = {
        field.column: field.db_type(connection).lower() for field in model._meta.local_fields
    }
    return sorted(
        f"{column}: {existing.get(column, 'missing')} (expected "
        f"{expected.get(column, 'no such column')})"
        for column in existing.keys() | expected.keys()
        if existing.get(column) != expected.get(column)
    )


def _value(cursor, query: str, params: list):
    """The first column of the query's first row, None when there is no row."""
    cursor.execute(query, params)
    row = cursor.fetchone()
    return row[0] if row else None


def constraint_definition(cursor, table: str, name: str) -> str | None:
    query = (
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND conname = %s"
    )
    return _value(cursor, query, [table, name])


def index_validity(cursor, table: str, name: str) -> bool | None:
    """Whether the index is valid; None when there is none of that name on the table."""
    query = (
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass AND c.relname = %s"
    )
    return _value(cursor, query, [table, name])


@dataclass(frozen=True)
class PolicyFacts:
    row_security: bool
    exists: bool
    matches: bool
    definition: str | None  # CREATE POLICY ... that rebuilds the one there


def policy_facts(cursor, table: str, policy: str) -> PolicyFacts:
    cursor.execute(
        f"""
        SELECT c.relrowsecurity, p.oid IS NOT NULL, coalesce({SPEC_POLICY}, false),
               (SELECT format('CREATE POLICY %%I ON %%I AS %%s FOR %%s TO %%s',
                              policyname, tablename, permissive, cmd,
                              (SELECT string_agg(quote_ident(r), ', ') FROM unnest(roles) r))
                       || coalesce(' USING (' || qual || ')', '')
                       || coalesce(' WITH CHECK (' || with_check || ')', '')
                FROM pg_policies
                WHERE schemaname = current_schema() AND tablename = c.relname
                  AND policyname = %s)
        FROM pg_class c LEFT JOIN pg_policy p ON p.polrelid = c.oid AND p.polname = %s
        WHERE c.oid = %s::regclass
        """,
        [policy, policy, table],
    )
    return PolicyFacts(*cursor.fetchone())


def missing_service_role_privileges(cursor, tables: list[str]) -> dict[str, list[str]]:
    """{table: privileges Supabase's service_role lacks there}; {} where it does not exist."""
    cursor.execute(
        """
        SELECT t, array_agg(p ORDER BY p) FROM unnest(%s::text[]) t,
               unnest(%s::text[] || CASE WHEN current_setting('server_version_num')::int >= 170000
                                         THEN ARRAY['MAINTAIN'] ELSE '{}' END) p
        WHERE EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role')
          AND NOT has_table_privilege('service_role', t, p)
        GROUP BY t ORDER BY t
        """,
        [tables, TABLE_PRIVILEGES],
    )
    return dict(cursor.fetchall())

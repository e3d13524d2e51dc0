"""Catalog snapshots of the spec's four tables, and scratch databases to build them in.

A snapshot is what PostgreSQL itself says the schema is (format_type,
pg_get_expr, pg_get_constraintdef, pg_get_indexdef), so two databases built by
different routes, the spec's SQL and Django's migrations, compare as plain dicts.
"""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from psycopg import sql

SPEC_TABLES = ("lynx_drafts", "lynx_executions", "settlement_intents", "lynx_audit_events")
SPEC_SQL = Path(__file__).parent / "fixtures" / "supabase_schema.sql"
SESSIONS_LEAVE_WITHIN = 10.0  # seconds


def schema_snapshot(cursor) -> dict:
    """{table: its RLS flags, columns, constraints, indexes, extended statistics and policies,
    or None if missing}."""
    return {table: _table_snapshot(cursor, table) for table in SPEC_TABLES}


def _table_snapshot(cursor, table: str) -> dict | None:
    cursor.execute(
        "SELECT oid, relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = to_regclass(%s)",
        [f"public.{table}"],
    )
    row = cursor.fetchone()
    if row is None:
        return None
    oid, row_security, force_row_security = row
    return {
        "row_security": row_security,
        "force_row_security": force_row_security,
        "columns": _rows_by_name(
            cursor,
            """
            SELECT a.attname, row_number() OVER (ORDER BY a.attnum),
                   format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid)
            FROM pg_attribute a
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
            """,
            oid,
            ("position", "type", "not_null", "default"),
        ),
        "constraints": _rows_by_name(
            cursor,
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s",
            oid,
            ("type", "definition"),
        ),
        "indexes": _rows_by_name(
            cursor,
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s",
            oid,
            ("definition",),
        ),
        "statistics": _rows_by_name(
            cursor,
            "SELECT stxname, pg_get_statisticsobjdef(oid) FROM pg_statistic_ext "
            "WHERE stxrelid = %s",
            oid,
            ("definition",),
        ),
        "policies": _rows_by_name(
            cursor,
            """
            SELECT polname, polcmd, polpermissive,
                   ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END
                         FROM unnest(polroles) r ORDER BY 1),
                   pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid)
            FROM pg_policy WHERE polrelid = %s
            """,
            oid,
            ("command", "permissive", "roles", "using", "with_check"),
        ),
    }


def grants_snapshot(cursor) -> dict:
    """{table: sorted (grantee, privilege) pairs} of the spec's tables: who may do what."""
    cursor.execute(
        """
        SELECT c.relname, pg_get_userbyid(a.grantee), a.privilege_type
        FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = ANY (SELECT to_regclass(t) FROM unnest(%s::text[]) t)
        ORDER BY 1, 2, 3
        """,
        [list(SPEC_TABLES)],
    )
    grants = {}
    for table, grantee, privilege in cursor.fetchall():
        grants.setdefault(table, []).append((grantee, privilege))
    return grants


def _rows_by_name(cursor, query: str, oid: int, fields: tuple[str, ...]) -> dict:
    cursor.execute(query, [oid])
    return {name: dict(zip(fields, values, strict=True)) for name, *values in cursor.fetchall()}


def snapshot_diff(left: dict, right: dict, labels=("left", "right"), path=()) -> list[str]:
    """One readable line per leaf where two snapshots differ, e.g. `lynx_drafts.indexes.x: ...`."""
    if not (isinstance(left, dict) and isinstance(right, dict)):
        if left == right:
            return []
        return [f"{'.'.join(path)}: {labels[0]}={left!r} {labels[1]}={right!r}"]
    lines = []
    for key in sorted(left.keys() | right.keys()):
        where = ".".join((*path, key))
        if key not in right:
            lines.append(f"{where}: only in {labels[0]}: {left[key]!r}")
        elif key not in left:
            lines.append(f"{where}: only in {labels[1]}: {right[key]!r}")
        else:
            lines += snapshot_diff(left[key], right[key], labels, (*path, key))
    return lines


def assert_same_schema(expected: dict, actual: dict, labels: tuple[str, str]) -> None:
    """Fail with only the differing keys, not two whole snapshots."""
    differences = snapshot_diff(expected, actual, labels)
    if differences:
        pytest.fail("schemas differ:\n" + "\n".join(differences), pytrace=False)


def _server(role: str = "owner") -> dict:
    """Where the test database lives, as the owner (the suite's own role) or the web role;
    django-environ puts a socket directory in OPTIONS."""
    server = connection.settings_dict
    options = server["OPTIONS"]
    credentials = settings.LYNX_WEB_DATABASE if role == "web" else server
    return {
        "user": credentials["USER"],
        "password": credentials["PASSWORD"],
        "host": server["HOST"] or options.get("host", ""),
        "port": str(server["PORT"] or options.get("port", "")),
    }


def connect(dbname: str) -> psycopg.Connection:
    """An autocommit psycopg connection to `dbname` on the test database's server."""
    params = {key: value for key, value in _server().items() if value}
    return psycopg.connect(dbname=dbname, autocommit=True, **params)


def database_url(dbname: str, role: str = "owner") -> str:
    """A URL for `dbname` as the owner or the web role, in the only form django-environ
    parses for sockets."""
    server = _server(role)
    credentials = quote(server["user"], safe="")
    if server["password"]:
        credentials += ":" + quote(server["password"], safe="")
    host, port = server["host"], server["port"]
    if host.startswith("/"):
        url = f"postgres://{credentials}@/{dbname}?host={host}"
        return f"{url}&port={port}" if port else url
    return f"postgres://{credentials}@{host}{f':{port}' if port else ''}/{dbname}"


def connect_as_superuser(dbname: str) -> psycopg.Connection:
    """An autocommit connection as the test server's superuser, to play someone else."""
    url = settings.TEST_SUPERUSER_URL
    if not url:
        pytest.fail("TEST_SUPERUSER_URL is unset: run the suite with `make test`.")
    return psycopg.connect(url, dbname=dbname, autocommit=True)


@contextmanager
def scratch_database(label: str) -> Iterator[str]:
    """An empty database next to the test database, dropped afterwards whatever happens."""
    name = f"test_lynx_scratch_{label}_{os.getpid()}"
    with connect("postgres") as maintenance:
        _drop(maintenance, name)
        maintenance.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with connect("postgres") as maintenance:
            _drop(maintenance, name)


def _drop(maintenance: psycopg.Connection, name: str) -> None:
    """Drop `name` once the sessions a test closed have left it. A session of another role
    (the web role of a `manage.py` that has just exited) may outlive its client by a moment,
    and the owner may not terminate it: FORCE is for what a failed test left open."""
    deadline = time.monotonic() + SESSIONS_LEAVE_WITHIN
    while (
        time.monotonic() < deadline
        and maintenance.execute(
            "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE datname = %s)", [name]
        ).fetchone()[0]
    ):
        time.sleep(0.02)
    maintenance.execute(
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )


def build_spec_schema(dbname: str) -> None:
    """Run the spec's SQL as Supabase would: by hand, without Django."""
    with connect(dbname) as conn:
        conn.execute(SPEC_SQL.read_text())

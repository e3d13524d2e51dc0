"""Scratch databases for the benchmarks run as scripts: the spec's tables built from its SQL,
as Lynx AI built them, beside the database of DATABASE_OWNER_URL, then `manage.py migrate`.

Needs DATABASE_URL (the web role) and DATABASE_OWNER_URL (the owner), as `make` sets them.
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
SPEC_SQL = ROOT / "tests" / "fixtures" / "supabase_schema.sql"


def url_for(variable: str, dbname: str) -> str:
    """The URL in environment `variable`, naming database `dbname` instead."""
    parts = urlsplit(os.environ[variable])
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def owner_connection(dbname: str) -> psycopg.Connection:
    return psycopg.connect(url_for("DATABASE_OWNER_URL", dbname), autocommit=True)


def create(dbname: str, *, template: str | None = None) -> None:
    """Database `dbname`, dropped first: the spec's tables, or a copy of `template`."""
    drop(dbname)
    name = sql.Identifier(dbname)
    with owner_connection("postgres") as conn:
        if template:
            copy = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(name, sql.Identifier(template))
            conn.execute(copy)
            return
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    with owner_connection(dbname) as conn:
        conn.execute(SPEC_SQL.read_text())


def drop(dbname: str) -> None:
    """Without FORCE, which may not end an autovacuum worker's session: PostgreSQL ends those
    itself. A session still open (another run's) makes it fail, and says so."""
    statement = sql.SQL("DROP DATABASE IF EXISTS {}")
    with owner_connection("postgres") as conn:
        conn.execute(statement.format(sql.Identifier(dbname)))


def migrate(dbname: str, *, patience: str = "5") -> subprocess.CompletedProcess:
    """`manage.py migrate` on `dbname` as a deploy runs it (web and owner roles apart)."""
    env = {
        **os.environ,
        "DATABASE_URL": url_for("DATABASE_URL", dbname),
        "DATABASE_OWNER_URL": url_for("DATABASE_OWNER_URL", dbname),
        "LYNX_MIGRATE_LOCK_TIMEOUT": patience,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-not-secret"),
    }
    return subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

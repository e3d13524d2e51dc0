"""Run manage.py the way an operator or a deploy does: a separate process, its own environment."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


# The suite's own (tests/settings.py), which migrated its database: `check --deploy` finds the
# signing key `migrate` stored from it (storage.acting). Long and varied, as the check asks.
TEST_SECRET_KEY = "s" * 10 + "-a-long-and-varied-test-secret-key-0123456789-QWERTYUIOP"


def deployed(dbname: str) -> dict[str, str]:
    """The environment of a deploy done by the README: the web role and the owner, apart."""
    from tests.catalog import database_url

    return {
        "DATABASE_URL": database_url(dbname, role="web"),
        "DATABASE_OWNER_URL": database_url(dbname),
    }


def manage(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    # A clean environment: not what the test settings put into this process's.
    inherited = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    environment = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "lynxportal.settings",
        "DEBUG": "false",
        "SECRET_KEY": TEST_SECRET_KEY,
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )

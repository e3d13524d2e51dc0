"""Production settings with what a test run needs on top: no HTTPS redirect, fast hashing.

The suite logs in as the owner (DATABASE_OWNER_URL, which `make test` sets) like manage.py
does: fixtures write rows as Lynx AI would, and what a tenant may see is then read through
`tenant_context()` or a request, as the RLS role. Tests of the web login role itself connect
as it explicitly (tests/roles.py).
"""

import os

from tests.subprocesses import TEST_SECRET_KEY

os.environ.setdefault("SECRET_KEY", TEST_SECRET_KEY)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("LYNX_CONNECT_AS", "owner")

from lynxportal.settings import *  # noqa: E402,F403

# The benchmark's commands, for its smoke test (tests/test_bench.py mounts its default admin),
# and the test run's own flush (tests/management), which comes before Django's.
INSTALLED_APPS = ["tests", *INSTALLED_APPS, "bench"]  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve admin assets without collectstatic
WHITENOISE_AUTOREFRESH = True

# A superuser of the test server (scripts/devdb.py), for tests that play "someone else".
TEST_SUPERUSER_URL = os.environ.get("TEST_SUPERUSER_URL", "")

# Read above. A process a test starts with this environment and its own DATABASE_URL (the
# test database's, as the owner) must not inherit an owner URL naming another database.
os.environ.pop("DATABASE_OWNER_URL", None)

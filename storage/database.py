"""The two roles a deployment logs in as, and a short-lived connection as either of them.

- The web login role (DATABASE_URL): what gunicorn and runserver log in as. NOINHERIT, it
  owns and holds nothing, and may only switch to the RLS role, so that `RESET ROLE` or
  `SET ROLE postgres` inside a request gains nothing (the PostgREST/Supabase model).
- The owner (DATABASE_OWNER_URL): owns the tables; `manage.py` commands log in as it.

A process's default connection is one of them (settings.LYNX_CONNECT_AS). The deploy checks,
`migrate` and `lynx_preflight` sometimes need the other one, to the same database (in tests:
the test database), for a few queries: `connection_as()`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import load_backend

Role = Literal["web", "owner"]
CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS")


def separate_owner() -> bool:
    """Whether DATABASE_OWNER_URL names a role of its own (as it must in production)."""
    return any(
        settings.LYNX_OWNER_DATABASE.get(key) != settings.LYNX_WEB_DATABASE.get(key)
        for key in CREDENTIALS
    )


@contextmanager
def connection_as(role: Role) -> Iterator[BaseDatabaseWrapper]:
    """A connection as `role` to the default connection's database, closed afterwards.

    When the default connection already logs in as `role`, it is the one yielded. Otherwise
    the connection is known to the ORM as `as_<role>` while the block runs.
    """
    default = connections[DEFAULT_DB_ALIAS]
    if role == settings.LYNX_CONNECT_AS:
        yield default
        return
    config = settings.LYNX_WEB_DATABASE if role == "web" else settings.LYNX_OWNER_DATABASE
    settings_dict = {**default.settings_dict, **{key: config[key] for key in CREDENTIALS}}
    settings_dict["OPTIONS"] = dict(settings_dict["OPTIONS"])
    alias = f"as_{role}"
    other = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    connections[alias] = other  # for this thread, so that the ORM (e.g. Django's
    try:  # MigrationRecorder) can use it too
        yield other
    finally:
        other.close()
        del connections[alias]


def current_role(connection: BaseDatabaseWrapper) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]


def first_line(error: Exception) -> str:
    """A database error's message without PostgreSQL's DETAIL and HINT lines."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__

"""The one tenancy mechanism: a transaction that runs as the RLS role with `app.tenant_id` set.

Requests get it from `lynxportal.middleware` (the whole request in one transaction without a
tenant, narrowed to the user's tenant once the user is known: by the read of the user itself,
`entering_tenant()`, or by `enter_tenant()`); shell sessions, commands, services and tests use
`tenant_context()` directly. Its settings (role, tenant, search path) are transaction-local
(`set_config(..., true)`, the same as `SET LOCAL`), so nothing survives on a reused or pooled
connection.

The web process logs in as a role that may switch to the RLS role and to nothing else
(storage/database.py): leaving the RLS role inside a request gains no privilege.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from psycopg import sql

from storage import acting

# Where the transaction's unqualified names are looked up: the portal's schema, then the
# temporary tables, last (migration 0030). Not left to the session: a request's own SQL may
# change that, or create a temporary table, for the next requests on the same connection.
SEARCH_PATH = "public, pg_temp"
# What a request's transaction undoes first, in the statement that sets its role: session
# settings that an earlier request's own SQL left on the connection for the requests after it
# (a `statement_timeout` of 1 ms, a read-only or serializable default, planner switches) go back
# to the login's, the time zone to Django's (`{time_zone}`), and the transaction itself is the
# read-write, read-committed one the services are written for. RESET ALL leaves the role alone;
# the statement sets it for the transaction.
FRESH_SESSION = (
    "RESET ALL; SET TIME ZONE {time_zone}; "
    "SET TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE"
)
# Each statement of a request stopped after LYNX_REQUEST_STATEMENT_TIMEOUT (in ms here); with
# none, the login role's own statement_timeout applies (PostgreSQL's default: none).
REQUEST_TIMEOUT = "SET LOCAL statement_timeout = {milliseconds}"
# The user a connection's transaction acts for (storage.acting), None: nobody.
ACTING = "lynx_acting_user"
# Role and tenant of each tenant_context() open on a connection, innermost last: what a nested
# block restores, without asking the database. A third item says whether the block was opened
# without a tenant, to be narrowed by enter_tenant().
ACTIVE = "lynx_tenancy"


def rls_role() -> str:
    return settings.LYNX_DB_RLS_ROLE


@contextmanager
def tenant_context(
    tenant_id: str | None,
    *,
    acting_user: int | None = None,
    fresh_session: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> Iterator[None]:
    """Run the block in a transaction as the RLS role, seeing only `tenant_id`'s rows.

    A falsy tenant sees no tenant row at all. On the web login role's connection the rows are
    also those of the user the transaction acts for (storage.acting): a request's read of its
    user sets that user, and a transaction of its own (a streamed export) names it in
    `acting_user`. Nested in an outer transaction, the previous role and tenant are restored
    when the block ends; nested in one that runs as this tenant already (`runs_as_tenant()`),
    the block is a savepoint and nothing else. `fresh_session` (a request's transaction, before
    its user is known) first undoes what earlier requests' own SQL may have left on the
    connection (FRESH_SESSION) and limits how long each of its statements may run.
    """
    if fresh_session and acting_user is not None:
        raise ValueError("A fresh session's first statement is sent as text: it acts for nobody.")
    connection = connections[using]
    if runs_as_tenant(tenant_id, using=using):
        # Nothing to switch or restore; the savepoint alone keeps the block all-or-nothing.
        with transaction.atomic(using=using):
            yield
        return
    active = _active(connection)
    nested = connection.in_atomic_block
    with transaction.atomic(using=using):
        previous = (active[-1][:2] if active else _current(connection)) if nested else None
        settings_now = (rls_role(), tenant_id or "")
        if not nested:
            setattr(connection, ACTING, acting_user)
        if fresh_session and not nested:
            _activate_fresh(connection, *settings_now)
        else:
            _activate(connection, *settings_now, acting_user=acting_user)
        active.append((*settings_now, not tenant_id))
        try:
            yield
        finally:
            active.pop()
        # A block marked for rollback needs no restoring: the rollback undoes it.
        if previous and not connection.needs_rollback:
            _activate(connection, *previous)


def runs_as_tenant(tenant_id: str | None, *, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether the caller's transaction runs as the RLS role seeing `tenant_id`'s rows already
    (a request, once its user's tenant is entered): reads need no tenant_context() then."""
    connection = connections[using]
    active = _active(connection)
    return (
        connection.in_atomic_block
        and bool(active)
        and active[-1][:2] == (rls_role(), tenant_id or "")
    )


def enter_tenant(tenant_id: str, *, user_id: int | None, using: str = DEFAULT_DB_ALIAS) -> None:
    """Narrow the innermost `tenant_context(None)` to `tenant_id`'s rows, acting for `user_id`
    (None: nobody), until it ends.

    For the request's transaction, which starts before the user is known: at most one
    statement, no savepoint, nothing to restore, since the transaction ends with the request.
    None at all when the read of the user entered that tenant for that user already
    (`entering_tenant`), as on every signed-in page; a user Django refused after that read
    (a stale session) leaves the request acting for nobody.
    """
    connection = connections[using]
    if not _narrowable(connection):
        raise RuntimeError("enter_tenant() needs an open tenant_context(None).")
    active = _active(connection)
    if (active[-1][1], getattr(connection, ACTING, None)) != (tenant_id, user_id):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT set_config('app.tenant_id', %s, true), {acting.USER_SETTINGS}",
                [tenant_id, *acting.user_settings(user_id)],
            )
        _entered(active, tenant_id)
        setattr(connection, ACTING, user_id)


def act_for_signed_in(
    tenant_id: str | None, *, user_id: int, using: str = DEFAULT_DB_ALIAS
) -> None:
    """From sign-in on, the request acts for the user whose password it has just checked, in
    their tenant (none: every account's view, which only a superuser's gets). Outside a
    request's transaction (a command, a test's `Client.login()`) there is nothing to narrow."""
    if _narrowable(connections[using]):
        enter_tenant(tenant_id or "", user_id=user_id, using=using)


def entering_tenant(tenant_sql: str, *, using: str = DEFAULT_DB_ALIAS) -> str:
    """A select-list item that enters the tenant `tenant_sql` names (NULL: none) as its statement
    runs, where `enter_tenant()` may; elsewhere NULL. Pass the item's value to `entered_tenant()`.

    The request's read of its signed-in user finds the tenant: entering it in that same statement
    saves a round trip on every page. Put it last in the select list, so that the rest of the
    statement still runs without a tenant.
    """
    if not _narrowable(connections[using]):
        return "NULL"
    return f"set_config('app.tenant_id', coalesce({tenant_sql}, ''), true)"


def entered_tenant(tenant_id: str | None, *, user_id: int, using: str = DEFAULT_DB_ALIAS) -> None:
    """Record what an `entering_tenant()` item returned (None: it entered nothing), in a
    statement that also set `acting.USER_SETTINGS` for `user_id`."""
    connection = connections[using]
    setattr(connection, ACTING, user_id)
    if tenant_id is not None:
        _entered(_active(connection), tenant_id)


def _narrowable(connection) -> bool:
    """Whether the innermost tenant context was opened without a tenant (enter_tenant() may)."""
    active = _active(connection)
    return connection.in_atomic_block and bool(active) and active[-1][2]


def _entered(active: list[tuple[str, str, bool]], tenant_id: str) -> None:
    active[-1] = (rls_role(), tenant_id, True)


def _active(connection) -> list[tuple[str, str, bool]]:
    if not hasattr(connection, ACTIVE):
        setattr(connection, ACTIVE, [])
    return getattr(connection, ACTIVE)


def _current(connection) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('role'), coalesce(current_setting('app.tenant_id', true), '')"
        )
        return cursor.fetchone()


# Role, tenant and search path, for the transaction; and no JIT compilation: PostgreSQL
# compiles a statement it prices over `jit_above_cost` anew on every run, 50-100 ms at 13M
# rows (bench/README.md), which only a statement that runs for seconds earns back, and no
# page runs one.
ACTIVATE = (
    "SELECT set_config('role', %s, true), set_config('app.tenant_id', %s, true), "
    "set_config('search_path', %s, true), set_config('jit', 'off', true)"
)


def _activate(connection, role: str, tenant_id: str, *, acting_user: int | None = None) -> None:
    """ACTIVATE in one statement. `set_config('role', ...)` is `SET LOCAL ROLE`: the same
    membership check, and "none" goes back to the role that logged in."""
    statement, params = ACTIVATE, [role, tenant_id, SEARCH_PATH]
    if acting_user is not None:
        statement = f"{statement}, {acting.USER_SETTINGS}"
        params += acting.user_settings(acting_user)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _activate_fresh(connection, role: str, tenant_id: str) -> None:
    """FRESH_SESSION, the request's statement timeout, then ACTIVATE, in one message: several
    statements go only by the simple protocol, so the values (none of them secret) are written
    into the text, quoted by psycopg."""
    connection.ensure_connection()
    role, tenant, path, time_zone = (
        sql.Literal(value).as_string(connection.connection)
        for value in (role, tenant_id, SEARCH_PATH, connection.timezone_name)
    )
    statements = [FRESH_SESSION.format(time_zone=time_zone), ACTIVATE % (role, tenant, path)]
    if (limit := settings.LYNX_REQUEST_STATEMENT_TIMEOUT) > 0:
        statements.insert(1, REQUEST_TIMEOUT.format(milliseconds=max(1, round(limit * 1000))))
    with connection.cursor() as cursor:
        cursor.execute("; ".join(statements))

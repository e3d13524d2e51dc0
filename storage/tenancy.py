"""The one tenancy mechanism: a transaction that runs as the RLS role with `app.tenant_id` set.

Requests get it from `lynxportal.middleware` (the whole request without a tenant, the
view nested in the user's tenant); shell sessions, commands, services and tests use
`tenant_context()` directly. Both settings are transaction-local (`SET LOCAL`,
`set_config(..., true)`), so nothing survives on a reused or pooled connection.

The web process logs in as a role that may switch to the RLS role and to nothing else
(storage/database.py): leaving the RLS role inside a request gains no privilege.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from psycopg import sql


def rls_role() -> str:
    return settings.LYNX_DB_RLS_ROLE


@contextmanager
def tenant_context(tenant_id: str | None, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run the block in a transaction as the RLS role, seeing only `tenant_id`'s rows.

    A falsy tenant sees no tenant row at all. Nested in an outer transaction,
    the previous role and tenant are restored when the block ends.
    """
    connection = connections[using]
    nested = connection.in_atomic_block
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            if nested:
                cursor.execute(
                    "SELECT current_setting('role'), "
                    "coalesce(current_setting('app.tenant_id', true), '')"
                )
                previous_role, previous_tenant = cursor.fetchone()
            _activate(cursor, role=rls_role(), tenant_id=tenant_id or "")
        yield
        # A block marked for rollback needs no restoring: the rollback undoes it.
        if nested and not connection.needs_rollback:
            with connection.cursor() as cursor:
                _activate(cursor, role=previous_role, tenant_id=previous_tenant)


def _activate(cursor, *, role: str, tenant_id: str) -> None:
    role_sql = sql.SQL("NONE") if role == "none" else sql.Identifier(role)
    cursor.execute(sql.SQL("SET LOCAL ROLE {}").format(role_sql))
    cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [tenant_id])

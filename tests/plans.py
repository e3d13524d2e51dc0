"""Query plans: which of the spec's indexes a statement uses."""

import re

from django.db import connection

TABLE = re.compile(r'FROM "(\w+)"')
SCAN = re.compile(r"(\w+(?: \w+)*? Scan)(?: using (\w+))? on (\w+)")
LIST_COUNT = re.compile(r"^SELECT \* FROM portal_list_count\('(.*)', (\d+), [\d.]+\)$", re.DOTALL)


def as_run(sql: str) -> str:
    """The statement PostgreSQL runs for `sql`: for a list's `portal_list_count` call, the
    bounded count it runs inside (storage/rows.py `list_count`), which is what reads rows."""
    if found := LIST_COUNT.match(sql):
        query, limit = found.group(1).replace("''", "'"), found.group(2)
        return f"SELECT count(*) FROM ({query} LIMIT {limit}) AS bounded"
    return sql


def assert_uses_tenant_index(statements: list[str], *, tenant_id: str) -> None:
    """Each statement reads its table through one of its `idx_<table>_...` indexes.

    Sequential scans are discouraged for the EXPLAIN: on a test-sized table the
    planner would rightly prefer them, and the point is whether an index *can* serve.
    """
    assert statements, "no statement to explain"
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for sql in map(as_run, statements):
                table = TABLE.search(sql).group(1)
                cursor.execute(f"EXPLAIN {sql}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
                assert f"idx_{table}_" in plan, plan
                assert f"tenant_id = '{tenant_id}'" in plan, plan
        finally:
            cursor.execute("RESET enable_seqscan")


def assert_reads_through_tenant_indexes(
    sql: str, *, tables: tuple[str, ...], tenant_id: str
) -> None:
    """Each of `tables` is read through one of its `idx_<table>_...` indexes, on the tenant, by
    the statement's subqueries; no read of them goes without an index (the primary key may
    serve a join on test-sized tables). Sequential scans are discouraged, as above."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")
    scans = [(kind, index, table) for kind, index, table in SCAN.findall(plan) if table in tables]
    for table in tables:
        assert f"idx_{table}_" in plan, plan
    for kind, index, table in scans:
        assert kind == "Bitmap Heap Scan" or index.startswith((f"idx_{table}_", f"{table}_pkey")), (
            plan
        )
    assert plan.count(f"tenant_id = '{tenant_id}'") >= len(tables), plan

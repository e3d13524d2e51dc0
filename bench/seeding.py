"""Fill a benchmark database: the four spec tables in parallel, then keys, people, statistics.

Two connections insert at once, taking chunks of rows off one queue, with a progress
line per chunk, with the spec tables' keys and
indexes dropped and rebuilt afterwards from their own catalog definitions.
"""

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from django.db import close_old_connections, connection

from bench import marker, seed_sql

CHUNK_ROWS = 250_000
INSERT_CONNECTIONS = 2
SESSION_SETTINGS = (
    "SET synchronous_commit = off",
    "SET maintenance_work_mem = '1GB'",
    "SET work_mem = '256MB'",
    "SET max_parallel_maintenance_workers = 2",
)


def rows_at(*, scale: float) -> dict[str, int]:
    """Each spec table's rows at `scale` (executions stay exactly two per draft)."""
    rows = {table: max(1, round(count * scale)) for table, count in seed_sql.ROWS.items()}
    rows["lynx_executions"] = 2 * rows["lynx_drafts"]
    return rows


def prepare_session(*, cursor, end_epoch: float) -> None:
    for statement in (*SESSION_SETTINGS, *seed_sql.helper_functions(end_epoch=end_epoch)):
        cursor.execute(statement)


def chunks(*, rows: dict[str, int]) -> list[tuple[str, int, int]]:
    """(table, first, last) row ranges, the small tables' first: the two connections share
    them, so neither waits while the other still has ten million audit events to go."""
    return [
        (table, lo, min(lo + CHUNK_ROWS, total) - 1)
        for table, total in rows.items()
        for lo in range(0, total, CHUNK_ROWS)
    ]


def insert_chunks(
    *, queue: list, rows: dict[str, int], end_epoch: float, say: Callable[[str], None]
) -> None:
    """Take chunks off `queue` (shared with the other connections) until none is left."""
    statements = {table: make() for table, make in seed_sql.INSERTS.items()}
    started = time.monotonic()
    with connection.cursor() as cursor:
        prepare_session(cursor=cursor, end_epoch=end_epoch)
        while True:
            try:
                table, lo, hi = queue.pop(0)
            except IndexError:
                return
            cursor.execute(statements[table], {"lo": lo, "hi": hi, "total": rows[table]})
            elapsed = time.monotonic() - started
            say(f"  {table}: rows {lo:,} to {hi:,} of {rows[table]:,} ({elapsed:.0f} s)")


def in_parallel(*, jobs: list[Callable[[], None]]) -> None:
    """Run each job on a thread of its own (own connection); re-raise the first failure."""
    failures: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as exc:  # reported by the caller's thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def run_statements(*, statements: list[str], say: Callable[[str], None]) -> None:
    with connection.cursor() as cursor:
        for setting in SESSION_SETTINGS:
            cursor.execute(setting)
        for statement in statements:
            started = time.monotonic()
            cursor.execute(statement)
            say(f"  {statement[:90]} ({time.monotonic() - started:.0f} s)")


def table_of(*, statement: str) -> str:
    """The table an `ALTER TABLE t ...` or `CREATE INDEX ... ON t USING ...` statement builds on."""
    words = statement.split()
    name = words[2] if words[0] == "ALTER" else words[words.index("ON") + 1]
    return name.rpartition(".")[2]


def restore_keys(*, state: dict, say: Callable[[str], None]) -> dict:
    """Rebuild what a seed dropped: keys and indexes on two connections (the audit events'
    on one), then foreign keys, which need the drafts' key."""
    definitions = state.get("dropped") or []
    if not definitions:
        return state
    say(f"Building {len(definitions)} keys and indexes")
    foreign = [d for d in definitions if " FOREIGN KEY " in d]
    keys_first = sorted(
        (d for d in definitions if d not in foreign), key=lambda d: " PRIMARY KEY " not in d
    )
    audit = [d for d in keys_first if table_of(statement=d) == "lynx_audit_events"]
    others = [d for d in keys_first if d not in audit]
    in_parallel(
        jobs=[
            lambda: run_statements(statements=audit, say=say),
            lambda: run_statements(statements=others, say=say),
        ]
    )
    run_statements(statements=foreign, say=say)
    state = {key: value for key, value in state.items() if key != "dropped"}
    with connection.cursor() as cursor:
        marker.write_mark(cursor=cursor, state=state)
    return state


def empty_tables(*, say: Callable[[str], None]) -> None:
    """--reset: the spec tables, the trail and the portal's people and tenants."""
    say("Emptying the tables")
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE lynx_audit_events, lynx_executions, lynx_drafts, settlement_intents, "
            "lynx_audit_events_archive, lynx_draft_reviews, portal_approval_rules, "
            "portal_approval_rule_changes, storage_user, portal_tenants CASCADE"
        )


def load_rows(*, scale: float, state: dict, say: Callable[[str], None]) -> dict:
    """Drop keys and indexes (recorded in the mark first), insert everything, rebuild them."""
    with connection.cursor() as cursor:
        definitions = marker.bulk_load_definitions(cursor=cursor)
        drops = marker.drop_statements(cursor=cursor)
        state = {**state, "dropped": definitions}
        marker.write_mark(cursor=cursor, state=state)
        for statement in drops:
            cursor.execute(statement)
    rows = rows_at(scale=scale)
    end = datetime.now(UTC)
    end_epoch = end.timestamp()
    say(f"Inserting {sum(rows.values()):,} rows ending at {end:%F %T} UTC")

    queue = chunks(rows=rows)
    in_parallel(
        jobs=[
            lambda: insert_chunks(queue=queue, rows=rows, end_epoch=end_epoch, say=say)
            for _ in range(INSERT_CONNECTIONS)
        ]
    )
    close_old_connections()
    return restore_keys(state=state, say=say)


def vacuum_analyze(*, say: Callable[[str], None]) -> None:
    """Statistics for the planner and the visibility map for index-only scans."""
    others = [t for t in marker.SPEC_TABLES if t != "lynx_audit_events"]
    others += ["lynx_draft_reviews", "storage_user", "portal_tenants"]
    in_parallel(
        jobs=[
            lambda: run_statements(statements=["VACUUM ANALYZE lynx_audit_events"], say=say),
            lambda: run_statements(statements=[f"VACUUM ANALYZE {t}" for t in others], say=say),
        ]
    )

"""Adopting a database Lynx AI is writing to while one of its transactions reads.

The reader holds a lock that adoption's DDL needs for longer than migrate may wait. Lynx
AI's writer must never wait behind migrate for long, and migrate must stop cleanly (no
partial migration) and finish when run again. The figures at 1M rows are in
bench/README.md ("Adoption under live writes"); this shows the mechanism at a small scale.
"""

import threading
import time

import pytest

from tests.catalog import (
    SPEC_TABLES,
    build_spec_schema,
    connect,
    connect_as_superuser,
    scratch_database,
)
from tests.subprocesses import deployed, manage

PATIENCE = 2.0  # LYNX_MIGRATE_LOCK_TIMEOUT
READER_HOLDS_AT_MOST = 30.0  # seconds; it ends as soon as migrate has
INSERT = (
    "INSERT INTO lynx_audit_events (run_id, tenant_id, event_type) "
    "VALUES ('live', 'tenant-a', 'tool_call')"
)

HARDENING_OF_SPEC_TABLES = (
    "WHERE conname LIKE '%tenant_id_not_blank' AND conrelid = ANY (ARRAY["
    + ", ".join(f"'{table}'::regclass" for table in SPEC_TABLES)
    + "])"
)


class Writer(threading.Thread):
    """Lynx AI inserting audit events one by one, noting how long each insert took."""

    def __init__(self, dbname: str):
        super().__init__(daemon=True)
        self.dbname, self.stalls, self.done = dbname, [], threading.Event()

    def run(self) -> None:
        with connect(self.dbname) as conn:
            while not self.done.is_set():
                started = time.monotonic()
                conn.execute(INSERT)
                self.stalls.append(time.monotonic() - started)
                time.sleep(0.01)


@pytest.fixture
def spec_database():
    with scratch_database("live") as dbname:
        build_spec_schema(dbname)
        with connect(dbname) as conn:
            conn.execute(INSERT.replace("'live'", "'before'"))
        yield dbname


def test_migrate_never_blocks_a_writer_behind_a_reader_and_stops_cleanly(spec_database):
    reader = connect(spec_database)
    reader.autocommit = False
    reader.execute("SELECT count(*) FROM lynx_audit_events")  # holds ACCESS SHARE
    release = threading.Timer(READER_HOLDS_AT_MOST, reader.rollback)
    writer = Writer(spec_database)
    release.start()
    writer.start()
    try:
        stopped = manage(
            "migrate",
            "--no-input",
            LYNX_MIGRATE_LOCK_TIMEOUT=str(PATIENCE),
            **deployed(spec_database),
        )
    finally:
        writer.done.set()
        writer.join()
        release.cancel()
        reader.close()

    assert stopped.returncode != 0, stopped.stdout
    assert "Other transactions held locks migrate needs for over 2 s" in stopped.stderr
    assert "Run migrate again." in stopped.stderr
    assert "trying again" in stopped.stdout
    assert len(writer.stalls) > 20, "the writer was not writing while migrate waited"
    # An attempt waits half a second; never as long as migrate kept trying.
    assert max(writer.stalls) < PATIENCE, "an insert waited behind migrate for the reader"
    with connect(spec_database) as conn:
        applied = {row[0] for row in conn.execute("SELECT name FROM django_migrations")}
        assert "0002_row_level_security" in applied
        assert "0003_tenant_id_not_blank" not in applied
        # The migration it stopped in left nothing behind: no CHECK, no invalid index.
        hardening = f"SELECT conname FROM pg_constraint {HARDENING_OF_SPEC_TABLES}"
        assert conn.execute(hardening).fetchall() == []
        assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone() == (0,)

    rerun = manage("migrate", "--no-input", **deployed(spec_database))
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    with connect(spec_database) as conn:
        assert conn.execute(
            f"SELECT count(*) FROM pg_constraint {HARDENING_OF_SPEC_TABLES} AND convalidated"
        ).fetchone() == (4,)


def test_an_index_build_left_invalid_is_rebuilt_when_it_was_the_portals(spec_database):
    """CREATE INDEX CONCURRENTLY killed half way leaves an INVALID index behind."""
    index = "idx_lynx_audit_events_run_id"
    with connect_as_superuser(spec_database) as superuser:
        superuser.execute(
            f"UPDATE pg_index SET indisvalid = false WHERE indexrelid = '{index}'::regclass"
        )

    theirs = manage("migrate", "--no-input", **deployed(spec_database))

    assert theirs.returncode != 0
    assert (
        f"The index {index} on lynx_audit_events is INVALID and is not the portal's: drop it "
        f'(DROP INDEX CONCURRENTLY IF EXISTS "{index}") and run migrate again.'
    ) in theirs.stderr
    with connect(spec_database) as conn:
        # What a migrate killed during its own build leaves: the record, written first.
        conn.execute(
            "INSERT INTO portal_schema_provenance (table_name, kind, name, origin, undo) "
            "VALUES ('lynx_audit_events', 'spec_index', %s, 'created', %s)",
            [index, f"DROP INDEX CONCURRENTLY IF EXISTS {index}"],
        )
    ours = manage("migrate", "--no-input", **deployed(spec_database))
    assert ours.returncode == 0, ours.stdout + ours.stderr
    with connect(spec_database) as conn:
        assert conn.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass", [index]
        ).fetchone() == (True,)


def test_statistics_a_migrate_made_but_did_not_analyze_are_analyzed_when_it_runs_again(
    spec_database,
):
    """Migration 0035's statistics are of use once ANALYZE has filled them: a migrate stopped
    between CREATE STATISTICS and ANALYZE (a lock it could not get, a kill) analyzes when
    run again, and leaves statistics it did not make as they are."""
    statistics = "stat_lynx_audit_events_type_status"
    upto = manage("migrate", "--no-input", "storage", "0034", **deployed(spec_database))
    assert upto.returncode == 0, upto.stdout + upto.stderr
    with connect(spec_database) as conn:
        conn.execute(INSERT.replace("'tool_call'", "'run_start'"))
        # What such a migrate leaves: the record, written first, and the empty statistics.
        conn.execute(
            f"CREATE STATISTICS {statistics} (mcv) ON event_type, status, tool_id "
            "FROM lynx_audit_events"
        )
        conn.execute(
            "INSERT INTO portal_schema_provenance (table_name, kind, name, origin, undo) "
            "VALUES ('lynx_audit_events', 'portal_statistics', %s, 'created', %s)",
            [statistics, f"DROP STATISTICS IF EXISTS {statistics}"],
        )
        analyzed = f"SELECT count(*) FROM pg_stats_ext WHERE statistics_name = '{statistics}'"
        assert conn.execute(analyzed).fetchone() == (0,)

    rerun = manage("migrate", "--no-input", **deployed(spec_database))

    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    with connect(spec_database) as conn:
        assert conn.execute(analyzed).fetchone() == (1,)

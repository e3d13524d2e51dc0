"""How long Lynx AI's inserts wait while `migrate` adopts its live tables.

Builds the spec's tables from its SQL in a scratch database (dropped first) and loads
`--rows` audit events, then runs `manage.py migrate` as the deploy does while a writer
inserts audit events one by one (each its own transaction) and records how long each took:

1. with a reader transaction holding the table open for `--reader-seconds`: migrate waits
   for its lock at most 0.5 s at a time and stops after LYNX_MIGRATE_LOCK_TIMEOUT, then
   is run again once the reader has finished;
2. on a fresh copy with no reader: migrate runs through.

    make bench-adoption                      # 1,000,000 rows on the embedded PostgreSQL
    .venv/bin/python bench/adoption_stall.py --rows 200000 --reader-seconds 8

Needs DATABASE_URL (the web role) and DATABASE_OWNER_URL (the owner), as `make` sets them.
"""

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.scratch import create, migrate, owner_connection, url_for  # noqa: E402

DATABASE = "lynx_bench_adoption"
INSERT = (
    "INSERT INTO lynx_audit_events (run_id, tenant_id, tool_id, event_type, status) "
    "VALUES ('bench-live', 'acme', 'pay', 'tool_call', 'succeeded')"
)
LOAD = """
INSERT INTO lynx_audit_events (run_id, tenant_id, tool_id, event_type, status, input_data,
                               created_at)
SELECT 'run-' || (n / 8), CASE WHEN n %% 10 = 0 THEN 'globex' ELSE 'acme' END,
       CASE WHEN n %% 8 = 0 THEN NULL ELSE 'tool-' || (n %% 5) END,
       (ARRAY['run_start', 'tool_call', 'tool_call', 'run_success'])[1 + n %% 4],
       'succeeded', jsonb_build_object('n', n), now() - (n %% 120) * interval '1 day'
FROM generate_series(1, %s) n
"""


def build(rows: int) -> None:
    create(DATABASE)
    with owner_connection(DATABASE) as conn:
        started = time.monotonic()
        conn.execute(LOAD, [rows])
        conn.execute("VACUUM ANALYZE lynx_audit_events")
        print(f"loaded {rows:,} audit events in {time.monotonic() - started:.0f} s")


class Writer(threading.Thread):
    """Inserts one audit event at a time, keeping (start, seconds) of each insert."""

    def __init__(self):
        super().__init__(daemon=True)
        self.inserts: list[tuple[float, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        with owner_connection(DATABASE) as conn:
            while not self.done.is_set():
                started = time.monotonic()
                conn.execute(INSERT)
                self.inserts.append((started, time.monotonic() - started))
                time.sleep(0.005)

    def during(self, start: float, end: float) -> list[float]:
        return [took for began, took in self.inserts if start <= began + took and began <= end]


def timed_migrate(patience: str) -> tuple:
    started = time.monotonic()
    result = migrate(DATABASE, patience=patience)
    return result, started, time.monotonic()


def report(label: str, run, writer: Writer) -> None:
    result, start, end = run
    stalls = writer.during(start, end)
    outcome = "finished" if result.returncode == 0 else "stopped: " + result.stderr.strip()
    print(
        f"{label}: migrate {outcome} after {end - start:.1f} s; {len(stalls)} inserts meanwhile, "
        f"longest {max(stalls) * 1000:.0f} ms, median {statistics.median(stalls) * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reader-seconds", type=float, default=15.0)
    parser.add_argument("--patience", default="5", help="LYNX_MIGRATE_LOCK_TIMEOUT")
    options = parser.parse_args()

    build(options.rows)
    writer = Writer()
    writer.start()
    reader = psycopg.connect(url_for("DATABASE_OWNER_URL", DATABASE))
    reader.execute("SELECT count(*) FROM lynx_audit_events")  # holds it open
    release = threading.Timer(options.reader_seconds, reader.rollback)
    release.start()
    report("with a reader open", timed_migrate(options.patience), writer)
    release.join()
    reader.close()
    report("run again, reader gone", timed_migrate(options.patience), writer)
    writer.done.set()
    writer.join()

    build(options.rows)
    writer = Writer()
    writer.start()
    report("no reader", timed_migrate(options.patience), writer)
    writer.done.set()
    writer.join()


if __name__ == "__main__":
    main()

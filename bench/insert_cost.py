"""What each of the portal's own indexes costs Lynx AI's inserts: throughput with and without it.

Builds a scratch database (`lynx_bench_inserts`, dropped first) from the spec's SQL, fills its
drafts and audit events as `bench_seed` does (`--scale`: 0.1 gives 100,000 drafts and 1,000,000
audit events), then runs `manage.py migrate` as a deploy onto Lynx AI's database does, which
builds the portal's indexes. For each index migrate built beyond the spec (its provenance
record says which), a copy of that database without it; then, in rounds that alternate which
database goes first, Lynx AI's inserts into the index's table in each: single rows, each its
own transaction, and batches of 100 rows (one INSERT, one transaction), `--seconds` each;
then ten 100-row inserts under EXPLAIN (ANALYZE, WAL), for the WAL they write and their time
in the server, which leave out the commit's flush. The rows are the seed's next ones: new
drafts are 60% submitted (the rest drafts or approved), new audit events 1.5% refusals and
run failures. Prints each arm's median over the rounds (and range), each index's size before
those rows, and its cost: the median of the rounds' own with/without ratios. The scratch
databases are dropped at the end.

    make bench-inserts                                   # on the embedded PostgreSQL
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lynx_bench make bench-inserts
    .venv/bin/python bench/insert_cost.py --rounds 8 --seconds 5 --scale 0.1

Needs DATABASE_URL (the web role) and DATABASE_OWNER_URL (the owner), as `make` sets them.
Lynx AI's commits are synchronous (the server's defaults are kept), so a single-row insert is
mostly the commit's flush: the noise of a shared machine shows there first.
"""

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import seed_sql  # noqa: E402
from bench.scratch import create, drop, migrate, owner_connection  # noqa: E402

DATABASE = "lynx_bench_inserts"
TABLES = ("lynx_drafts", "lynx_audit_events")
BATCH = 100
EXPLAINED = 10  # 100-row inserts explained per round and database


@dataclass(frozen=True)
class PortalIndex:
    table: str
    name: str

    @property
    def database(self) -> str:
        """The copy without this index."""
        return f"{DATABASE}_{self.name}"[:63]


class Inserter:
    """Lynx AI writing one table of one database: the seed's next rows, numbered on from
    `next_row`, each insert committed on its own."""

    def __init__(self, *, database: str, table: str, total: int, end_epoch: float) -> None:
        self.conn = owner_connection(database)
        for statement in seed_sql.helper_functions(end_epoch=end_epoch):
            self.conn.execute(statement)
        self.statement = seed_sql.INSERTS[table]()
        self.total, self.next_row = total, total

    def per_second(self, *, rows: int, seconds: float) -> float:
        """Inserts of `rows` rows each made per second, for `seconds`."""
        done, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            lo, self.next_row = self.next_row, self.next_row + rows
            self.conn.execute(self.statement, {"lo": lo, "hi": lo + rows - 1, "total": self.total})
            done += 1
        return done / elapsed

    def explained(self, *, rows: int, times: int) -> tuple[float, float]:
        """WAL bytes and server time (µs) per row over `times` inserts of `rows` rows: what
        the index costs, without the commit's flush and less touched by the machine's load."""
        wal = server = 0.0
        explain = f"EXPLAIN (ANALYZE, WAL, FORMAT JSON) {self.statement}"
        for _ in range(times):
            lo, self.next_row = self.next_row, self.next_row + rows
            params = {"lo": lo, "hi": lo + rows - 1, "total": self.total}
            [plan] = self.conn.execute(explain, params).fetchone()[0]
            wal, server = wal + plan["Plan"]["WAL Bytes"], server + plan["Execution Time"]
        return wal / (rows * times), server * 1e3 / (rows * times)

    def close(self) -> None:
        self.conn.close()


def build(*, scale: float, end_epoch: float, say) -> dict[str, int]:
    """The scratch database: spec tables, drafts and audit events, then migrate."""
    rows = {table: max(1, round(seed_sql.ROWS[table] * scale)) for table in TABLES}
    create(DATABASE)
    with owner_connection(DATABASE) as conn:
        for statement in seed_sql.helper_functions(end_epoch=end_epoch):
            conn.execute(statement)
        for table, count in rows.items():
            say(f"loading {count:,} rows into {table}")
            params = {"lo": 0, "hi": count - 1, "total": count}
            conn.execute(seed_sql.INSERTS[table](), params)
    say("manage.py migrate")
    result = migrate(DATABASE)
    if result.returncode:
        sys.exit(f"migrate failed:\n{result.stdout}{result.stderr}")
    with owner_connection(DATABASE) as conn:
        for table in TABLES:
            conn.execute(f"VACUUM ANALYZE {table}")
    return rows


def portal_indexes() -> list[PortalIndex]:
    """The indexes migrate built beyond the spec on the measured tables."""
    with owner_connection(DATABASE) as conn:
        found = conn.execute(
            "SELECT table_name, name FROM portal_schema_provenance "
            "WHERE kind = 'portal_index' AND table_name = ANY(%s) ORDER BY 1, 2",
            [list(TABLES)],
        ).fetchall()
    return [PortalIndex(table, name) for table, name in found]


def copy_without(index: PortalIndex) -> None:
    create(index.database, template=DATABASE)
    with owner_connection(index.database) as conn:
        conn.execute(f"DROP INDEX {index.name}")


@dataclass
class Rates:
    single: list[float]  # rows per second
    batch: list[float]  # batches per second
    wal: list[float]  # bytes per row
    server: list[float]  # µs per row


def measure(*, index: PortalIndex, total: int, options, end_epoch: float) -> dict[str, Rates]:
    """Rounds alternating which database is measured first: with the index, then without."""
    arms = {
        arm: Inserter(database=database, table=index.table, total=total, end_epoch=end_epoch)
        for arm, database in (("with", DATABASE), ("without", index.database))
    }
    rates = {arm: Rates([], [], [], []) for arm in arms}
    try:
        for round_ in range(options.rounds):
            order = list(arms) if round_ % 2 == 0 else list(reversed(arms))
            for arm in order:
                rates[arm].single.append(arms[arm].per_second(rows=1, seconds=options.seconds))
            for arm in reversed(order):
                rates[arm].batch.append(arms[arm].per_second(rows=BATCH, seconds=options.seconds))
            for arm in order:
                wal, server = arms[arm].explained(rows=BATCH, times=EXPLAINED)
                rates[arm].wal.append(wal)
                rates[arm].server.append(server)
    finally:
        for inserter in arms.values():
            inserter.close()
    return rates


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


def cost(with_: list[float], without: list[float], *, per_row: bool = False) -> str:
    """How much more each row costs with the index (rates: how much lower they are): the
    median over the rounds of each round's own pair, measured back to back so that the
    machine's load weighs on both alike, and the range of those pairs."""
    pairs = zip(with_, without, strict=True)
    costs = sorted((w / wo - 1 if per_row else 1 - w / wo) * 100 for w, wo in pairs)
    return f"{statistics.median(costs):+.1f}% ({costs[0]:+.0f} to {costs[-1]:+.0f})"


def index_size(index: PortalIndex) -> str:
    with owner_connection(DATABASE) as conn:
        query = "SELECT pg_size_pretty(pg_relation_size(%s::regclass))"
        return conn.execute(query, [index.name]).fetchone()[0]


def print_table(header: list[str], rows: list[list[str]], *, text_columns: int = 1) -> None:
    """A Markdown table: its first `text_columns` to the left, the numbers after them right."""
    print(f"| {' | '.join(header)} |")
    print("|---" * text_columns + "|---:" * (len(header) - text_columns) + "|")
    for row in rows:
        print(f"| {' | '.join(row)} |")


def machine() -> str:
    with owner_connection(DATABASE) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} vCPUs, {memory:.0f} GB RAM, PostgreSQL {version}"


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1, help="rows loaded first (seed scale)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    options = parser.parse_args()

    end_epoch = time.time()
    rows = build(scale=options.scale, end_epoch=end_epoch, say=print)
    indexes = portal_indexes()
    sizes = {index: index_size(index) for index in indexes}  # before the rows measured
    started, load_before = datetime.now(UTC), load_average()
    results = []
    try:
        for index in indexes:
            copy_without(index)
            print(f"measuring {index.name} on {index.table}")
            total = rows[index.table]
            rates = measure(index=index, total=total, options=options, end_epoch=end_epoch)
            results.append((index, rates))
    finally:
        for index in indexes:
            drop(index.database)
    print(
        f"\nScale {options.scale:g} ({', '.join(f'{n:,} {t}' for t, n in rows.items())}); "
        f"{options.rounds} rounds of {options.seconds:g} s per measurement, alternating; "
        f"{started:%Y-%m-%d %H:%M} UTC, {machine()}; load average {load_before} before, "
        f"{load_average()} after (1, 5, 15 min).\n"
    )
    print_table(
        ["index", "table", "size", "single rows/s with", "without", "cost"]
        + ["100-row batches/s with", "without", "cost"],
        [
            [index.name, index.table, sizes[index]]
            + [spread(rates["with"].single), spread(rates["without"].single)]
            + [cost(rates["with"].single, rates["without"].single)]
            + [spread(rates["with"].batch), spread(rates["without"].batch)]
            + [cost(rates["with"].batch, rates["without"].batch)]
            for index, rates in results
        ],
        text_columns=2,
    )
    print(
        f"\nPer row, over {EXPLAINED} 100-row inserts a round in each database "
        "(EXPLAIN (ANALYZE, WAL)):\n"
    )
    print_table(
        ["index", "WAL bytes with", "without", "server µs with", "without", "cost"],
        [
            [index.name]
            + [f"{statistics.median(rates[arm].wal):,.0f}" for arm in ("with", "without")]
            + [f"{statistics.median(rates[arm].server):,.1f}" for arm in ("with", "without")]
            + [cost(rates["with"].server, rates["without"].server, per_row=True)]
            for index, rates in results
        ],
    )
    drop(DATABASE)


if __name__ == "__main__":
    main()

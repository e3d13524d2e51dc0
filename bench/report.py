"""The run's table and its verdicts against issue 8's targets.

A cell `–` means "does not apply" (no default-admin page, no floor); the last column
names every target the row misses, or says ok.
"""

import math
import os
import platform
import time
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection

from bench.pages import Kind
from bench.run import Row

MEDIAN_MS = 50
P95_MS = 100
CPU_MS = 20
MAX_QUERIES = 6
FILTERED_VS_DEFAULT = 10
UNFILTERED_VS_DEFAULT = 3
FLOOR_FACTOR, FLOOR_SLACK_MS = 2, 1
CSV_ROWS_PER_S = 200_000
APPROVE_MS = 100
LISTS = (Kind.FILTERED, Kind.UNFILTERED)

HEADER = (
    "| page | tenant | median ms | p95 ms | CPU ms | queries | DB ms | default ms "
    "| default / portal | floor ms | DB / floor | misses |"
)
RULE = "|---|---|" + "---:|" * 9 + "---|"


def misses(row: Row, *, constant_queries: bool) -> list[str]:
    """The targets this row does not meet."""
    portal, kind = row.portal, row.page.kind
    if kind == Kind.EXPORT:
        failed = [] if row.notes.get("rows_per_s", 0) >= CSV_ROWS_PER_S else ["rows/s"]
        return failed + ([] if portal.statuses == {200} else ["status"])
    found = []
    if portal.statuses - {200, 302}:
        found.append(f"status {sorted(portal.statuses)}")
    median = portal.median("wall_ms")
    if kind == Kind.DECISION:
        found += [] if median <= APPROVE_MS else [f"> {APPROVE_MS} ms"]
        if row.notes.get("approved") != row.notes.get("of"):
            found.append("not all approved")
        return found
    found += [] if median <= MEDIAN_MS else [f"median > {MEDIAN_MS}"]
    found += [] if portal.p95("wall_ms") <= P95_MS else [f"p95 > {P95_MS}"]
    if kind in LISTS and portal.median("cpu_ms") > CPU_MS:
        found.append(f"CPU > {CPU_MS}")
    if max(portal.query_counts) > MAX_QUERIES:
        found.append(f"queries > {MAX_QUERIES}")
    if not constant_queries:
        found.append("queries vary")
    if row.default is not None:
        ratio = row.default.median("wall_ms") / median
        needed = 1.0
        if row.tenant.label == "largest":
            needed = {
                Kind.FILTERED: FILTERED_VS_DEFAULT,
                Kind.UNFILTERED: UNFILTERED_VS_DEFAULT,
            }.get(kind, 1.0)
        if ratio < needed:
            found.append(f"< {needed:g}x default")
    if (
        row.floor_ms is not None
        and portal.median("db_ms") > FLOOR_FACTOR * row.floor_ms + FLOOR_SLACK_MS
    ):
        found.append(f"DB > {FLOOR_FACTOR}x floor + {FLOOR_SLACK_MS}")
    return found


def constant_query_pages(*, rows: Iterable[Row]) -> set[str]:
    """Pages whose query count is the same on every request, for both tenants."""
    counts = defaultdict(set)
    for row in rows:
        counts[row.page.name] |= row.portal.query_counts
    return {name for name, seen in counts.items() if len(seen) == 1}


def number(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def table_line(row: Row, *, constant: set[str]) -> str:
    portal = row.portal
    median = portal.median("wall_ms")
    default = row.default.median("wall_ms") if row.default else None
    db = portal.median("db_ms")
    queries = "/".join(str(q) for q in sorted(portal.query_counts))
    found = misses(row, constant_queries=row.page.name in constant)
    if row.page.kind == Kind.EXPORT:
        queries = f"{row.notes['rows']:,} rows, {row.notes['rows_per_s']:,.0f} rows/s"
        db = None
        found = found or ["ok"]
        return (
            f"| {row.page.name} | {row.tenant.label} | {number(median, 0)} | – | – | {queries} "
            f"| – | – | – | {number(row.floor_ms, 0)} | – | "
            f"{', '.join(found)}; peak {row.notes['peak_mb']:.1f} MB |"
        )
    return (
        f"| {row.page.name} | {row.tenant.label} | {number(median)} "
        f"| {number(portal.p95('wall_ms'))} "
        f"| {number(portal.median('cpu_ms'))} | {queries} | {number(db)} | {number(default)} "
        f"| {number(default / median if default else None)} | {number(row.floor_ms)} "
        f"| {number(db / row.floor_ms if row.floor_ms else None)} | {', '.join(found) or 'ok'} |"
    )


def machine() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} vCPUs, "
        f"{memory:.0f} GB RAM, Python {platform.python_version()}, PostgreSQL {version}; "
        f"load average {load} (1, 5, 15 min) at the end"
    )


def markdown(*, rows: list[Row], scale: float, options) -> str:
    constant = constant_query_pages(rows=rows)
    lines = [
        f"Scale {scale:g}; {options.repeat} timed requests per portal page after "
        f"{options.warmup} warm-up, {options.default_repeat} per default-admin page, "
        f"floor median of {options.floor_repeat}; {machine()}.",
        "",
        HEADER,
        RULE,
        *(table_line(row, constant=constant) for row in rows),
    ]
    return "\n".join(lines) + "\n"


def failures(*, rows: list[Row]) -> int:
    constant = constant_query_pages(rows=rows)
    return sum(bool(misses(row, constant_queries=row.page.name in constant)) for row in rows)

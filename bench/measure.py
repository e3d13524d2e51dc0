"""Timing one page through Django's whole stack, in-process, and its SQL floor beside it.

A request is timed as the server sees it: `Client` runs every middleware, the view and
the template, as a signed-in person over "HTTPS" with production settings. Per request:
wall time, Python CPU time of this thread (`time.thread_time`: waiting for PostgreSQL is
not CPU), the number of SQL statements and the time spent in them (an
`execute_wrapper`). The floor runs the page's essential SQL with psycopg as the RLS
role with the tenant set, as the portal's requests do, and takes the median.
"""

import re
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import psycopg
from django.conf import settings
from django.db import connection
from django.test import Client

from storage import acting


@dataclass
class Sample:
    wall_ms: float
    cpu_ms: float
    queries: int
    db_ms: float
    status: int


@dataclass
class Timing:
    """Several samples of one request, after warm-up."""

    samples: list[Sample] = field(default_factory=list)

    def _values(self, name: str) -> list[float]:
        return [getattr(sample, name) for sample in self.samples]

    def median(self, name: str) -> float:
        return statistics.median(self._values(name)) if self.samples else float("nan")

    def p95(self, name: str) -> float:
        values = sorted(self._values(name))
        return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))] if values else 0

    @property
    def statuses(self) -> set[int]:
        return {sample.status for sample in self.samples}

    @property
    def query_counts(self) -> set[int]:
        return {sample.queries for sample in self.samples}


class QueryRecorder:
    """An execute_wrapper: counts statements and adds up their time."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def timed_request(*, send: Callable[[], object]) -> tuple[Sample, object]:
    """One request, timed; `send` returns the response, whose content is read inside."""
    recorder = QueryRecorder()
    with connection.execute_wrapper(recorder):
        cpu, wall = time.thread_time(), time.perf_counter()
        response = send()
        if getattr(response, "streaming", False):
            for _ in response.streaming_content:
                pass
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    sample = Sample(
        wall * 1e3, cpu * 1e3, recorder.count, recorder.seconds * 1e3, response.status_code
    )
    return sample, response


def measure_gets(*, client: Client, repeats: dict[str, int], warmup: int) -> dict[str, Timing]:
    """For each URL, `warmup` untimed GETs, then its number of timed ones, the URLs in turn:
    the fewer samples of one spread evenly among the others', so that a machine whose speed
    drifts (a virtual one's does, by a fifth and more within minutes) weighs on all alike."""
    for url in repeats:
        for _ in range(warmup):
            client.get(url, secure=True)
    most = max(repeats.values())
    timings = {url: Timing() for url in repeats}
    for turn in range(most):
        for url, repeat in repeats.items():
            if turn * repeat // most != (turn + 1) * repeat // most:  # `repeat` of `most` turns
                sample, _ = timed_request(send=lambda url=url: client.get(url, secure=True))
                timings[url].samples.append(sample)
    return timings


HIDDEN = re.compile(r'<input type="hidden" name="(_selected_action|_seen)" value="([^"]*)">')


def approve(*, client: Client, url: str, draft_ids: Sequence[str]) -> tuple[Sample, Sample]:
    """Approve `draft_ids` as a reviewer does: the confirmation page, then "Yes, approve"
    with the tokens it showed. Both requests are timed."""
    chosen = {"action": "approve_selected", "_selected_action": list(draft_ids), "index": "0"}
    confirm, page = timed_request(send=lambda: client.post(url, chosen, secure=True))
    fields = HIDDEN.findall(page.content.decode())
    answer = {
        "action": "approve_selected",
        "post": "yes",
        "reason": "",
        "_selected_action": [value for name, value in fields if name == "_selected_action"],
        "_seen": [value for name, value in fields if name == "_seen"],
    }
    decide, _ = timed_request(send=lambda: client.post(url, answer, secure=True))
    return confirm, decide


@dataclass(frozen=True)
class ExportResult:
    rows: int
    seconds: float
    peak_mb: float
    status: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def export(*, client: Client, url: str, warmup: int) -> ExportResult:
    """Stream a CSV export to the end, after `warmup` untimed ones (as every page is measured
    warm): rows/s untraced, then peak Python memory traced (tracemalloc slows allocation, so
    the two are separate runs)."""
    for _ in range(warmup):
        for _ in _chunks(client.get(url, secure=True)):
            pass
    started = time.perf_counter()
    response = client.get(url, secure=True)
    lines = sum(chunk.count(b"\n") for chunk in _chunks(response))
    seconds = time.perf_counter() - started
    tracemalloc.start()
    try:
        for _ in _chunks(client.get(url, secure=True)):
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return ExportResult(max(lines - 1, 0), seconds, peak / 2**20, response.status_code)


def _chunks(response) -> Iterable[bytes]:
    return (
        response.streaming_content if getattr(response, "streaming", False) else [response.content]
    )


DJANGO_ONLY_OPTIONS = {"isolation_level", "server_side_binding", "pool", "assume_role"}


def web_connection_params() -> dict:
    """psycopg's arguments for the web login role on the database Django uses now (a test
    run's test database included), OPTIONS such as a socket `host` too."""
    current, web = connection.settings_dict, settings.LYNX_WEB_DATABASE
    given = {
        "dbname": current["NAME"],
        "user": web.get("USER"),
        "password": web.get("PASSWORD"),
        "host": current.get("HOST"),
        "port": current.get("PORT"),
    }
    options = current.get("OPTIONS", {})
    options = {k: v for k, v in options.items() if k not in DJANGO_ONLY_OPTIONS}
    return {**{k: v for k, v in given.items() if v}, **options}


def floor_connection() -> psycopg.Connection:
    """The floor's own connection, as the web login role (closed by the caller)."""
    return psycopg.connect(**web_connection_params())


def floor_ms(
    *,
    conn: psycopg.Connection,
    statements: Sequence[str],
    params: dict,
    tenant_id: str,
    user_id: int,
    repeat: int,
) -> float:
    """Median time of the page's essential SQL as the RLS role with the tenant set, acting for
    `user_id` (storage.acting), without JIT compilation, as a request of theirs does."""
    timings = []
    for attempt in range(repeat + 1):  # the first warms the plan cache and buffers
        with conn.transaction(force_rollback=True):
            conn.execute(f"SET LOCAL ROLE {settings.LYNX_DB_RLS_ROLE}")
            conn.execute(
                f"SELECT set_config('app.tenant_id', %s, true), set_config('jit', 'off', true), "
                f"{acting.USER_SETTINGS}",
                [tenant_id, *acting.user_settings(user_id)],
            )
            started = time.perf_counter()
            for statement in statements:
                _run(conn=conn, statement=statement, params=params)
            if attempt:
                timings.append((time.perf_counter() - started) * 1e3)
    return statistics.median(timings)


def _run(*, conn: psycopg.Connection, statement: str, params: dict) -> None:
    with conn.cursor() as cursor:
        if statement.startswith("COPY"):
            query = psycopg.ClientCursor(conn).mogrify(statement, params)
            with cursor.copy(query) as copy:
                for _ in copy:
                    pass
        else:
            cursor.execute(statement, params)
            if cursor.description:
                cursor.fetchall()

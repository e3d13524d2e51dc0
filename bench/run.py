"""One benchmark run: every page of bench/pages.py for the largest and the median tenant.

For each page and tenant: the portal (median, p95, CPU, queries, database time), the same
page on the default admin, and the SQL floor, side by side; then approve 50 and the CSV
export. `Row`s go to bench/report.py for the table and the verdicts.
"""

import time as time_module
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

import psycopg
from django.db import connection
from django.test import Client

from bench import measure, people
from bench.pages import APPROVE_50, CSV_EXPORT, PAGE_SIZE, PAGES, Kind, Page
from storage.models import User
from storage.tenancy import tenant_context

EXPORT_ROWS = 300_000
DEEP_PAGE = 500


@dataclass
class Row:
    page: Page
    tenant: people.MeasuredTenant
    portal: measure.Timing
    default: measure.Timing | None = None
    floor_ms: float | None = None
    notes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    repeat: int = 20
    warmup: int = 3
    default_repeat: int = 5
    floor_repeat: int = 10
    approve_runs: int = 5


def facts(*, tenant: people.MeasuredTenant) -> dict:
    """Ids and dates of this tenant's rows that the pages' URLs and floors name."""
    today = datetime.now(UTC).date()
    found = {
        "tenant": tenant.tenant_id,
        "reviewer": tenant.username("reviewer"),
        "reviewer_id": User.objects.get(username=tenant.username("reviewer")).pk,
        "week_ago_day": today - timedelta(days=7),
        "range_from_day": today - timedelta(days=37),
        "range_last_day": today - timedelta(days=31),
        "range_to_day": today - timedelta(days=30),
    }
    queries = {
        "request_id": nth_newest(
            column="request_id", table="lynx_drafts", where="request_id LIKE 'req-%%'", n=100
        ),
        "draft_id": nth_newest(
            column="draft_id::text",
            table="lynx_drafts",
            where="status = 'submitted' AND draft_type = 'vpm_payment'",
        ),
        "execution_id": nth_newest(
            column="execution_id::text",
            table="lynx_executions",
            where="rollback_instructions IS NOT NULL",
            n=100,
        ),
        "run_id": nth_newest(
            column="run_id", table="lynx_audit_events", where="event_type = 'tool_call'", n=1000
        ),
        "audit_events": "SELECT count(*) FROM (SELECT 1 FROM lynx_audit_events "
        f"WHERE tenant_id = %s LIMIT {DEEP_PAGE * PAGE_SIZE}) bounded",
        # The day of the EXPORT_ROWS-th newest row: the export holds a few more (all, if fewer).
        "export_from_day": "SELECT coalesce(min(created_at)::date, '2000-01-01') FROM "
        f"(SELECT created_at FROM lynx_audit_events WHERE tenant_id = %s "
        f"ORDER BY created_at DESC LIMIT {EXPORT_ROWS}) newest",
    }
    with tenant_context(tenant.tenant_id), connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql, [tenant.tenant_id])
            found[name] = cursor.fetchone()[0]
    for name in ("week_ago", "range_from", "range_to", "export_from"):
        found[name] = datetime.combine(found[f"{name}_day"], time.min, tzinfo=UTC)
        found[f"{name}_utc"] = f"{found[f'{name}_day']}T00:00:00Z"
    # Half-way down a tenant with fewer pages: the portal's page count is an estimate.
    found["deep_page"] = max(1, min(DEEP_PAGE, found["audit_events"] // PAGE_SIZE // 2))
    found["deep_offset"] = (found["deep_page"] - 1) * PAGE_SIZE
    return found


def nth_newest(*, column: str, table: str, where: str, n: int = 0) -> str:
    """The `n`th newest row's `column` matching `where` (the oldest one if fewer match)."""
    return (
        f"SELECT value FROM (SELECT {column} AS value, created_at FROM {table} "
        f"WHERE tenant_id = %s AND {where} ORDER BY created_at DESC LIMIT {n + 1}) newest "
        "ORDER BY created_at LIMIT 1"
    )


def clients(*, tenant: people.MeasuredTenant) -> dict[str, Client]:
    """A signed-in session per role, as a browser would hold it."""
    signed_in = {}
    for role in ("reviewer", "auditor", "operator"):
        client = Client(HTTP_HOST="localhost")
        # No backend named: Django takes the first that loads users, as a sign-in records.
        client.force_login(User.objects.get(username=tenant.username(role)))
        signed_in[role] = client
    return signed_in


@dataclass
class Context:
    """What every measurement of one tenant needs."""

    tenant: people.MeasuredTenant
    found: dict  # facts(): ids and dates for URLs and floors
    signed_in: dict[str, Client]
    options: Settings
    floor: psycopg.Connection

    def floor_ms(self, *, statements: tuple[str, ...], params: dict, repeat: int) -> float:
        return measure.floor_ms(
            conn=self.floor,
            statements=statements,
            params=params,
            tenant_id=self.tenant.tenant_id,
            user_id=self.found["reviewer_id"],
            repeat=repeat,
        )


def measure_page(*, context: Context, page: Page) -> Row:
    client, options, found = context.signed_in[page.role], context.options, context.found
    url = page.portal.format(**found)
    repeats = {url: options.repeat}
    if page.default:
        default_url = page.default.format(**found)
        repeats[default_url] = options.default_repeat
    timings = measure.measure_gets(client=client, repeats=repeats, warmup=options.warmup)
    row = Row(page, context.tenant, timings[url])
    if page.default:
        row.default = timings[default_url]
    if page.floor:
        row.floor_ms = context.floor_ms(
            statements=page.floor, params=found, repeat=options.floor_repeat
        )
    return row


def approve_pool(*, tenant_id: str, count: int) -> list[list[str]]:
    """`count` batches of 50 submitted pool drafts, topping the pool up first if needed."""
    missing = count * 50 - people.approve_pool_size(tenant_id=tenant_id)
    if missing > 0:
        people.add_approve_pool(tenant_id=tenant_id, count=missing)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT draft_id::text FROM lynx_drafts WHERE tenant_id = %s AND status = 'submitted' "
            "AND created_by = %s ORDER BY created_at, draft_id LIMIT %s",
            [tenant_id, people.POOL_MAKER, count * 50],
        )
        ids = [draft_id for (draft_id,) in cursor.fetchall()]
    return [ids[i : i + 50] for i in range(0, len(ids), 50)]


def approved_count(*, draft_ids: list[str]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM lynx_drafts "
            "WHERE draft_id = ANY(%s::uuid[]) AND status = 'approved'",
            [draft_ids],
        )
        return cursor.fetchone()[0]


def measure_approve(*, context: Context) -> list[Row]:
    """Approve 50 drafts `approve_runs` times (the first is warm-up): confirmation and decision."""
    tenant, runs = context.tenant, context.options.approve_runs
    batches = approve_pool(tenant_id=tenant.tenant_id, count=runs + 1)
    confirm, decide = measure.Timing(), measure.Timing()
    approved = 0
    url = APPROVE_50.portal
    for number, batch in enumerate(batches):
        confirmation, decision = measure.approve(
            client=context.signed_in[APPROVE_50.role], url=url, draft_ids=batch
        )
        if number:
            confirm.samples.append(confirmation)
            decide.samples.append(decision)
            approved += approved_count(draft_ids=batch)
    params = {"tenant": tenant.tenant_id, "draft_ids": batches[-1]}
    floor = context.floor_ms(
        statements=APPROVE_50.floor, params=params, repeat=context.options.floor_repeat
    )
    confirm_page = Page("approve 50, confirmation", APPROVE_50.role, Kind.PAGE, url)
    notes = {"approved": approved, "of": 50 * runs}
    return [
        Row(confirm_page, tenant, confirm),
        Row(APPROVE_50, tenant, decide, floor_ms=floor, notes=notes),
    ]


def measure_export(*, context: Context) -> Row:
    url = CSV_EXPORT.portal.format(**context.found)
    warmup = min(1, context.options.warmup)
    result = measure.export(client=context.signed_in[CSV_EXPORT.role], url=url, warmup=warmup)
    floor = context.floor_ms(statements=CSV_EXPORT.floor, params=context.found, repeat=1)
    sample = measure.Sample(result.seconds * 1e3, float("nan"), 0, 0.0, result.status)
    notes = {"rows": result.rows, "rows_per_s": result.rows_per_second, "peak_mb": result.peak_mb}
    return Row(CSV_EXPORT, context.tenant, measure.Timing([sample]), floor_ms=floor, notes=notes)


def run(*, options: Settings, say=print) -> list[Row]:
    """Every page for each measured tenant, then approve 50 and the export."""
    rows = []
    with measure.floor_connection() as floor:
        for tenant in people.measured_tenants():
            context = Context(tenant, facts(tenant=tenant), clients(tenant=tenant), options, floor)
            for page in PAGES:
                started = time_module.monotonic()
                rows.append(measure_page(context=context, page=page))
                say(f"  {tenant.label}: {page.name} ({time_module.monotonic() - started:.1f} s)")
            rows += measure_approve(context=context)
            rows.append(measure_export(context=context))
            say(f"  {tenant.label}: approve 50 and CSV export")
    return rows

"""One benchmark run: every page of bench/pages.py for the largest and the median tenant.

For each page and tenant: the portal (median, p95, CPU, queries, database time), the same
page on the default admin, and the SQL floor, side by side; then approve 50 and the CSV
export. `Row`s go to bench/report.py for the table and the verdicts.
"""

import time as time_module
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.db import connection
from django.test import Client

from bench import measure, people
from bench.pages import APPROVE_50, CSV_EXPORT, PAGES, Page
from storage.models import User
from storage.tenancy import tenant_context

EXPORT_ROWS = 300_000
LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


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
        "week_ago_day": today - timedelta(days=7),
        "range_from_day": today - timedelta(days=37),
        "range_last_day": today - timedelta(days=31),
        "range_to_day": today - timedelta(days=30),
    }
    queries = {
        "request_id": "SELECT request_id FROM lynx_drafts WHERE tenant_id = %s "
        "AND request_id LIKE 'req-%%' ORDER BY created_at DESC OFFSET 100 LIMIT 1",
        "draft_id": "SELECT draft_id::text FROM lynx_drafts WHERE tenant_id = %s "
        "AND status = 'submitted' AND draft_type = 'vpm_payment' ORDER BY created_at LIMIT 1",
        "execution_id": "SELECT execution_id::text FROM lynx_executions WHERE tenant_id = %s "
        "AND rollback_instructions IS NOT NULL ORDER BY created_at DESC OFFSET 100 LIMIT 1",
        "run_id": "SELECT run_id FROM lynx_audit_events WHERE tenant_id = %s "
        "AND event_type = 'tool_call' ORDER BY created_at DESC OFFSET 1000 LIMIT 1",
        # The day from which the export holds about EXPORT_ROWS rows (all, if fewer).
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
    # The export's `from` day is its first whole day: a day later than the oldest row.
    found["export_from_day"] += timedelta(days=1)
    found["export_from"] += timedelta(days=1)
    return found


def clients(*, tenant: people.MeasuredTenant) -> dict[str, Client]:
    """A signed-in session per role, as a browser would hold it."""
    signed_in = {}
    for role in ("reviewer", "auditor", "operator"):
        client = Client(HTTP_HOST="localhost")
        client.force_login(User.objects.get(username=tenant.username(role)), LOGIN_BACKEND)
        signed_in[role] = client
    return signed_in


def measure_page(*, page: Page, tenant, client: Client, found: dict, options: Settings) -> Row:
    url = page.portal.format(**found)
    row = Row(
        page,
        tenant,
        measure.measure_get(client=client, url=url, repeat=options.repeat, warmup=options.warmup),
    )
    if page.default:
        row.default = measure.measure_get(
            client=client,
            url=page.default.format(**found),
            repeat=options.default_repeat,
            warmup=1,
        )
    if page.floor:
        row.floor_ms = measure.floor_ms(
            statements=page.floor,
            params=found,
            tenant_id=tenant.tenant_id,
            repeat=options.floor_repeat,
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


def measure_approve(*, tenant, client: Client, options: Settings) -> list[Row]:
    """Approve 50 drafts `approve_runs` times (the first is warm-up): confirmation and decision."""
    batches = approve_pool(tenant_id=tenant.tenant_id, count=options.approve_runs + 1)
    confirm, decide = measure.Timing(), measure.Timing()
    approved = 0
    url = APPROVE_50.portal
    for number, batch in enumerate(batches):
        confirmation, decision = measure.approve(client=client, url=url, draft_ids=batch)
        if number:
            confirm.samples.append(confirmation)
            decide.samples.append(decision)
            approved += approved_count(draft_ids=batch)
    floor = measure.floor_ms(
        statements=APPROVE_50.floor,
        params={"tenant": tenant.tenant_id, "draft_ids": batches[-1]},
        tenant_id=tenant.tenant_id,
        repeat=options.floor_repeat,
    )
    confirm_page = Page("approve 50, confirmation", "reviewer", APPROVE_50.kind, url)
    return [
        Row(confirm_page, tenant, confirm),
        Row(
            APPROVE_50,
            tenant,
            decide,
            floor_ms=floor,
            notes={"approved": approved, "of": 50 * options.approve_runs},
        ),
    ]


def measure_export(*, tenant, client: Client, found: dict, options: Settings) -> Row:
    url = CSV_EXPORT.portal.format(**found)
    result = measure.export(client=client, url=url)
    floor = measure.floor_ms(
        statements=CSV_EXPORT.floor, params=found, tenant_id=tenant.tenant_id, repeat=1
    )
    timing = measure.Timing(
        [measure.Sample(result.seconds * 1e3, float("nan"), 0, 0.0, result.status)]
    )
    return Row(
        CSV_EXPORT,
        tenant,
        timing,
        floor_ms=floor,
        notes={
            "rows": result.rows,
            "rows_per_s": result.rows_per_second,
            "peak_mb": result.peak_mb,
        },
    )


def run(*, options: Settings, say=print) -> list[Row]:
    rows = []
    for tenant in people.measured_tenants():
        found = facts(tenant=tenant)
        signed_in = clients(tenant=tenant)
        for page in PAGES:
            started = time_module.monotonic()
            rows.append(
                measure_page(
                    page=page,
                    tenant=tenant,
                    client=signed_in[page.role],
                    found=found,
                    options=options,
                )
            )
            say(f"  {tenant.label}: {page.name} ({time_module.monotonic() - started:.1f} s)")
        say(f"  {tenant.label}: approve 50")
        rows += measure_approve(tenant=tenant, client=signed_in["reviewer"], options=options)
        say(f"  {tenant.label}: CSV export")
        rows.append(
            measure_export(tenant=tenant, client=signed_in["auditor"], found=found, options=options)
        )
    return rows

"""Time the big list pages and the dashboard on millions of audit events and executions.

    DATABASE_URL=postgres://postgres@/lynx_bench?host=/path/to/socket \\
        .venv/bin/python bench/list_pages.py --rows 5000000

Loads `--rows` audit events and a tenth as many executions (90% tenant `acme`,
10% `globex`, spread over 120 days) into the database of DATABASE_URL, unless it
already holds them; then requests each page as an `acme` auditor, once with
the estimated count and once forcing the exact count, and prints the median of
`--repeat` timings. Never run it against a database whose data you want to keep.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lynxportal.settings")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from storage.admin.paginator import EstimatedCountPaginator  # noqa: E402
from storage.models import AuditEvent, Tenant, User  # noqa: E402
from storage.roles import ensure_groups  # noqa: E402

PAGES = {
    "audit events": "/admin/storage/auditevent/",
    "audit events, refusals": "/admin/storage/auditevent/?event_type__exact=refusal",
    "audit events, one tool": "/admin/storage/auditevent/?tool_id=payments.submit",
    "audit events, a week": "/admin/storage/auditevent/?created_at_from={week_ago}",
    "audit events, one run": "/admin/storage/auditevent/?q=run-acme-4242",
    "executions": "/admin/storage/execution/",
    "executions, failed": "/admin/storage/execution/?status__exact=failed",
    "dashboard": "/admin/",
}
CHUNK = 1_000_000


def load(rows: int) -> None:
    """Insert what is missing, a million rows per statement, then ANALYZE."""
    have = estimated_rows("lynx_audit_events")
    with connection.cursor() as cursor:
        for start in range(have, rows, CHUNK):
            count = min(CHUNK, rows - start)
            cursor.execute(
                """
                INSERT INTO lynx_audit_events
                    (run_id, tenant_id, tool_id, event_type, status, input_data, created_at)
                SELECT 'run-' || tenant || '-' || (n / 8),
                       tenant,
                       -- n / 120, not n: independent of the day (n %% 120), so every
                       -- day has every kind of event.
                       (ARRAY['docs.publish', 'workflow.run', 'payments.submit'])
                           [1 + (n / 120) %% 3],
                       (ARRAY['run_start', 'tool_call', 'tool_call', 'tool_call', 'tool_call',
                              'tool_call', 'run_success', 'refusal'])[1 + (n / 120) %% 8],
                       (ARRAY['started', 'succeeded', 'succeeded', 'failed'])[1 + (n / 120) %% 4],
                       jsonb_build_object('n', n),
                       now() - (n %% 120) * interval '1 day' - (n %% 86400) * interval '1 second'
                FROM generate_series(%s, %s) n,
                     LATERAL (SELECT CASE WHEN n %% 10 = 0 THEN 'globex' ELSE 'acme' END) t(tenant)
                """,
                [start, start + count - 1],
            )
            print(f"  loaded {start + count:,} audit events", flush=True)
        cursor.execute("SELECT count(*) FROM lynx_drafts")
        if not cursor.fetchone()[0]:
            cursor.execute(
                "INSERT INTO lynx_drafts (tenant_id, draft_type, payload, risk_level, "
                "created_by, source_context, status) VALUES "
                "('acme', 'docs', '{}', 'high', 'bench', '{}', 'submitted'), "
                "('globex', 'docs', '{}', 'low', 'bench', '{}', 'submitted')"
            )
        executions = rows // 10
        have = estimated_rows("lynx_executions")
        for start in range(have, executions, CHUNK):
            count = min(CHUNK, executions - start)
            cursor.execute(
                """
                INSERT INTO lynx_executions
                    (draft_id, tool_id, tenant_id, actor_id, status, request_id, created_at,
                     completed_at)
                -- One tool id per row: a draft may have one succeeded execution per tool.
                SELECT d.draft_id, 'docs.publish-' || n, d.tenant_id, 'lynx-agent',
                       (ARRAY['started', 'succeeded', 'succeeded', 'failed', 'denied'])
                           [1 + (n / 120) %% 5],
                       'req-' || n, now() - (n %% 120) * interval '1 day',
                       now() - (n %% 120) * interval '1 day' + interval '3 seconds'
                FROM generate_series(%s, %s) n
                JOIN lynx_drafts d
                  ON d.tenant_id = CASE WHEN n %% 10 = 0 THEN 'globex' ELSE 'acme' END
                """,
                [start, start + count - 1],
            )
            print(f"  loaded {start + count:,} executions", flush=True)
        cursor.execute("ANALYZE lynx_audit_events; ANALYZE lynx_executions; ANALYZE lynx_drafts")


def estimated_rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE relname = %s", [table]
        )
        return cursor.fetchone()[0]


def auditor() -> User:
    ensure_groups()
    Tenant.objects.get_or_create(tenant_id="acme", defaults={"name": "Acme"})
    user, _ = User.objects.get_or_create(
        username="bench-auditor", defaults={"tenant_id": "acme", "is_staff": True}
    )
    user.groups.add(*user.groups.model.objects.filter(name="Auditors"))
    return user


def timed(client: Client, url: str, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="audit events to load")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    load(args.rows)
    client = Client(HTTP_HOST="localhost")
    client.force_login(auditor())
    week_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 7 * 86400))
    print(f"{AuditEvent._meta.db_table}: ~{estimated_rows('lynx_audit_events'):,} rows")
    print(f"{'page':28} {'estimated':>12} {'exact count':>12}")
    for name, url in PAGES.items():
        url = url.format(week_ago=week_ago)
        estimated = timed(client, url, args.repeat)
        EstimatedCountPaginator.exact_below = sys.maxsize
        exact = timed(client, url, args.repeat)
        EstimatedCountPaginator.exact_below = 10_000
        print(f"{name:28} {estimated:10.0f} ms {exact:10.0f} ms", flush=True)


if __name__ == "__main__":
    main()

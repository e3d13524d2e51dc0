"""The big audit lists at scale: counted exactly up to 10,000 rows and estimated above,
the same queries whatever their size, and read through the tenant's indexes."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from storage.models import ArchivedAuditEvent, AuditEvent
from storage.rows import list_count
from tests.conftest import make_draft, make_review
from tests.plans import as_run, assert_uses_tenant_index

pytestmark = pytest.mark.django_db


LIST_PAGES = [
    "/admin/storage/execution/",
    "/admin/storage/auditevent/",
    "/admin/storage/archivedauditevent/",
    "/admin/storage/settlementintent/",
]


@pytest.mark.parametrize("url", LIST_PAGES)
def test_list_pages_make_the_same_queries_whatever_their_size(client, viewers, url):
    """5 rows, then a full page of 50: the same number of queries."""

    def queries(rows: int) -> int:
        _load_rows("acme", rows)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    client.force_login(viewers["acme"])
    assert queries(5) == queries(45)


def test_big_lists_show_an_estimated_count(client, viewers, monkeypatch):
    from storage.admin.paginator import EstimatedCountPaginator

    _load_rows("acme", 60)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE lynx_audit_events")
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 10)
    client.force_login(viewers["acme"])
    response = client.get("/admin/storage/auditevent/")
    assert response.context["cl"].paginator.estimated
    assert 'class="result-count"><abbr' in response.text and ">about " in response.text


def test_lists_are_counted_up_to_ten_thousand_rows_and_estimated_above(client, viewers):
    """Exactly "9000", then "about N" with no count at all once the planner expects more."""
    client.force_login(viewers["acme"])
    events = AuditEvent.objects.filter(tenant_id="acme")

    def listing(total: int):
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO lynx_audit_events (run_id, tenant_id, event_type) "
                "SELECT 'bulk-' || n, 'acme', 'tool_call' FROM generate_series(1, %s) n",
                [total - AuditEvent.objects.count()],
            )
            cursor.execute("ANALYZE lynx_audit_events")
        return client.get("/admin/storage/auditevent/")

    response = listing(9_000)
    assert not response.context["cl"].paginator.estimated
    assert '<span class="result-count">9000</span>' in response.text
    assert _counted(events, exact_below=10_000) == (pytest.approx(9_000, rel=0.1), 9_000)
    response = listing(11_000)
    assert response.context["cl"].paginator.estimated
    assert ">about " in response.text
    assert _counted(events, exact_below=10_000) == (pytest.approx(11_000, rel=0.1), None)


def test_a_stale_underestimate_stops_counting_at_the_threshold(client, viewers, monkeypatch):
    """Statistics that say "few rows" must not turn into a count of every row, nor into a
    list read whole: the list is read a page at a time and says "about" past its first."""
    from storage.admin.paginator import EstimatedCountPaginator

    _load_rows("acme", 2)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE lynx_audit_events")
    _load_rows("acme", 58)  # on the same page of the table: the planner still expects 2
    events = AuditEvent.objects.filter(tenant_id="acme")
    assert _counted(events, exact_below=10) == (2, 10)
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 10)
    client.force_login(viewers["acme"])
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/admin/storage/auditevent/")
    cl = response.context["cl"]
    assert cl.paginator.estimated and len(cl.result_list) == 50
    assert (cl.result_count, cl.paginator.num_pages) == (51, 2)
    assert '<span class="result-count"><abbr' in response.text and ">about 51<" in response.text
    assert '<a href="?p=2" class="end">2</a>' in response.text
    counts = [as_run(q["sql"]) for q in captured if "portal_list_count" in q["sql"]]
    assert counts and all("LIMIT 10)" in sql for sql in counts), counts
    # Sorting the rows it counts would make PostgreSQL fetch every one of them.
    assert all("ORDER BY" not in sql.upper() for sql in counts), counts
    pages = [q["sql"] for q in captured if 'FROM "lynx_audit_events"' in q["sql"]]
    assert [sql for sql in pages if sql.endswith("LIMIT 50")], pages
    # The second page is the list's last: its ten rows settle the count.
    response = client.get("/admin/storage/auditevent/", {"p": 2})
    assert len(response.context["cl"].result_list) == 10
    assert '<span class="result-count">60</span>' in response.text


def test_a_count_the_planner_prices_high_is_estimated_and_settled_by_its_page(
    client, viewers, monkeypatch
):
    """A filter no index serves, whose matches the count would look for among all the
    tenant's rows: not counted, and the page it shows tells how many there are when the list
    ends on it (an estimate of rows the list does not hold would say "about 3" over none)."""
    from storage.admin.paginator import EstimatedCountPaginator

    _load_rows("acme", 300)
    AuditEvent.objects.bulk_create(
        AuditEvent(run_id=f"r{n}", tenant_id="acme", event_type="run_start", status="started")
        for n in range(60)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE lynx_audit_events")
    events = AuditEvent.objects.filter(tenant_id="acme", event_type="tool_call", status="failed")
    estimate, counted = _counted(events, exact_below=10_000)
    assert counted == 0 and estimate > 0  # counted, when the budget allows it
    monkeypatch.setattr(EstimatedCountPaginator, "exact_cost_below", 1.0)
    assert _counted(events, exact_below=10_000) == (estimate, None)
    client.force_login(viewers["acme"])
    filtered = {"event_type__exact": "tool_call", "status__exact": "failed"}
    response = client.get("/admin/storage/auditevent/", filtered)
    assert list(response.context["cl"].result_list) == []
    assert '<span class="result-count">0</span>' in response.text
    response = client.get("/admin/storage/auditevent/", {"event_type__exact": "run_start"})
    assert '<span class="result-count"><abbr' in response.text  # a full page: more may follow
    assert len(response.context["cl"].result_list) == 50
    response = client.get("/admin/storage/auditevent/", {"event_type__exact": "run_start", "p": 2})
    assert '<span class="result-count">60</span>' in response.text


def test_small_lists_show_an_exact_count(client, viewers):
    _load_rows("acme", 7)
    client.force_login(viewers["acme"])
    response = client.get("/admin/storage/auditevent/")
    assert not response.context["cl"].paginator.estimated
    assert response.context["cl"].result_count == 7


@pytest.mark.parametrize(
    ("url", "table"),
    [
        ("/admin/storage/execution/", "lynx_executions"),
        ("/admin/storage/auditevent/", "lynx_audit_events"),
        ("/admin/storage/archivedauditevent/", "lynx_audit_events_archive"),
        ("/admin/storage/settlementintent/", "settlement_intents"),
    ],
)
def test_the_main_list_queries_use_the_tenant_indexes(client, viewers, url, table):
    """EXPLAIN the list's own queries: its count and its page."""
    _load_rows("acme", 20)
    client.force_login(viewers["acme"])
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    statements = [
        q["sql"]
        for q in captured.captured_queries
        if f'FROM "{table}"' in q["sql"] and not q["sql"].startswith("EXPLAIN")
    ]
    assert_uses_tenant_index(statements, tenant_id="acme")


AUDIT_LISTS = [
    ("/admin/storage/auditevent/", AuditEvent),
    ("/admin/storage/archivedauditevent/", ArchivedAuditEvent),
]


@pytest.mark.parametrize(("url", "model"), AUDIT_LISTS)
@pytest.mark.parametrize("event_type", ["refusal", "run_failure"])
def test_a_rare_event_type_is_listed_and_counted_from_its_own_index(
    client, viewers, url, model, event_type
):
    """Without an index of the rare types the count read every event of the tenant."""
    table = model._meta.db_table
    _load_rows("acme", 20)
    model.objects.create(run_id="r1", tenant_id="acme", event_type=event_type)
    client.force_login(viewers["acme"])
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"event_type__exact": event_type})
    assert [event.event_type for event in response.context["cl"].result_list] == [event_type]
    assert '<span class="result-count">1</span>' in response.text
    statements = [
        as_run(q["sql"])
        for q in captured
        if f'FROM "{table}"' in q["sql"] and "EXPLAIN" not in q["sql"]
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plans = []
        for sql in statements:
            cursor.execute(f"EXPLAIN {sql}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
        cursor.execute("RESET enable_seqscan")
    count, page = (
        next(p for p in plans if "Aggregate" in p),
        next(p for p in plans if "Aggregate" not in p),
    )
    # Either of the portal's indexes holds the rare types (migrations 0020, 0035 and 0036).
    own = rf"idx_{table}_(rare_types|type_status) "
    assert re.search(f"Index Only Scan using {own}", count), count
    assert re.search(own, page), page


@pytest.mark.parametrize(("url", "model"), AUDIT_LISTS)
@pytest.mark.parametrize(
    "never",
    [
        {"event_type__exact": "run_start", "status__exact": "denied"},
        {"event_type__exact": "run_start", "tool_id": "docs.render"},
    ],
)
def test_an_event_type_with_a_status_or_tool_it_never_has_is_looked_up_not_walked(
    client, viewers, url, model, never
):
    """A run start is never "denied", nor made by a tool: without the index and statistics of
    migrations 0035 and 0036, the planner expected such events among the run starts and the
    list walked all of the tenant's events looking for them."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (run_id, tenant_id, event_type, status, tool_id) "
            "SELECT 'bulk-' || n, 'acme', (ARRAY['run_start', 'tool_call'])[1 + n % 2], "
            "(ARRAY['started', 'denied'])[1 + n % 2], "
            "(ARRAY[NULL, 'docs.render'])[1 + n % 2] FROM generate_series(1, 20000) n"
        )
        cursor.execute(f"ANALYZE {table}")
    client.force_login(viewers["acme"])
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, never)
    assert list(response.context["cl"].result_list) == []
    assert '<span class="result-count">0</span>' in response.text
    [count] = [as_run(q["sql"]) for q in captured if "portal_list_count" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {count}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"idx_{table}_type_status" in plan, plan


@pytest.mark.parametrize(
    "url", [*LIST_PAGES, "/admin/storage/draft/?status=all", "/admin/storage/draftreview/"]
)
def test_lists_sort_by_creation_time_only_and_never_count_distinct_values(
    client, tenants, make_user, url
):
    """No date drill-down, no facet counts, no sorting that would sort every row of a tenant."""
    auditor = make_user("acme-auditor", tenant=tenants["acme"], groups=("Auditors",))
    _load_rows("acme", 3)
    make_review(make_draft("acme"), auditor)
    client.force_login(auditor)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"_facets": "1"})
    sortable = re.findall(r'<div class="text"><a href="[^"]*">([^<]+)</a></div>', response.text)
    assert sortable == ["Created at"]
    assert "Show counts" not in response.text
    distinct_values = re.compile(r"SELECT DISTINCT|COUNT\([^()]*\) FILTER \(WHERE")
    assert not [q["sql"] for q in captured if distinct_values.search(q["sql"].upper())]


def _load_rows(tenant_id: str, count: int) -> None:
    """`count` more rows in each big table, by one INSERT ... SELECT each."""
    draft = make_draft(tenant_id)
    with connection.cursor() as cursor:
        for table in ("lynx_audit_events", "lynx_audit_events_archive"):
            cursor.execute(
                f"INSERT INTO {table} (run_id, tenant_id, event_type, status, tool_id) "
                "SELECT 'bulk-' || n, %s, 'tool_call', 'succeeded', 'docs.render' "
                "FROM generate_series(1, %s) n",
                [tenant_id, count],
            )
        cursor.execute(
            "INSERT INTO lynx_executions (draft_id, tool_id, tenant_id, actor_id, status) "
            "SELECT %s, 'docs.render', %s, 'lynx-agent', 'failed' FROM generate_series(1, %s)",
            [draft.pk, tenant_id, count],
        )
        cursor.execute(
            "INSERT INTO settlement_intents (payment_id, tenant_id, provider) "
            "SELECT 'bulk-' || gen_random_uuid(), %s, 'manual' FROM generate_series(1, %s)",
            [tenant_id, count],
        )


def _counted(queryset, *, exact_below: int) -> tuple[int, int | None]:
    """`list_count` with the paginator's budget, as a list counts."""
    from storage.admin.paginator import EstimatedCountPaginator

    return list_count(
        queryset=queryset,
        exact_below=exact_below,
        exact_cost_below=EstimatedCountPaginator.exact_cost_below,
    )

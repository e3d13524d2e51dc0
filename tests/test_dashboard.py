"""The dashboard on the admin index: its numbers, and the lists its links open."""

import re
from collections import Counter
from datetime import datetime, time, timedelta
from html import unescape

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from storage.models import AuditEvent, SettlementIntent
from tests.conftest import make_draft, make_execution
from tests.plans import assert_reads_through_tenant_indexes

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(tenants, make_user):
    return make_user("acme-auditor", tenant=tenants["acme"], groups=("Auditors",))


@pytest.fixture
def reviewer(tenants, make_user):
    return make_user("acme-reviewer", tenant=tenants["acme"], groups=("Reviewers",))


# Hours ago, by status, of the acme executions `activity` makes.
EXECUTION_AGES = {"failed": [1, 5], "denied": [2], "succeeded": [3], "started": [30, 50]}


@pytest.fixture
def activity(tenants):
    now = timezone.now()
    for risk, count in {"high": 2, "medium": 1, "low": 3}.items():
        for _ in range(count):
            make_draft("acme", risk_level=risk)
    make_draft("acme", risk_level="low", recommended_approvers=["acme-reviewer", "someone"])
    make_draft(
        "acme",
        risk_level="low",
        created_by="acme-reviewer",
        recommended_approvers=["acme-reviewer"],
    )
    make_draft("acme", status="approved", risk_level="high")
    make_draft("globex", risk_level="high")
    draft = make_draft("acme")
    for status, hours in EXECUTION_AGES.items():
        for age in hours:
            make_execution(draft, status=status, created_at=now - timedelta(hours=age))
    make_execution(make_draft("globex"), status="failed")
    for payment_id, status, age in [
        ("stuck", "processing", 2),
        ("fresh", "processing", 0),
        ("queued", "queued", 5),
    ]:
        SettlementIntent.objects.create(
            payment_id=payment_id,
            tenant_id="acme",
            settlement_status=status,
            provider="manual",
            updated_at=now - timedelta(hours=age),
        )
    for age in (1, 2, 10):
        AuditEvent.objects.create(
            run_id=f"refused-{age}",
            tenant_id="acme",
            event_type="refusal",
            error_message="Refused: <b>not allowed</b>",
            created_at=now - timedelta(days=age),
        )


def numbers(html: str) -> dict[str, tuple[int, str]]:
    """Every dashboard number: its label, count and link."""
    found = re.findall(r'<a href="([^"]+)" class="count">(\d+)</a> ([^<]+)</li>', html)
    return {label.strip(): (int(count), unescape(url)) for url, count, label in found}


def test_the_dashboard_numbers(client, auditor, activity):
    client.force_login(auditor)
    response = client.get("/admin/")
    shown = {label: count for label, (count, _) in numbers(response.text).items()}
    assert shown == {
        "High": 2,
        "Medium": 1,
        "Low": 3 + 3,  # with the two that list the reviewer and the one the executions ran
        "Started": 0,
        "Succeeded": 1,
        "Failed": 2,
        "Denied": 1,
        "Processing for over an hour": 1,
    }
    assert list(shown)[:3] == ["High", "Medium", "Low"]
    assert 'class="app-storage module' in response.text  # the app list stays
    refusals = response.context["dashboard"]["refusals"]
    assert [e.run_id for e in refusals] == ["refused-1", "refused-2"]
    assert 'href="/admin/storage/auditevent/run/?run_id=refused-1"' in response.text
    assert "<b>not allowed</b>" not in response.text


@pytest.mark.urls("tests.bench_urls")
def test_only_the_portal_site_shows_the_dashboard(client, auditor, activity):
    """The benchmark's yardstick is Django's own home page: the app list, no dashboard."""
    client.force_login(auditor)
    assert 'id="dashboard"' in client.get("/admin/").text
    stock = client.get("/bench-admin/")
    assert stock.status_code == 200
    assert 'class="app-storage module' in stock.text
    assert 'id="dashboard"' not in stock.text


def test_a_reviewer_sees_what_awaits_them_and_an_auditor_does_not(
    client, auditor, reviewer, activity
):
    client.force_login(reviewer)
    count, url = numbers(client.get("/admin/").text)["Awaiting me"]
    assert count == 1  # not the draft the reviewer created
    assert client.get(url).context["cl"].result_count == 1
    client.force_login(auditor)
    assert "Awaiting me" not in numbers(client.get("/admin/").text)


@pytest.mark.parametrize("who", ["auditor", "reviewer"])
def test_every_number_opens_a_list_of_exactly_that_many(client, who, request, activity):
    client.force_login(request.getfixturevalue(who))
    for label, (count, url) in numbers(client.get("/admin/").text).items():
        response = client.get(url)
        assert response.status_code == 200, (label, url)
        assert response.context["cl"].result_count == count, (label, url)


def test_failed_and_denied_numbers_are_highlighted(client, auditor, activity):
    client.force_login(auditor)
    html = client.get("/admin/").text
    alerts = re.findall(r'<li class="number alert">.*?</a> ([^<]+)</li>', html)
    assert [a.strip() for a in alerts] == [
        "High",
        "Failed",
        "Denied",
        "Processing for over an hour",
    ]


def test_the_chart_is_svg_with_text_and_links_per_day_and_status(client, auditor, activity):
    client.force_login(auditor)
    html = client.get("/admin/").text
    start = html.index('<svg id="executions-chart"')
    svg = html[start : html.index("</svg>", start)]
    assert svg.count('class="day"') == 14
    assert "<script" not in svg and "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    # The days the failures fell on (today's, or yesterday's too just after midnight).
    now = timezone.now()
    failed = Counter(timezone.localdate(now - timedelta(hours=h)) for h in EXECUTION_AGES["failed"])
    for day, count in failed.items():
        assert f"{day.isoformat()}: {count} failed" in svg
    for pattern in ("pattern-succeeded", "pattern-failed", "pattern-denied", "pattern-started"):
        assert f"url(#{pattern})" in svg
    segment = re.search(r'<a href="([^"]+)" class="segment segment-failed">', svg)
    response = client.get(unescape(segment.group(1)))
    assert response.context["cl"].result_count >= 1
    assert {e.status for e in response.context["cl"].result_list} == {"failed"}


@pytest.mark.parametrize(("who", "reads"), [("reviewer", 5), ("auditor", 4)])
def test_the_dashboard_reads_its_numbers_in_one_index_backed_statement(
    client, who, reads, request, activity
):
    """Five reads, each a subquery on one of the spec's (tenant_id, ...) indexes, in one
    statement; four for people without a queue of their own ("awaiting me" is not read)."""
    client.force_login(request.getfixturevalue(who))
    tenant_tables = ("lynx_drafts", "lynx_executions", "settlement_intents", "lynx_audit_events")
    for visit in ("cold", "warm"):  # the chart's past days read, then kept in the cache
        with CaptureQueriesContext(connection) as captured:
            client.get("/admin/")
        on_tenant_tables = [
            q["sql"] for q in captured.captured_queries if any(t in q["sql"] for t in tenant_tables)
        ]
        assert len(on_tenant_tables) == 1, visit
        (statement,) = on_tenant_tables
        assert statement.count("json_agg(q)") + statement.count("SELECT count(*)") == reads
        assert_reads_through_tenant_indexes(statement, tables=tenant_tables, tenant_id="acme")


def test_people_see_the_numbers_of_the_lists_they_may_open(client, tenants, make_user, activity):
    operator = make_user("acme-operator", tenant=tenants["acme"], groups=("Settlement operators",))
    client.force_login(operator)
    html = client.get("/admin/").text
    assert list(numbers(html)) == ["Processing for over an hour"]
    assert 'id="executions-chart"' not in html and "latest-refusals" not in html


def test_no_dashboard_without_a_tenant(client, make_user, activity):
    client.force_login(make_user("root", is_superuser=True))
    response = client.get("/admin/")
    assert 'id="dashboard"' not in response.text


def test_each_bar_says_its_total_and_each_segment_its_number(client, auditor):
    """Bars and segments carry their numbers as text, and each bar opens its day's list."""
    today = timezone.localdate()
    days = {
        today - timedelta(days=3): {"succeeded": 5, "failed": 2},
        today - timedelta(days=2): {"succeeded": 1},
    }
    for day, counts in days.items():
        draft = make_draft("acme")
        noon = timezone.make_aware(datetime.combine(day, time(12)))
        for status, count in counts.items():
            for n in range(count):
                make_execution(draft, status=status, tool_id=f"tool-{n}", created_at=noon)
    client.force_login(auditor)
    html = client.get("/admin/").text
    for day, counts in days.items():
        bar = re.search(rf'<g class="day" data-day="{day}">(.*?)</g>', html, re.S).group(1)
        url, total = re.search(r'<a href="([^"]+)"><text [^>]*>(\d+)</text></a>', bar).groups()
        assert int(total) == sum(counts.values())
        assert client.get(unescape(url)).context["cl"].result_count == int(total)
        segments = re.findall(
            r'class="segment segment-(\w+)">.*?</rect><text [^>]*>(\d+)</text>', bar
        )
        assert {status: int(number) for status, number in segments} == counts
    # The numbers behind the chart: started, succeeded, failed, denied, total.
    day = today - timedelta(days=3)
    assert f"<tr><td>{day}</td><td>0</td><td>5</td><td>2</td><td>0</td><td>7</td></tr>" in html


def test_nothing_is_marked_when_nothing_needs_attention(client, auditor):
    """Failures older than a day, and none stuck or high-risk: no number is marked."""
    make_execution(
        make_draft("acme"), status="failed", created_at=timezone.now() - timedelta(days=2)
    )
    client.force_login(auditor)
    html = client.get("/admin/").text
    assert numbers(html)["Failed"][0] == 0
    assert 'class="number alert"' not in html


def chart_totals(html: str) -> dict[str, str]:
    return dict(
        re.findall(r'<g class="day" data-day="([\d-]+)">.*?font-weight="bold">(\d+)<', html)
    )


def test_past_days_are_kept_for_a_while_and_today_is_always_read(client, auditor):
    """The chart's past days come from the cache (PAST_DAYS_CACHED_FOR); today's bar and
    the last 24 hours are counted on every visit."""
    draft = make_draft("acme")
    now = timezone.now()
    make_execution(draft, status="failed", created_at=now - timedelta(days=3))
    client.force_login(auditor)
    three_days_ago = timezone.localdate(now - timedelta(days=3)).isoformat()
    today = timezone.localdate(now).isoformat()
    assert chart_totals(client.get("/admin/").text)[three_days_ago] == "1"

    make_execution(draft, status="failed", created_at=now - timedelta(days=3))
    make_execution(draft, status="denied", created_at=now)
    html = client.get("/admin/").text
    totals = chart_totals(html)
    assert totals[three_days_ago] == "1" and totals[today] == "1"
    assert numbers(html)["Denied"][0] == 1

    cache.clear()
    assert chart_totals(client.get("/admin/").text)[three_days_ago] == "2"

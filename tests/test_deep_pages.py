"""Deep pages of the big lists: found from the index, the same rows OFFSET would give."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from storage.admin.paginator import EstimatedCountPaginator
from storage.choices import DraftStatus
from storage.models import AuditEvent, Draft
from storage.tenancy import tenant_context

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 1, tzinfo=UTC)


def load_events(count: int, *, same_moment_every: int) -> None:
    """`count` events of acme; each `same_moment_every` of them share their created_at."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO lynx_audit_events (run_id, tenant_id, event_type, created_at) "
            "SELECT 'run-' || n, 'acme', 'tool_call', %s + (n / %s) * interval '1 second' "
            "FROM generate_series(1, %s) n",
            [START, same_moment_every, count],
        )


def pages(ordering: list[str], *, seek_from: int) -> list[list]:
    events = AuditEvent.objects.filter(tenant_id="acme").order_by(*ordering)
    paginator = EstimatedCountPaginator(events, 30)
    paginator.seek_from = seek_from
    return [list(paginator.page(n).object_list) for n in paginator.page_range]


@pytest.mark.parametrize("ordering", [["-created_at", "-pk"], ["created_at", "pk"]])
@pytest.mark.parametrize("same_moment_every", [1, 7, 150])
def test_seeking_gives_the_rows_offset_gives(tenants, ordering, same_moment_every):
    """With ties at page edges, and with more ties than the seek looks at (then OFFSET)."""
    load_events(400, same_moment_every=same_moment_every)
    with tenant_context("acme"):
        by_offset = pages(ordering, seek_from=10**9)
        with CaptureQueriesContext(connection) as captured:
            by_seek = pages(ordering, seek_from=0)
    assert by_seek == by_offset
    assert sum(len(page) for page in by_seek) == 400
    seeks = [q for q in captured if q["sql"].startswith("WITH head AS")]
    assert seeks, "no page was found by seeking"


def test_a_deep_page_link_shows_its_rows(client, viewers, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "seek_from", 100)
    load_events(260, same_moment_every=3)
    client.force_login(viewers["acme"])
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/admin/storage/auditevent/", {"p": "5"})
    newest_first = AuditEvent.objects.order_by("-created_at", "-pk")
    assert list(response.context["cl"].result_list) == list(newest_first[200:250])
    assert any(q["sql"].startswith("WITH head AS") for q in captured)
    assert 'href="?p=6"' in response.text and 'class="this-page">5<' in response.text
    last = client.get("/admin/storage/auditevent/", {"p": "6"})
    assert list(last.context["cl"].result_list) == list(newest_first[250:])


def test_a_page_past_the_end_is_refused_as_django_refuses_it(client, viewers, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "seek_from", 100)
    load_events(260, same_moment_every=1)
    client.force_login(viewers["acme"])
    response = client.get("/admin/storage/auditevent/", {"p": "40"})
    assert response.status_code == 302 and "e=1" in response["Location"]


def test_events_written_within_one_second_are_spread_over_pages(tenants):
    """Guards the fixture: ties really do fall on page edges."""
    load_events(10, same_moment_every=7)
    moments = list(AuditEvent.objects.values_list("created_at", flat=True).distinct())
    assert len(moments) == 2 and max(moments) - min(moments) == timedelta(seconds=1)


@pytest.mark.parametrize("status", [DraftStatus.SUBMITTED, "all"])
def test_a_deep_page_of_drafts_shows_its_rows_with_their_review_state(
    client, reviewers, monkeypatch, status
):
    """The review lists annotate their page's rows: a deep page, found by seeking, was a list
    of rows that could not be annotated (a 500)."""
    monkeypatch.setattr(EstimatedCountPaginator, "seek_from", 100)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO lynx_drafts (tenant_id, draft_type, payload, status, risk_level, "
            "created_by, created_at, source_context) "
            "SELECT 'acme', 'docs', '{}', 'submitted', 'low', 'lynx-agent', "
            "%s + (n / 3) * interval '1 second', '{}' FROM generate_series(1, 260) n",
            [START],
        )
    client.force_login(reviewers["acme-reviewer"])
    statements = []
    for page in ("1", "5"):
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/admin/storage/draft/", {"status": status, "p": page})
        assert response.status_code == 200
        statements.append([q["sql"] for q in captured])
    shown = response.context["cl"].result_list
    ordering = ("created_at", "-pk") if status == DraftStatus.SUBMITTED else ("-created_at", "-pk")
    assert [d.pk for d in shown] == list(
        Draft.objects.order_by(*ordering)[200:250].values_list("pk", flat=True)
    )
    assert {d.review_state.round for d in shown} == {1}
    # A deep page costs what the first does, and its seek.
    first, deep = statements
    seeks = [sql for sql in deep if sql.startswith("WITH head AS")]
    assert len(seeks) == 1 and len(deep) == len(first) + 1

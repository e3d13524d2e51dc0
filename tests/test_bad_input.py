"""The inputs that once answered 500, each now refused with a message (or a 400) at its root."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from storage.models import AuditEvent, Draft, Execution
from tests.conftest import make_draft, make_execution
from tests.test_review_admin import messages_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("answer", [{}, {"post": "yes", "reason": "r"}], ids=["ask", "confirm"])
@pytest.mark.parametrize("action", ["approve_selected", "reject_selected"])
def test_a_non_uuid_id_in_a_bulk_action_is_a_message(as_reviewer, action, answer):
    draft = make_draft("acme")
    response = as_reviewer.post(
        "/admin/storage/draft/",
        {"action": action, "_selected_action": ["not-a-uuid"], **answer},
        follow=True,
    )
    assert response.status_code == 200
    assert messages_of(response) == [
        "The selection holds something that is not a draft id; nothing was done."
    ]
    assert Draft.objects.get(pk=draft.pk).status == "submitted"


@pytest.mark.parametrize(
    "data",
    [
        {"action": "approve_selected", "_selected_action": "a\x00b"},
        {"action": "approve_selected\x00", "_selected_action": "x"},
        {"reason\x00": "x"},
    ],
    ids=["value", "action", "name"],
)
def test_a_nul_character_in_a_posted_form_is_a_clear_400(as_reviewer, data):
    response = as_reviewer.post("/admin/storage/draft/", data)
    assert (response.status_code, response.text) == (
        400,
        "The request contains a NUL character.",
    )


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("created_at_from=2026-01-01T20:00:00%2B16:00", True),  # 04:00 UTC
        ("created_at_to=2026-01-01T00:00:00-23:59", True),  # 2026-01-01 23:59 UTC
        ("created_at_from=2026-01-02T08:00:00%2B23:59", False),  # 2026-01-01 08:01 UTC
    ],
)
def test_a_utc_offset_postgresql_refuses_is_read_in_utc(client, viewers, query, shown):
    """Python takes offsets up to ±23:59, PostgreSQL only ±15:59: the bound goes in UTC."""
    execution = make_execution(make_draft("acme"))
    Execution.objects.filter(pk=execution.pk).update(
        created_at=datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    )
    client.force_login(viewers["acme"])
    response = client.get(f"/admin/storage/execution/?{query}")
    assert response.status_code == 200
    assert messages_of(response) == []
    assert [e.pk for e in response.context["cl"].result_list] == ([execution.pk] if shown else [])


@pytest.mark.parametrize(
    "query",
    ["created_at_from=0001-01-01T00:00:00%2B01:00", "created_at_to=9999-12-31T23:59:59-10:00"],
)
def test_a_moment_outside_the_years_postgresql_holds_is_a_message(client, viewers, query):
    client.force_login(viewers["acme"])
    response = client.get(f"/admin/storage/execution/?{query}")
    assert response.status_code == 200
    assert "is not a date" in " ".join(messages_of(response))


@pytest.mark.parametrize(
    "query",
    [
        "created_at__gte=2024-01-01T00:00:00%2B16:00",
        "created_at__gte=2024-01-01",
        "tool_id__regex=(",
        "status__in=a,b",
        "payload__title=x",
    ],
)
def test_raw_lookups_beyond_the_lists_filters_are_refused_with_a_message(client, viewers, query):
    """Only the filters a list offers are applied: a raw ORM lookup never reaches PostgreSQL."""
    client.force_login(viewers["acme"])
    model = "draft" if query.startswith("payload") else "execution"
    response = client.get(f"/admin/storage/{model}/?{query}", follow=True)
    assert response.status_code == 200
    assert "Those filters are not valid" in response.text


@pytest.mark.parametrize("value", ["9" * 5000, "9" * 30, "-1", "+1", "١"])
def test_a_reviewer_filter_out_of_range_shows_nothing(client, viewers, value):
    client.force_login(viewers["acme"])
    response = client.get("/admin/storage/draftreview/", {"reviewer": value})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


@pytest.mark.parametrize("run_id", ["line\nbreak", "tab\there", "sl/ash?&#", " ", "\r"])
def test_any_run_id_links_to_its_timeline(client, viewers, run_id):
    """Lynx AI may write any text as a run id: the list, the dashboard and the timeline work."""
    AuditEvent.objects.create(run_id=run_id, tenant_id="acme", event_type="refusal")
    client.force_login(viewers["acme"])
    for url in ("/admin/", "/admin/storage/auditevent/"):
        assert client.get(url).status_code == 200, url
    response = client.get("/admin/storage/auditevent/run/", {"run_id": run_id})
    assert response.status_code == 200
    assert response.context["timeline"].run_id == run_id
    assert client.get("/admin/storage/auditevent/run/", {"run_id": "nope"}).status_code == 404
    assert client.get("/admin/storage/auditevent/run/").status_code == 404


@pytest.mark.parametrize("url", ["/admin/r/1/0/", "/admin/r/2/x/", "/admin/r/999/1/"])
def test_the_view_on_site_shortcut_is_not_found(client, viewers, url):
    client.force_login(viewers["acme"])
    assert client.get(url).status_code == 404


def test_an_empty_to_field_on_an_object_page_is_the_primary_key(client, viewers):
    draft = make_draft("acme")
    client.force_login(viewers["acme"])
    response = client.get(f"/admin/storage/draft/{draft.pk}/change/", {"_to_field": ""})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("page", "to_field"),
    [
        ("draft", "executions"),
        ("user", "draft_reviews"),
        ("user", "+"),
        ("user_delete", "+"),
        ("group", "user"),
    ],
)
def test_a_to_field_naming_a_relation_is_refused(client, viewers, make_user, page, to_field):
    """`?_to_field=` naming a relation that points at the table (a draft's executions, a
    hidden "+") is no column to refer by: refused (400) as an unknown one is, where Django
    read a `primary_key` such a relation does not have (a 500)."""
    root = make_user("root", is_superuser=True)
    urls = {
        "draft": f"/admin/storage/draft/{make_draft('acme').pk}/change/",
        "user": f"/admin/storage/user/{root.pk}/change/",
        "user_delete": f"/admin/storage/user/{root.pk}/delete/",
        "group": f"/admin/auth/group/{Group.objects.create(name='clerks').pk}/change/",
    }
    client.force_login(viewers["acme"] if page == "draft" else root)
    assert client.get(urls[page], {"_to_field": "no_such_column"}).status_code == 400
    assert client.get(urls[page], {"_to_field": to_field}).status_code == 400
    assert client.get(urls[page]).status_code == 200


@pytest.mark.parametrize("url", ["/admin/storage/user/", "/admin/auth/group/"])
def test_a_malformed_id_in_any_lists_action_is_a_message(client, make_user, url):
    client.force_login(make_user("root", is_superuser=True))
    response = client.post(
        url,
        {"action": "delete_selected", "_selected_action": ["B¤k", "9" * 30], "index": "0"},
        follow=True,
    )
    assert response.status_code == 200
    assert "nothing was done" in " ".join(messages_of(response))


@pytest.mark.parametrize(
    ("order", "oldest_first"),
    [
        ("", False),
        ("event_type", False),
        ("-event_type.tool_id", False),
        ("x", False),
        ("99", False),
        ("²", False),  # a digit int() cannot read: a 500 once
        ("-created_at.¹", False),
        ("9" * 5000, False),  # more digits than int() reads: a 500 once
        ("event_type.created_at", True),
    ],
)
def test_lists_sort_only_by_the_columns_they_offer(client, viewers, order, oldest_first):
    """`?o=<the event type's column>` sorted the whole audit table by it (3.4 s for the
    largest tenant), and `?o=x` by the key: both now leave the list newest first; the
    creation time still sorts. A superscript digit (`?o=²`) is no column's index either."""
    for age, event_type in enumerate(["tool_call", "refusal", "run_start", "tool_call"]):
        AuditEvent.objects.create(
            run_id=f"run-{age}",
            tenant_id="acme",
            event_type=event_type,
            created_at=datetime(2026, 1, 10 - age, tzinfo=UTC),
        )
    client.force_login(viewers["acme"])
    columns = client.get("/admin/storage/auditevent/").context["cl"].list_display
    for name in ("event_type", "tool_id", "created_at"):
        order = order.replace(name, str(columns.index(name)))
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/admin/storage/auditevent/", {"o": order} if order else {})
    assert response.status_code == 200
    shown = [event.run_id for event in response.context["cl"].result_list]
    newest_first = ["run-0", "run-1", "run-2", "run-3"]
    assert shown == (newest_first[::-1] if oldest_first else newest_first)
    page = next(q["sql"] for q in captured if q["sql"].startswith('SELECT "lynx_audit_events"'))
    assert page.split("ORDER BY")[1].strip().startswith('"lynx_audit_events"."created_at"')

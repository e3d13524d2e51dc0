"""Executions, audit events and run timelines as auditors see them: lists, details, bad input."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from storage.audit import selectors as audit_selectors
from storage.choices import EventType, ExecutionStatus
from storage.models import ArchivedAuditEvent, AuditEvent, Execution, SettlementIntent
from tests.conftest import make_draft, make_execution

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('pwned')</script>"


@pytest.fixture
def acme_run(tenants):
    """One run of acme: a draft, two executions, four events (one archived), a hostile payload."""
    start = timezone.now() - timedelta(hours=2)
    draft = make_draft("acme", request_id="req-1")
    failed = make_execution(
        draft,
        status=ExecutionStatus.FAILED,
        request_id="req-1",
        error_message=SCRIPT,
        result_payload={"html": SCRIPT},
        source_context={"run_id": "run-1"},
        rollback_instructions={"undo": "refund <b>all</b>"},
        completed_at=start + timedelta(seconds=3),
    )
    succeeded = make_execution(draft, status=ExecutionStatus.SUCCEEDED, tool_id="docs.render")
    events = [
        (AuditEvent, EventType.RUN_START, 0, {"request_id": "req-1", "draft_id": str(draft.pk)}),
        (ArchivedAuditEvent, EventType.TOOL_CALL, 2, {"prompt": SCRIPT}),
        (AuditEvent, EventType.TOOL_CALL, 5, {"execution_id": str(succeeded.pk)}),
        (AuditEvent, EventType.RUN_FAILURE, 65, None),
    ]
    for model, event_type, seconds, data in events:
        model.objects.create(
            run_id="run-1",
            tenant_id="acme",
            event_type=event_type,
            input_data=data,
            created_at=start + timedelta(seconds=seconds),
        )
    return {"draft": draft, "failed": failed, "succeeded": succeeded}


def test_execution_detail_escapes_payloads_and_links_to_its_run(client, viewers, acme_run):
    client.force_login(viewers["acme"])
    response = client.get(f"/admin/storage/execution/{acme_run['failed'].pk}/change/")
    assert response.status_code == 200
    assert SCRIPT not in response.text
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in response.text
    assert '<pre class="json">{\n  &quot;html&quot;' in response.text
    assert "&quot;undo&quot;: &quot;refund &lt;b&gt;all&lt;/b&gt;&quot;" in response.text
    error = '<div class="readonly">&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;</div>'
    assert error in response.text
    assert 'href="/admin/storage/auditevent/run/?run_id=run-1"' in response.text
    assert f'href="/admin/storage/draft/{acme_run["draft"].pk}/change/"' in response.text


def test_the_execution_page_links_its_runs_whether_live_or_archived(client, viewers, acme_run):
    """Its run (source_context) and its request's run (the request id), found among live and
    archived events alike, each linked once."""
    ArchivedAuditEvent.objects.create(run_id="req-1", tenant_id="acme", event_type="run_start")
    AuditEvent.objects.create(run_id="req-1", tenant_id="acme", event_type="run_success")
    AuditEvent.objects.create(run_id="req-1", tenant_id="globex", event_type="run_start")
    client.force_login(viewers["acme"])
    html = client.get(f"/admin/storage/execution/{acme_run['failed'].pk}/change/").text
    runs = re.findall(r'href="/admin/storage/auditevent/run/\?run_id=([^"]+)"', html)
    assert runs == ["req-1", "run-1"]


def test_the_execution_page_links_no_run_for_a_run_id_that_is_not_text(client, viewers):
    """A `source_context.run_id` of another JSON type names no run, even when its text would
    (as `source_context.get("run_id")` of a string, in Python, never did); another tenant's run
    of the same request id is not linked either."""
    draft = make_draft("acme")
    execution = make_execution(draft, request_id="req-9", source_context={"run_id": 7})
    for run_id, tenant_id in (("7", "acme"), ("req-9", "globex")):
        AuditEvent.objects.create(run_id=run_id, tenant_id=tenant_id, event_type="run_start")
    client.force_login(viewers["acme"])
    html = client.get(f"/admin/storage/execution/{execution.pk}/change/").text
    assert "run_id=" not in html
    assert "no audit events recorded" in html


def test_run_timeline_orders_live_and_archived_events_and_links_executions(
    client, viewers, acme_run
):
    client.force_login(viewers["acme"])
    response = client.get("/admin/storage/auditevent/run/?run_id=run-1")
    assert response.status_code == 200
    timeline = response.context["timeline"]
    assert [s.event.event_type for s in timeline.steps] == [
        "run_start",
        "tool_call",
        "tool_call",
        "run_failure",
    ]
    assert [s.archived for s in timeline.steps] == [False, True, False, False]
    assert [s.since_previous for s in timeline.steps] == [
        None,
        timedelta(seconds=2),
        timedelta(seconds=3),
        timedelta(seconds=60),
    ]
    assert timeline.duration == timedelta(seconds=65)
    assert "1 min 5 s" in response.text
    # Linked by request id, draft id and execution id alike.
    assert {e.pk for e in timeline.executions} == {acme_run["failed"].pk, acme_run["succeeded"].pk}
    assert f"/admin/storage/execution/{acme_run['succeeded'].pk}/change/" in response.text
    assert SCRIPT not in response.text
    assert response.text.count("<details") == 8
    assert response.text.count("<em>(archived)</em>") == 1


def test_a_run_shows_the_executions_of_the_drafts_it_names_and_its_errors_as_text(client, viewers):
    draft = make_draft("acme")
    execution = make_execution(draft, tool_id="vpm.pay")
    make_execution(make_draft("acme"), tool_id="vpm.pay")  # not named by the run
    AuditEvent.objects.create(
        run_id="run-2",
        tenant_id="acme",
        event_type=EventType.RUN_FAILURE,
        input_data={"draft_id": str(draft.pk)},
        error_message=SCRIPT,
    )
    client.force_login(viewers["acme"])
    response = client.get("/admin/storage/auditevent/run/", {"run_id": "run-2"})
    assert [e.pk for e in response.context["timeline"].executions] == [execution.pk]
    assert SCRIPT not in response.text
    assert '<pre class="error">&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;</pre>' in (
        response.text
    )


def test_a_long_run_shows_its_first_events_and_says_so(client, viewers, acme_run, monkeypatch):
    monkeypatch.setattr(audit_selectors, "TIMELINE_MOST", 2)
    client.force_login(viewers["acme"])
    response = client.get("/admin/storage/auditevent/run/?run_id=run-1")
    assert [s.event.event_type for s in response.context["timeline"].steps] == [
        "run_start",
        "tool_call",
    ]
    assert 'id="run-truncated"' in response.text


@pytest.mark.parametrize("model", [AuditEvent, ArchivedAuditEvent])
def test_event_details_escape_their_data_and_link_to_the_run(client, viewers, acme_run, model):
    event = model.objects.get(run_id="run-1", event_type="tool_call")
    client.force_login(viewers["acme"])
    response = client.get(f"/admin/storage/{model._meta.model_name}/{event.pk}/change/")
    assert response.status_code == 200
    assert SCRIPT not in response.text
    assert 'href="/admin/storage/auditevent/run/?run_id=run-1"' in response.text


def test_another_tenants_run_and_rows_are_404(client, viewers, acme_run):
    client.force_login(viewers["globex"])
    assert client.get("/admin/storage/auditevent/run/?run_id=run-1").status_code == 404
    assert (
        client.get(f"/admin/storage/execution/{acme_run['failed'].pk}/change/").status_code == 404
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("/admin/storage/execution/?q={failed}", {"failed"}),
        ("/admin/storage/execution/?q={draft}", {"failed", "succeeded"}),
        ("/admin/storage/execution/?q=req-1", {"failed"}),
        ("/admin/storage/execution/?q=not-a-uuid", set()),
        ("/admin/storage/execution/?status__exact=failed", {"failed"}),
        ("/admin/storage/execution/?tool_id=docs.render", {"succeeded"}),
        ("/admin/storage/execution/?status__exact=bogus", set()),
        ("/admin/storage/execution/?created_at_from=2000-01-01", {"failed", "succeeded"}),
        ("/admin/storage/execution/?created_at_to=2000-01-01", set()),
    ],
)
def test_execution_search_and_filters(client, viewers, acme_run, url, shown):
    client.force_login(viewers["acme"])
    ids = {name: str(acme_run[name].pk) for name in ("failed", "succeeded", "draft")}
    response = client.get(url.format(**ids))
    assert response.status_code == 200
    found = {obj.pk for obj in response.context["cl"].result_list}
    assert found == {acme_run[name].pk for name in shown}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/admin/storage/auditevent/?created_at_from=yesterday", "“yesterday” is not a date"),
        ("/admin/storage/execution/?created_at_to=2026-13-45", "“2026-13-45” is not a date"),
        ("/admin/storage/auditevent/?q=%27%3B+drop", None),
        ("/admin/storage/archivedauditevent/?q=nope", None),
        ("/admin/storage/settlementintent/?updated_at_from=99999-01-01", "is not a date"),
    ],
)
def test_bad_input_gives_a_message_or_an_empty_list_never_a_500(client, viewers, url, message):
    client.force_login(viewers["acme"])
    response = client.get(url)
    assert response.status_code == 200
    if message:
        assert message in response.text


@pytest.mark.parametrize(
    "url",
    [
        "/admin/storage/execution/not-a-uuid/change/",
        "/admin/storage/auditevent/12345/change/",
        "/admin/storage/archivedauditevent/x/change/",
        "/admin/storage/auditevent/run/?run_id=no-such-run",
    ],
)
def test_malformed_or_unknown_ids_in_urls_are_404(client, viewers, url):
    client.force_login(viewers["acme"])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "query", ["no_such_field=1", "created_at__gte=garbage", "execution_id=x", "p=99"]
)
def test_unknown_filter_parameters_are_not_a_500(client, viewers, query):
    client.force_login(viewers["acme"])
    response = client.get(f"/admin/storage/execution/?{query}", follow=True)
    assert response.status_code == 200
    if response.redirect_chain:
        assert "Those filters are not valid" in response.text


@pytest.mark.parametrize(
    ("url", "whole", "part"),
    [
        ("/admin/storage/execution/", "req-1", "req"),
        ("/admin/storage/auditevent/", "run-1", "run"),
        ("/admin/storage/archivedauditevent/", "run-1", "run-"),
        ("/admin/storage/settlementintent/", "pay-1", "pay"),
    ],
)
def test_search_never_matches_part_of_an_id(client, viewers, acme_run, url, whole, part):
    SettlementIntent.objects.create(payment_id="pay-1", tenant_id="acme")
    client.force_login(viewers["acme"])
    assert client.get(url, {"q": whole}).context["cl"].result_list
    assert not client.get(url, {"q": part}).context["cl"].result_list


@pytest.mark.parametrize(
    ("url", "titles"),
    [
        ("/admin/storage/execution/", ["status", "tool id", "created at"]),
        ("/admin/storage/auditevent/", ["event type", "status", "tool id", "created at"]),
        ("/admin/storage/archivedauditevent/", ["event type", "status", "tool id", "created at"]),
    ],
)
def test_the_lists_offer_the_filters_the_guide_names(client, viewers, url, titles):
    client.force_login(viewers["acme"])
    assert re.findall(r'data-filter-title="([^"]+)"', client.get(url).text) == titles


def test_audit_event_search_by_run_and_event_id(client, viewers, acme_run):
    client.force_login(viewers["acme"])
    by_run = client.get("/admin/storage/auditevent/?q=run-1").context["cl"].result_list
    assert len(by_run) == 3
    event = by_run[0]
    by_id = client.get(f"/admin/storage/auditevent/?q={event.pk}").context["cl"].result_list
    assert [e.pk for e in by_id] == [event.pk]


def test_executions_cannot_be_changed_through_the_admin(client, make_user, tenants, acme_run):
    root = make_user("acme-root", tenant=tenants["acme"], is_superuser=True)
    client.force_login(root)
    url = f"/admin/storage/execution/{acme_run['failed'].pk}/change/"
    assert client.post(url, {"status": "succeeded"}).status_code == 403
    assert (
        client.get(f"/admin/storage/execution/{acme_run['failed'].pk}/delete/").status_code == 403
    )
    assert Execution.objects.get(pk=acme_run["failed"].pk).status == "failed"


def test_an_event_without_run_id_breaks_no_page(client, viewers, tenants):
    """The spec allows run_id = ''; such an event has no timeline, and no page fails on it."""
    event = AuditEvent.objects.create(run_id="", tenant_id="acme", event_type="refusal")
    client.force_login(viewers["acme"])
    for url in (
        "/admin/",
        "/admin/storage/auditevent/",
        f"/admin/storage/auditevent/{event.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "(no run id)" in client.get("/admin/storage/auditevent/").text

"""Approve exactly what you saw: fingerprints on the confirmation page; changes after approval."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from storage.choices import Decision, DraftStatus, DraftType, RiskLevel
from storage.models import Draft, DraftReview
from storage.moments import format_moment
from storage.review import services
from tests.conftest import fingerprint_of, make_draft, make_review
from tests.pages import messages_of

pytestmark = pytest.mark.django_db

QUEUE = "/admin/storage/draft/"
PAYLOAD = {"amount": "1250.00", "currency": "EUR", "payee": {"name": "Initech GmbH"}}


def lynx_changes(draft: Draft, **payload) -> None:
    """What Lynx AI may do at any moment: rewrite the draft's payload."""
    Draft.objects.filter(pk=draft.pk).update(payload=draft.payload | payload)


def ask(client, drafts, decision="approve"):
    """The queue's action menu: the confirmation page."""
    data = {"action": f"{decision}_selected", "_selected_action": [str(d.pk) for d in drafts]}
    return client.post(QUEUE, data)


def answer(client, page, **extra):
    """Press the confirmation page's button: post back exactly its hidden fields."""
    fields = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text)
    data = {}
    for name, value in fields:
        data.setdefault(name, []).append(unescape(value))
    return client.post(QUEUE, data | extra)


@pytest.fixture
def as_reviewer(client, reviewers):
    client.force_login(reviewers["acme-reviewer"])
    return client


def test_the_confirmation_page_carries_the_fingerprint_of_what_it_shows(as_reviewer):
    draft = make_draft("acme", draft_type=DraftType.VPM_PAYMENT, payload=PAYLOAD)
    page = ask(as_reviewer, [draft])
    assert f'name="_seen" value="{fingerprint_of(draft)}"' in page.text
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint_of(draft))
    response = answer(as_reviewer, page, reason="ok")
    assert response.status_code == 302
    review = DraftReview.objects.get()
    assert review.fingerprint == fingerprint_of(draft)
    assert (review.payload, review.source_context) == (draft.payload, draft.source_context)


def test_a_change_of_the_source_context_alone_is_a_change_too(as_reviewer):
    draft = make_draft("acme")
    page = ask(as_reviewer, [draft])
    Draft.objects.filter(pk=draft.pk).update(source_context={"channel": "rewritten"})
    response = answer(as_reviewer, page, reason="ok")
    assert messages_of(response) == [f"{draft}: this draft changed while you were reviewing it."]
    assert Draft.objects.get(pk=draft.pk).status == DraftStatus.SUBMITTED


def test_a_draft_that_changed_since_the_page_is_not_decided_and_is_shown_again(as_reviewer):
    changed = make_draft("acme", draft_type=DraftType.VPM_PAYMENT, payload=PAYLOAD)
    steady = make_draft("acme")
    page = ask(as_reviewer, [changed, steady])
    lynx_changes(changed, amount="9250.00")
    response = answer(as_reviewer, page, reason="checked")
    assert response.status_code == 200
    assert response.templates[0].name == "admin/storage/action_confirmation.html"
    assert set(messages_of(response)) == {
        f"{changed}: this draft changed while you were reviewing it.",
        f"{steady}: approved.",
    }
    assert [o.draft.pk for o, _ in response.context["rows"]] == [changed.pk]
    assert "9,250.00 EUR" in response.text  # shown as it is now
    assert response.context["form"]["reason"].value() == "checked"  # their words stay
    assert Draft.objects.get(pk=changed.pk).status == DraftStatus.SUBMITTED
    assert Draft.objects.get(pk=steady.pk).status == DraftStatus.APPROVED
    answer(as_reviewer, response, reason="checked again")
    assert Draft.objects.get(pk=changed.pk).status == DraftStatus.APPROVED
    assert DraftReview.objects.get(draft_id=changed.pk).payload["amount"] == "9250.00"


def test_a_confirmation_without_fingerprints_decides_nothing(as_reviewer):
    draft = make_draft("acme")
    response = as_reviewer.post(
        QUEUE, {"action": "approve_selected", "_selected_action": draft.pk, "post": "yes"}
    )
    assert messages_of(response) == [f"{draft}: this draft changed while you were reviewing it."]
    assert not DraftReview.objects.exists()


def test_the_service_refuses_a_stale_fingerprint_and_records_nothing(reviewers):
    draft = make_draft("acme")
    [outcome] = services.decide_drafts(
        user=reviewers["acme-reviewer"],
        draft_ids=[draft.pk],
        decision=Decision.APPROVE,
        seen={str(draft.pk): "0" * 64},
    )
    assert (outcome.stale, outcome.effect) == (
        True,
        "skipped: this draft changed while you were reviewing it",
    )
    assert not DraftReview.objects.exists()


def test_the_trail_keeps_the_content_exactly_as_the_database_has_it(reviewers):
    """1.50 stays 1.50: the snapshot is copied by PostgreSQL, not re-encoded by Python."""
    draft = make_draft("acme")
    set_payload(draft, '{"amount": 1.50, "n": 1e2}')
    services.decide_drafts(
        user=reviewers["acme-reviewer"], draft_ids=[draft.pk], decision=Decision.APPROVE
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.payload::text, r.payload::text = d.payload::text FROM lynx_draft_reviews r "
            "JOIN lynx_drafts d USING (draft_id)"
        )
        assert cursor.fetchone() == ('{"n": 100, "amount": 1.50}', True)
    assert DraftReview.objects.get().fingerprint == fingerprint_of(draft)
    assert not changed_list(reviewers)


def changed_list(reviewers) -> list:
    """What the queue's "Changed after approval" filter lists, to an auditor."""
    client = Client()
    client.force_login(reviewers["acme-auditor"])
    response = client.get(QUEUE, {"changed": "after_approval"})
    return [d.pk for d in response.context["cl"].result_list]


def test_a_draft_changed_after_approval_says_so_and_shows_what_changed(client, reviewers):
    draft = make_draft(
        "acme",
        draft_type=DraftType.VPM_PAYMENT,
        payload=PAYLOAD | {"payee": {"name": "Initech GmbH", "iban": "DE89370400440532013000"}},
    )
    make_draft("acme")  # approved and unchanged below: not listed
    services.decide_drafts(
        user=reviewers["acme-reviewer"], draft_ids=[draft.pk], decision=Decision.APPROVE
    )
    assert changed_list(reviewers) == []
    payee = {"name": "Initech GmbH", "iban": "GB29NWBK60161331926819"}
    Draft.objects.filter(pk=draft.pk).update(payload=PAYLOAD | {"payee": payee, "memo": "<b>"})
    assert changed_list(reviewers) == [draft.pk]

    client.force_login(reviewers["acme-auditor"])  # auditors see it too
    html = client.get(f"{QUEUE}{draft.pk}/change/").text
    approval = DraftReview.objects.get()
    assert (
        f"⚠ Changed after approval by acme-reviewer at {format_moment(approval.created_at)}" in html
    )
    rows = re.findall(
        r'<tr class="change-(\w+)"><td><code>([^<]+)</code></td><td>\w+</td>'
        r"<td><code>([^<]*)</code></td><td><code>([^<]*)</code></td></tr>",
        html,
    )
    assert [tuple(map(unescape, row)) for row in rows] == [
        ("added", "payload.memo", "(none)", '"<b>"'),
        ("changed", "payload.payee.iban", '"DE89370400440532013000"', '"GB29NWBK60161331926819"'),
    ]
    queue = client.get(QUEUE, {"status": "all"}).text
    assert "⚠ changed after approval" in queue


def test_the_changed_after_approval_filter_compares_with_the_newest_approval_exactly(reviewers):
    reviewer, later = reviewers["acme-reviewer"], timezone.now() + timedelta(seconds=1)
    drafts = {name: make_draft("acme") for name in ("kept", "rewritten", "context", "never")}
    drafts |= {name: make_draft("acme", payload={"n": 1}) for name in ("again", "rejected")}
    drafts["number"] = make_draft("acme")
    set_payload(drafts["number"], '{"amount": 1.50}')
    services.decide_drafts(
        user=reviewer, draft_ids=[d.pk for d in drafts.values()], decision="approve"
    )
    set_payload(drafts["number"], '{"amount": 1.5}')  # the same number, written otherwise
    set_payload(drafts["rewritten"], '{"title": "Quarterly report"}')  # the same text again
    Draft.objects.filter(pk=drafts["context"].pk).update(source_context={"channel": "other"})
    for name in ("never", "again", "rejected"):
        lynx_changes(drafts[name], n=2)
    DraftReview.objects.filter(draft_id=drafts["never"].pk).delete()
    again = Draft.objects.get(pk=drafts["again"].pk)
    make_review(again, reviewer, round=2, created_at=later)  # approved again as it is now
    rejected = Draft.objects.get(pk=drafts["rejected"].pk)
    make_review(rejected, reviewer, decision="reject", reason="no", round=2, created_at=later)
    other_tenant = make_draft("globex")
    make_review(other_tenant, reviewers["globex-reviewer"])
    lynx_changes(other_tenant, title="rewritten")

    expected = {drafts[name].pk for name in ("number", "context", "rejected")}
    assert set(changed_list(reviewers)) == expected
    client = Client()
    client.force_login(reviewers["acme-auditor"])
    queue = client.get(QUEUE, {"status": "all"}).context["cl"].result_list
    assert {d.pk for d in queue if d.review_state.changed_since_approval} == expected


def set_payload(draft: Draft, text: str) -> None:
    """Lynx AI writing the payload as this JSON text, as PostgreSQL keeps it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE lynx_drafts SET payload = %s::jsonb WHERE draft_id = %s", [text, draft.pk]
        )


def test_the_changed_after_approval_filter_costs_a_constant_number_of_queries(client, reviewers):
    client.force_login(reviewers["acme-auditor"])

    def queries_for(drafts: int) -> int:
        for _ in range(drafts):
            draft = make_draft("acme", risk_level=RiskLevel.LOW)
            make_review(draft, reviewers["acme-reviewer"])
            lynx_changes(draft, title="rewritten")
        with CaptureQueriesContext(connection) as captured:
            response = client.get(QUEUE, {"changed": "after_approval"})
        assert len(response.context["cl"].result_list) == Draft.objects.count()
        return len(captured)

    assert queries_for(2) == queries_for(12)

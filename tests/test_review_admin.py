"""The review queue and the draft page, as a reviewer's browser sees them (deciding:
tests/test_decision_pages.py)."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from storage.choices import DraftStatus, DraftType, RiskLevel
from storage.models import ApprovalRule, Draft
from tests.conftest import make_draft, make_execution, make_review
from tests.pages import messages_of, shown

pytestmark = pytest.mark.django_db

QUEUE = "/admin/storage/draft/"
TRAIL = "/admin/storage/draftreview/"


def aged(draft: Draft, days: int) -> Draft:
    Draft.objects.filter(pk=draft.pk).update(created_at=timezone.now() - timedelta(days=days))
    return Draft.objects.get(pk=draft.pk)


def test_reviewers_land_on_submitted_drafts_oldest_first(as_reviewer):
    newer, older = make_draft("acme"), aged(make_draft("acme"), 3)
    make_draft("acme", status=DraftStatus.APPROVED)
    make_draft("globex")
    assert shown(as_reviewer.get(QUEUE)) == [older.pk, newer.pk]
    assert len(shown(as_reviewer.get(QUEUE + "?status=all"))) == 3
    assert shown(as_reviewer.get(QUEUE + "?status=bogus")) == []


def test_auditors_land_on_every_status_newest_first(client, reviewers):
    older, newer = aged(make_draft("acme"), 3), make_draft("acme", status=DraftStatus.APPROVED)
    client.force_login(reviewers["acme-auditor"])
    assert shown(client.get(QUEUE)) == [newer.pk, older.pk]


def test_the_queue_shows_labelled_badges_and_who_approved_so_far(as_reviewer, reviewers):
    draft = make_draft(
        "acme", risk_level=RiskLevel.HIGH, recommended_approvers=["acme-reviewer", "cfo"]
    )
    make_review(draft, reviewers["acme-reviewer2"])
    html = as_reviewer.get(QUEUE).text
    assert '<span class="badge badge-status-submitted">Submitted</span>' in html
    assert '<span class="badge badge-risk-high">High</span>' in html
    assert (
        '<td class="field-approvals"><div class="approvals-count">1/2: acme-reviewer2</div>'
        '<div class="approvals-rule">Default for high risk</div></td>'
    ) in html


def test_awaiting_me_lists_what_waits_for_my_decision(as_reviewer, reviewers):
    mine = make_draft("acme", recommended_approvers=["acme-reviewer"])
    by_email = make_draft("acme", recommended_approvers=["rev@acme.test"])
    make_draft("acme", recommended_approvers=["someone-else"])
    make_draft("acme", recommended_approvers=["acme-reviewer"], created_by="ACME-reviewer")
    make_draft("acme", recommended_approvers=["acme-reviewer"], status=DraftStatus.APPROVED)
    approved = make_draft("acme", recommended_approvers=["acme-reviewer"], risk_level="high")
    make_review(approved, reviewers["acme-reviewer"])
    make_draft("globex", recommended_approvers=["acme-reviewer"])
    response = as_reviewer.get(QUEUE + "?awaiting=me&status=all")
    assert set(shown(response)) == {mine.pk, by_email.pk}


def test_the_created_date_range_includes_both_days(as_reviewer):
    today = timezone.localdate()
    old, recent = aged(make_draft("acme"), 10), aged(make_draft("acme"), 2)
    make_draft("acme")
    start, end = today - timedelta(days=3), today - timedelta(days=2)
    response = as_reviewer.get(QUEUE, {"created_at_from": start, "created_at_to": end})
    assert shown(response) == [recent.pk]
    response = as_reviewer.get(QUEUE, {"created_at_to": today - timedelta(days=5)})
    assert shown(response) == [old.pk]


@pytest.mark.parametrize("bad", ["2026-02-30", "yesterday", "9999-99-99"])
def test_a_bad_date_is_ignored_with_a_message(as_reviewer, bad):
    make_draft("acme")
    response = as_reviewer.get(QUEUE, {"created_at_from": bad, "created_at_to": "9999-12-31"})
    assert response.status_code == 200
    assert len(shown(response)) == 1
    assert messages_of(response) == [
        f"“{bad}” is not a date: use YYYY-MM-DD. The created at from date was ignored."
    ]


def test_search_finds_exact_ids_and_request_ids_only(as_reviewer):
    draft = make_draft("acme", request_id="req-42", created_by="lynx-agent-7")
    make_draft("acme", request_id="req-421", created_by="lynx-agent-70")
    make_draft("globex", request_id="req-42")

    def search(term):
        return shown(as_reviewer.get(QUEUE, {"q": term, "status": "all"}))

    assert search(str(draft.pk)) == [draft.pk]
    assert search(str(draft.pk).upper()) == [draft.pk]
    assert search(str(draft.pk)[:8]) == [draft.pk]
    assert search("req-42") == [draft.pk]
    assert search("lynx-agent-7") == []  # creators have no index: not searched
    assert search("req-4") == []
    assert search("Quarterly") == []  # no scans of the payload
    approved = make_draft("acme", status=DraftStatus.APPROVED, request_id="req-done")
    assert shown(as_reviewer.get(QUEUE, {"q": "req-done"})) == [approved.pk]  # any status


@pytest.mark.parametrize(
    ("path", "titles"),
    [
        (QUEUE, ["status", "my queue", "content", "risk level", "draft type", "created at"]),
        (TRAIL, ["reviewer", "decision", "created at"]),
    ],
)
def test_the_lists_offer_the_filters_the_guide_names(as_reviewer, path, titles):
    html = as_reviewer.get(path).text
    assert re.findall(r'data-filter-title="([^"]+)"', html) == titles


def test_a_malformed_draft_id_gives_an_empty_result_and_a_message(as_reviewer):
    make_draft("acme")
    term = "0123456789abcdef0123456789abcdeg"[:-1] + "-"
    response = as_reviewer.get(QUEUE, {"q": term})
    assert response.status_code == 200
    assert shown(response) == []
    assert messages_of(response) == [
        f"“{term}” is not a valid draft id: give all 36 characters or the first 8."
    ]


@pytest.mark.parametrize("path", [QUEUE + "?status=all", QUEUE + "?awaiting=me", TRAIL])
def test_list_pages_run_a_constant_number_of_queries(as_reviewer, reviewers, path):
    senior = Group.objects.create(name="Senior reviewers")
    reviewers["acme-reviewer2"].groups.add(senior)
    ApprovalRule.objects.create(
        tenant_id="acme", name="Large", draft_type=DraftType.VPM_PAYMENT, min_amount=10,
        currency="EUR", approvals=2, required_group=senior,
    )  # fmt: skip

    def queries_for(drafts: int) -> int:
        for _ in range(drafts):
            draft = make_draft(
                "acme", draft_type=DraftType.VPM_PAYMENT, risk_level=RiskLevel.HIGH,
                payload={"amount": "50", "currency": "EUR"},
                recommended_approvers=["acme-reviewer"],
            )  # fmt: skip
            make_review(draft, reviewers["acme-reviewer2"])
        with CaptureQueriesContext(connection) as captured:
            response = as_reviewer.get(path)
        assert len(response.context["cl"].result_list) == Draft.objects.count()
        return len(captured)

    assert queries_for(2) == queries_for(20)


def test_the_draft_page_escapes_json_and_puts_payment_facts_first(as_reviewer):
    draft = make_draft(
        "acme",
        draft_type=DraftType.VPM_PAYMENT,
        payload={"amount": "1250.00", "currency": "EUR", "payee": "<script>alert(1)</script>"},
        source_context={"note": "<b>bold</b>"},
    )
    html = as_reviewer.get(f"{QUEUE}{draft.pk}/change/").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&quot;note&quot;: &quot;&lt;b&gt;bold&lt;/b&gt;&quot;" in html
    assert "\n  &quot;amount&quot;: &quot;1250.00&quot;," in html
    facts = html.index('<div class="payment-amount">1,250.00 EUR</div>')
    assert facts < html.index('<pre class="json">')
    assert '<div class="payment-payee">&lt;script&gt;alert(1)&lt;/script&gt;</div>' in html


def test_the_draft_page_links_executions_and_shows_the_trail_newest_first(as_reviewer, reviewers):
    draft = make_draft("acme", risk_level=RiskLevel.HIGH)
    execution = make_execution(draft, tool_id="vpm.pay")
    earlier = timezone.now() - timedelta(hours=1)
    make_review(draft, reviewers["acme-reviewer2"], reason="older-note", created_at=earlier)
    make_review(draft, reviewers["acme-auditor"], decision="reject", reason="newer-reason")
    response = as_reviewer.get(f"{QUEUE}{draft.pk}/change/")
    html = response.text
    assert f"/admin/storage/execution/{execution.pk}/change/" in html
    assert "vpm.pay" in html
    assert html.index("newer-reason") < html.index("older-note")
    assert "Decision trail (newest first)" in html


def decision_panel(client, draft) -> tuple[list[str], list[str]]:
    """The draft page's open decisions (forms that post an action) and the reasons given."""
    html = client.get(f"{QUEUE}{draft.pk}/change/").text
    open_actions = re.findall(r'<button type="submit" class="button" data-action="(\w+)"', html)
    reasons = [unescape(r) for r in re.findall(r"<li>(You may not [^<]+)</li>", html)]
    return open_actions, reasons


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"created_by": "acme-reviewer"}, "you created this draft"),
        ({"status": DraftStatus.APPROVED}, "it is approved; only submitted drafts can be decided"),
    ],
    ids=["own-draft", "not-submitted"],
)
def test_the_draft_page_says_why_a_reviewer_may_not_decide(as_reviewer, fields, reason):
    draft = make_draft("acme", **fields)
    assert decision_panel(as_reviewer, draft) == (
        [],
        [f"You may not approve: {reason}.", f"You may not reject: {reason}."],
    )


def test_the_draft_page_offers_both_decisions_to_a_reviewer_who_may_take_them(as_reviewer):
    draft = make_draft("acme")
    assert decision_panel(as_reviewer, draft) == (["approve_selected", "reject_selected"], [])
    assert "Approve selected drafts" in as_reviewer.get(QUEUE).text


def test_auditors_see_no_decisions_anywhere(client, reviewers):
    client.force_login(reviewers["acme-auditor"])
    draft = make_draft("acme")
    assert 'id="decision-panel"' not in client.get(f"{QUEUE}{draft.pk}/change/").text
    assert "Approve selected drafts" not in client.get(QUEUE).text


def test_nobody_adds_edits_or_deletes_drafts_in_the_admin(client, tenants, make_user):
    root = make_user("acme-root", tenant=tenants["acme"], is_superuser=True)
    client.force_login(root)
    draft = make_draft("acme")
    assert client.get(QUEUE + "add/").status_code == 403
    assert client.get(f"{QUEUE}{draft.pk}/delete/").status_code == 403
    client.post(f"{QUEUE}{draft.pk}/change/", {"status": "approved", "payload": "{}"})
    assert Draft.objects.get(pk=draft.pk).status == DraftStatus.SUBMITTED

"""The review queue, the draft page and the decision pages, as a reviewer's browser sees them."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from storage.choices import Decision, DraftStatus, DraftType, RiskLevel
from storage.models import ApprovalRule, Draft, DraftReview
from tests.conftest import fingerprint_of, make_draft, make_execution, make_review

pytestmark = pytest.mark.django_db

QUEUE = "/admin/storage/draft/"
TRAIL = "/admin/storage/draftreview/"


def shown(response) -> list:
    return [d.pk for d in response.context["cl"].result_list]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


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


def confirm(client, drafts, decision, *, follow=False, **extra):
    """The queue's action, as its confirmation page posts it back (with post=yes): each
    draft's id and the fingerprint of the content the page showed."""
    data = {
        "action": f"{decision}_selected",
        "_selected_action": [str(d.pk) for d in drafts],
        "_seen": [fingerprint_of(d) for d in drafts],
        **extra,
    }
    return client.post(QUEUE, data, follow=follow)


def test_the_bulk_action_asks_for_confirmation_listing_each_draft(as_reviewer):
    low = make_draft("acme")
    own = make_draft("acme", created_by="acme-reviewer")
    response = as_reviewer.post(
        QUEUE,
        {"action": "approve_selected", "_selected_action": [low.pk, own.pk], "index": 0},
    )
    assert response.templates[0].name == "admin/storage/action_confirmation.html"
    effects = {str(o.draft.pk): o.effect for o, _ in response.context["rows"]}
    assert effects == {str(low.pk): "approved", str(own.pk): "skipped: you created this draft"}
    assert "Skipped: you created this draft" in response.text
    assert 'class="messagelist"' not in response.text  # asked, not yet answered
    headings = re.findall(r"<th>([^<]+)</th>", response.text)
    assert headings == [
        "Draft", "Type", "Status", "Risk", "Payment", "Created by", "Rule and approvals",
        "What will happen",
    ]  # fmt: skip
    row = re.search(r'<tr class="skipped">(.*?)</tr>', response.text, re.S).group(1)
    for cell in ("<td>Docs</td>", "badge-risk-low", "<td>acme-reviewer</td>", "approvals-rule"):
        assert cell in row
    assert Draft.objects.get(pk=low.pk).status == DraftStatus.SUBMITTED


def test_confirming_decides_and_reports_each_draft(as_reviewer):
    low, own = make_draft("acme"), make_draft("acme", created_by="acme-reviewer")
    response = confirm(as_reviewer, [low, own], "approve", post="yes", next=QUEUE + "?status=all")
    assert response.status_code == 302
    assert response.url == QUEUE + "?status=all"
    page = as_reviewer.get(response.url)
    assert set(messages_of(page)) == {
        f"{low}: approved.",
        f"{own}: skipped: you created this draft.",
    }
    assert Draft.objects.get(pk=low.pk).status == DraftStatus.APPROVED


def test_rejecting_without_a_reason_is_a_form_error_and_changes_nothing(as_reviewer):
    draft = make_draft("acme")
    response = confirm(as_reviewer, [draft], "reject", post="yes", reason="  ")
    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": ["Give a reason for the rejection."]}
    assert Draft.objects.get(pk=draft.pk).status == DraftStatus.SUBMITTED
    response = confirm(as_reviewer, [draft], "reject", post="yes", reason="wrong payee")
    assert Draft.objects.get(pk=draft.pk).status == DraftStatus.REJECTED
    assert DraftReview.objects.get().reason == "wrong payee"


def test_a_forged_post_from_outside_reviewers_is_refused(client, reviewers):
    client.force_login(reviewers["acme-auditor"])
    draft = make_draft("acme")
    for extra in ({"post": "yes", "reason": "forged"}, {}, {"index": 0}):
        assert confirm(client, [draft], "approve", **extra).status_code == 403
    assert Draft.objects.get(pk=draft.pk).status == DraftStatus.SUBMITTED
    assert not DraftReview.objects.exists()


def test_deciding_never_happens_on_get_or_on_unknown_decisions(as_reviewer):
    draft = make_draft("acme")
    as_reviewer.get(
        QUEUE, {"action": "approve_selected", "_selected_action": draft.pk, "post": "yes"}
    )
    assert confirm(as_reviewer, [draft], "publish", post="yes").status_code == 403
    assert Draft.objects.get(pk=draft.pk).status == DraftStatus.SUBMITTED


def test_another_tenants_draft_is_not_found_anywhere(as_reviewer):
    globex = make_draft("globex")
    assert as_reviewer.get(f"{QUEUE}{globex.pk}/change/").status_code == 404
    response = confirm(as_reviewer, [globex], "approve", post="yes", follow=True)
    assert messages_of(response) == ["1 of the selected drafts were not found."]
    assert Draft.objects.get(pk=globex.pk).status == DraftStatus.SUBMITTED


def test_an_offsite_next_url_is_not_followed(as_reviewer):
    draft = make_draft("acme")
    response = confirm(as_reviewer, [draft], "approve", post="yes", next="https://evil.test/")
    assert response.url == QUEUE


def test_the_decision_trail_list_filters_by_reviewer_decision_and_date(client, reviewers):
    client.force_login(reviewers["acme-auditor"])
    first, second = reviewers["acme-reviewer"], reviewers["acme-reviewer2"]
    approve = make_review(make_draft("acme"), first)
    reject = make_review(make_draft("acme"), second, decision=Decision.REJECT, reason="no")
    make_review(make_draft("globex"), reviewers["globex-reviewer"])
    assert set(shown(client.get(TRAIL))) == {approve.pk, reject.pk}
    assert shown(client.get(TRAIL, {"reviewer": second.pk})) == [reject.pk]
    assert shown(client.get(TRAIL, {"reviewer": "x"})) == []
    assert shown(client.get(TRAIL, {"reviewer": "²"})) == []
    assert shown(client.get(TRAIL, {"decision__exact": "approve"})) == [approve.pk]
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert shown(client.get(TRAIL, {"created_at_from": tomorrow})) == []
    html = client.get(TRAIL).text
    assert "globex-reviewer" not in html  # the reviewer filter lists this tenant's users only
    assert client.get(TRAIL + "add/").status_code == 403


def test_each_decision_is_in_the_drafts_admin_history(as_reviewer):
    draft = make_draft("acme", risk_level=RiskLevel.HIGH)
    confirm(as_reviewer, [draft], "approve", post="yes")
    history = as_reviewer.get(f"{QUEUE}{draft.pk}/history/")
    assert history.status_code == 200
    assert (
        "Approve: stays submitted with 1 of 2 approvals; still needs 1 more approval."
        in history.text
    )
    assert "acme-reviewer" in history.text


@pytest.mark.parametrize("answer", [{}, {"post": "yes"}], ids=["asking", "confirmed"])
def test_a_bulk_decision_is_bounded(as_reviewer, monkeypatch, answer):
    """Each decision locks its draft until the request ends: more than the cap is refused,
    whether the ids come from the action menu or straight to the confirmation's answer."""
    monkeypatch.setattr("storage.actions.MOST_AT_ONCE", 2)
    drafts = [make_draft("acme") for _ in range(3)]
    response = confirm(as_reviewer, drafts, "approve", follow=True, **answer)
    assert messages_of(response) == ["Choose at most 2 drafts at a time."]
    assert {d.status for d in Draft.objects.all()} == {"submitted"}
    assert not DraftReview.objects.exists()


def test_selecting_all_asks_about_every_draft_of_the_filtered_list(as_reviewer, monkeypatch):
    """ "Select all" takes the list's filters, not the ticked rows: the confirmation lists this
    tenant's drafts that the filtered list holds, and refuses more than a decision may lock."""
    high = {make_draft("acme", risk_level=RiskLevel.HIGH).pk for _ in range(3)}
    make_draft("acme", risk_level=RiskLevel.LOW)
    make_draft("globex", risk_level=RiskLevel.HIGH)
    everything = {
        "action": "approve_selected",
        "_selected_action": [str(next(iter(high)))],
        "select_across": "1",
        "index": "0",
    }
    response = as_reviewer.post(QUEUE + "?risk_level__exact=high", everything)
    assert {outcome.draft.pk for outcome, _ in response.context["rows"]} == high
    monkeypatch.setattr("storage.actions.MOST_AT_ONCE", 2)
    response = as_reviewer.post(QUEUE + "?risk_level__exact=high", everything, follow=True)
    assert messages_of(response) == ["Choose at most 2 drafts at a time."]


def test_a_post_that_chooses_nothing_shows_the_list(as_reviewer):
    """Without a selection or the action menu's answer Django shows the list: it is read."""
    draft = make_draft("acme")
    response = as_reviewer.post(QUEUE, {"action": "approve_selected"})
    assert response.status_code == 200
    assert shown(response) == [draft.pk]


def test_malformed_selected_ids_are_refused_with_a_message(as_reviewer):
    draft = make_draft("acme")
    for bogus in ("not-a-uuid", "", "1" * 5000):
        response = as_reviewer.post(
            QUEUE,
            {"action": "approve_selected", "_selected_action": [draft.pk, bogus], "post": "yes"},
            follow=True,
        )
        assert response.status_code == 200
        assert messages_of(response) == [
            "The selection holds something that is not a draft id; nothing was done."
        ]
    assert Draft.objects.get(pk=draft.pk).status == DraftStatus.SUBMITTED

"""Deciding from the review queue: the confirmation page, the decision, its bounds and its
refusals, as a reviewer's browser sees them."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from storage.choices import Decision, DraftStatus, RiskLevel
from storage.models import Draft, DraftReview
from tests.conftest import fingerprint_of, make_draft, make_review
from tests.pages import messages_of, shown

pytestmark = pytest.mark.django_db

QUEUE = "/admin/storage/draft/"
TRAIL = "/admin/storage/draftreview/"


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

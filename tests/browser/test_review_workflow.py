"""The reviewer workflow in Chromium: the queue, the confirmation page, the draft page."""

import pytest

from storage.choices import DraftStatus, RiskLevel
from storage.models import Draft, DraftReview
from tests.browser.conftest import decide_on_draft_page, messages
from tests.conftest import make_draft

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE = "/admin/storage/draft/"


def status_of(draft) -> str:
    return Draft.objects.get(pk=draft.pk).status


def test_a_reviewer_approves_two_drafts_from_the_queue(page, login, reviewers):
    first = make_draft("acme", created_by="lynx-agent", request_id="req-1001")
    second = make_draft("acme", created_by="lynx-agent", recommended_approvers=["acme-reviewer"])
    make_draft("acme", risk_level=RiskLevel.HIGH, payload={"amount": "9800.00"})
    login("acme-reviewer")
    page.goto(QUEUE)
    assert page.locator("#result_list tbody tr").count() == 3
    for draft in (first, second):
        page.check(f"input[name=_selected_action][value='{draft.pk}']")
    page.select_option("select[name=action]", "approve_selected")
    page.click("button[name=index]")
    page.wait_for_selector("#action-outcomes")  # all_inner_texts() does not wait for the page
    rows = page.locator("#action-outcomes tbody tr").all_inner_texts()
    assert [row.split("\t")[0] for row in rows] == [
        str(d.pk)[:8] for d in sorted((first, second), key=lambda d: d.pk)
    ]
    assert all(row.endswith("Approved") and "0/1" in row for row in rows)
    page.fill("textarea[name=reason]", "Checked against the contract")
    page.click("input[type=submit][value='Yes, approve']")
    assert sorted(messages(page)) == sorted([f"{first}: approved.", f"{second}: approved."])
    assert [status_of(first), status_of(second)] == [DraftStatus.APPROVED] * 2
    page.goto(f"{QUEUE}{first.pk}/change/")
    trail = page.locator("#trail-section").inner_text()
    assert "acme-reviewer" in trail and "Checked against the contract" in trail
    created = DraftReview.objects.get(draft_id=first.pk).created_at
    assert f"{created:%Y}" in trail and "Approve" in trail


def test_a_rejection_needs_a_reason(page, login, reviewers):
    draft = make_draft("acme")
    login("acme-reviewer")
    decide_on_draft_page(page, draft, "Reject", reason="")
    assert page.locator(".errorlist").inner_text() == "Give a reason for the rejection."
    assert status_of(draft) == DraftStatus.SUBMITTED
    page.fill("textarea[name=reason]", "The payee is not on our list")
    page.click("input[type=submit][value='Yes, reject']")
    assert messages(page) == [f"{draft}: rejected."]
    assert status_of(draft) == DraftStatus.REJECTED
    assert "The payee is not on our list" in page.locator("#trail-section").inner_text()
    assert page.locator("#decision-buttons form").count() == 0  # nothing left to decide


def test_a_high_risk_draft_needs_two_different_reviewers(open_as, reviewers):
    draft = make_draft("acme", risk_level=RiskLevel.HIGH)
    first = open_as("acme-reviewer")
    decide_on_draft_page(first, draft, "Approve")
    assert messages(first) == [
        f"{draft}: stays submitted with 1 of 2 approvals; still needs 1 more approval."
    ]
    assert first.locator(".field-approvals_summary .readonly").inner_text() == (
        "Round 1: 1 of 2 approvals; still needs 1 more approval (acme-reviewer)"
    )
    assert first.locator("#decision-refusals").inner_text().splitlines() == [
        "You may not approve: you already approved this draft.",
        "You may not reject: you already approved this draft.",
    ]
    # The same approval again, from the queue: refused, still one approval.
    first.goto(QUEUE)
    first.check(f"input[name=_selected_action][value='{draft.pk}']")
    first.select_option("select[name=action]", "approve_selected")
    first.click("button[name=index]")
    assert "Skipped: you already approved this draft" in first.inner_text("#action-outcomes")
    assert first.locator("input[type=submit][value='Yes, approve']").count() == 0
    second = open_as("acme-reviewer2")
    decide_on_draft_page(second, draft, "Approve")
    assert messages(second) == [f"{draft}: approved."]
    assert status_of(draft) == DraftStatus.APPROVED
    assert DraftReview.objects.filter(draft_id=draft.pk).count() == 2


def test_a_reviewer_cannot_decide_on_their_own_draft_or_see_another_tenants(page, login, reviewers):
    own = make_draft("acme", created_by="acme-reviewer")
    globex = make_draft("globex")
    login("acme-reviewer")
    page.goto(f"{QUEUE}{own.pk}/change/")
    assert page.locator("#decision-buttons button[disabled]").count() == 2
    assert "You may not approve: you created this draft." in page.inner_text("#decision-refusals")
    page.goto(QUEUE)
    page.check(f"input[name=_selected_action][value='{own.pk}']")
    page.select_option("select[name=action]", "reject_selected")
    page.click("button[name=index]")
    assert "Skipped: you created this draft" in page.inner_text("#action-outcomes")
    assert status_of(own) == DraftStatus.SUBMITTED
    response = page.goto(f"{QUEUE}{globex.pk}/change/")
    assert response.status == 404


FORGED_POST = """async (draftId) => {
    const body = new FormData();
    body.append("csrfmiddlewaretoken", document.querySelector("[name=csrfmiddlewaretoken]").value);
    body.append("action", "approve_selected");
    body.append("_selected_action", draftId);
    body.append("post", "yes");
    const response = await fetch("/admin/storage/draft/", {method: "POST", body});
    return response.status;
}"""


def test_an_auditor_sees_no_decisions_and_a_forged_post_is_refused(page, login, reviewers):
    draft = make_draft("acme")
    login("acme-auditor")
    page.goto(QUEUE)
    assert page.locator("select[name=action]").count() == 0
    page.goto(f"{QUEUE}{draft.pk}/change/")
    assert page.locator("#decision-buttons").count() == 0
    assert "Approve" not in page.inner_text("#content")
    assert page.evaluate(FORGED_POST, str(draft.pk)) == 403
    assert status_of(draft) == DraftStatus.SUBMITTED
    assert not DraftReview.objects.exists()

"""A large payment through two review rounds under an amount rule, then changed after approval.

The screenshots of this walk are the README's (copied to docs/img/ by hand).
"""

import pytest
from django.contrib.auth.models import Group

from storage.choices import DraftStatus, DraftType, RiskLevel
from storage.models import Draft, DraftReview
from tests.browser.conftest import (
    ARTIFACTS,
    decide_on_draft_page,
    messages,
    save_screenshot,
)
from tests.conftest import make_draft

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE = "/admin/storage/draft/"
RULES = "/admin/storage/approvalrule/"
IBAN = "DE89370400440532013000"
PAYLOAD = {
    "amount": "150000.00",
    "currency": "EUR",
    "payee": {"name": "Initech GmbH", "iban": "DE00000000000000000000"},
    "reference": "INV-20931",
}


@pytest.fixture
def people(reviewers, make_user, tenants):
    senior = Group.objects.create(name="Senior reviewers")
    cfo = make_user("acme-cfo", tenant=tenants["acme"], groups=("Reviewers",))
    cfo.groups.add(senior)
    make_user("root", is_superuser=True)
    return reviewers


def add_the_large_payments_rule(page) -> None:
    page.goto(RULES)
    page.select_option("#id_rules_tenant", "acme")
    page.click("#rules-tenant button")
    assert messages(page) == ["You are working on the approval rules of Acme."]
    page.click("a.addlink")
    page.fill("#id_name", "Large payments")
    page.select_option("#id_draft_type", "vpm_payment")
    page.fill("#id_min_amount", "100000")
    page.fill("#id_currency", "eur")
    page.fill("#id_approvals", "2")
    page.select_option("#id_required_group", label="Senior reviewers")
    page.click("input[name=_save]")
    assert "was added successfully" in messages(page)[0]
    page.click("#result_list a:has-text('Large payments')")
    page.fill("#id_name", "Large payments (EUR)")
    page.click("input[name=_continue]")
    assert "was changed successfully" in messages(page)[0]
    history = page.locator("#rule-history tbody tr").all_inner_texts()
    assert [row.split("\t")[1:3] for row in history] == [["root", "Changed"], ["root", "Added"]]
    save_screenshot(page, "approval-rule-history")


def test_a_large_payment_through_two_rounds_and_a_change_after_approval(open_as, people):
    add_the_large_payments_rule(open_as("root"))
    payment = make_draft(
        "acme",
        draft_type=DraftType.VPM_PAYMENT,
        risk_level=RiskLevel.MEDIUM,
        payload=PAYLOAD,
        recommended_approvers=["acme-reviewer", "acme-reviewer2", "acme-cfo"],
    )
    for _ in range(3):
        make_draft("acme", risk_level=RiskLevel.HIGH)

    # Round 1: one approval, then a rejection by a reviewer who may not approve.
    reviewer = open_as("acme-reviewer")
    reviewer.goto(QUEUE)
    assert "1/2" not in reviewer.inner_text(f"#result_list tr:has-text('{str(payment.pk)[:8]}')")
    assert reviewer.evaluate(
        "[document.documentElement.scrollWidth, document.querySelector('.results').scrollWidth]"
    ) == [1366, reviewer.evaluate("document.querySelector('.results').clientWidth")]
    reviewer.goto(f"{QUEUE}{payment.pk}/change/")
    reviewer.click("#decision-buttons button:has-text('Approve')")
    confirmation = reviewer.inner_text("#action-outcomes")
    assert "150,000.00 EUR" in confirmation and "Initech GmbH DE00 •••• 0000" in confirmation
    assert "Large payments (EUR): still needs one from Senior reviewers and 1 more" in confirmation
    save_screenshot(reviewer, "review-confirmation", full_page=False)
    reviewer.click("input[type=submit][value='Yes, approve']")
    assert messages(reviewer) == [
        f"{payment}: stays submitted with 1 of 2 approvals; still needs one from Senior reviewers."
    ]
    second = open_as("acme-reviewer2")
    second.goto(f"{QUEUE}{payment.pk}/change/")
    assert second.inner_text("#decision-refusals") == (
        "You may not approve: needs a member of Senior reviewers."
    )
    decide_on_draft_page(second, payment, "Reject", reason="The IBAN is not Initech's")
    assert messages(second) == [f"{payment}: rejected."]

    # Lynx AI corrects the IBAN and submits the payment again: round 2.
    Draft.objects.filter(pk=payment.pk).update(
        payload=PAYLOAD | {"payee": {"name": "Initech GmbH", "iban": IBAN}},
        status=DraftStatus.SUBMITTED,
    )
    reviewer.goto(QUEUE)
    row = reviewer.locator(f"#result_list tr:has-text('{str(payment.pk)[:8]}')")
    assert "0/2" in row.inner_text()
    decide_on_draft_page(reviewer, payment, "Approve", reason="IBAN checked against the contract")
    reviewer.goto(QUEUE)
    assert "1/2: acme-reviewer" in row.inner_text()
    save_screenshot(reviewer, "review-queue", full_page=False)
    cfo = open_as("acme-cfo")
    decide_on_draft_page(cfo, payment, "Approve")
    assert messages(cfo) == [f"{payment}: approved."]
    assert [(r.round, r.reviewer.username, r.decision) for r in trail(payment)] == [
        (1, "acme-reviewer", "approve"),
        (1, "acme-reviewer2", "reject"),
        (2, "acme-reviewer", "approve"),
        (2, "acme-cfo", "approve"),
    ]

    # After the approval, Lynx AI changes the amount: everyone sees it, with what changed.
    Draft.objects.filter(pk=payment.pk).update(
        payload=PAYLOAD | {"amount": "195000.00", "payee": {"name": "Initech GmbH", "iban": IBAN}}
    )
    auditor = open_as("acme-auditor")
    auditor.goto(f"{QUEUE}?changed=after_approval&status=all")
    assert auditor.locator("#result_list tbody tr").count() == 1
    auditor.click(f"#result_list a:has-text('{str(payment.pk)[:8]}')")
    banner = auditor.inner_text("#changed-after-approval")
    assert banner.startswith("⚠ Changed after approval by acme-cfo at ")
    assert 'payload.amount\tchanged\t"150000.00"\t"195000.00"' in banner
    rounds = auditor.locator("h3.trail-round").all_inner_texts()
    assert rounds == ["Round 2", "Round 1"]
    save_screenshot(auditor, "changed-after-approval", full_page=False)
    auditor.locator("#trail-section").screenshot(path=ARTIFACTS / "review-rounds.png")


def test_a_draft_that_changes_while_it_is_reviewed_is_shown_again(open_as, people):
    draft = make_draft("acme", draft_type=DraftType.VPM_PAYMENT, payload=PAYLOAD | {"amount": "90"})
    reviewer = open_as("acme-reviewer")
    reviewer.goto(f"{QUEUE}{draft.pk}/change/")
    reviewer.click("#decision-buttons button:has-text('Approve')")
    assert "90 EUR" in reviewer.inner_text("#action-outcomes")
    Draft.objects.filter(pk=draft.pk).update(payload=PAYLOAD | {"amount": "9000"})
    reviewer.fill("textarea[name=reason]", "fine")
    reviewer.click("input[type=submit][value='Yes, approve']")
    assert messages(reviewer) == [f"{draft}: this draft changed while you were reviewing it."]
    assert "9,000 EUR" in reviewer.inner_text("#action-outcomes")
    assert reviewer.input_value("textarea[name=reason]") == "fine"
    assert not DraftReview.objects.exists()
    reviewer.click("input[type=submit][value='Yes, approve']")
    assert messages(reviewer) == [f"{draft}: approved."]


def trail(draft) -> list[DraftReview]:
    return list(DraftReview.objects.filter(draft_id=draft.pk).order_by("created_at"))

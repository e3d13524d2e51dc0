"""What a finance reviewer reads: payments, waits, dates, sections, messages, single-line fields."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from storage.choices import DraftStatus, DraftType, RiskLevel
from storage.models import ApprovalRule, Draft, SettlementIntent
from tests.conftest import make_draft, make_review

pytestmark = pytest.mark.django_db

QUEUE = "/admin/storage/draft/"
PAYMENT = {
    "amount": "1250000.5",
    "currency": "eur",
    "payee": {"name": "Initech <GmbH>", "iban": "DE89 3704 0044 0532 0130 00"},
}
AMOUNT = '<div class="payment-amount">1,250,000.5 EUR</div>'
PAYEE = (
    '<div class="payment-payee">Initech &lt;GmbH&gt; <span class="account">DE89 •••• 3000</span>'
)
MOMENT = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"


@pytest.fixture
def as_reviewer(client, reviewers):
    client.force_login(reviewers["acme-reviewer"])
    return client


def payment(**fields) -> Draft:
    return make_draft("acme", draft_type=DraftType.VPM_PAYMENT, payload=PAYMENT, **fields)


def test_payments_show_amount_and_masked_payee_on_the_queue_page_and_confirmation(as_reviewer):
    draft = payment()
    queue = as_reviewer.get(QUEUE).text
    confirmation = as_reviewer.post(
        QUEUE, {"action": "approve_selected", "_selected_action": [draft.pk]}
    ).text
    page = as_reviewer.get(f"{QUEUE}{draft.pk}/change/").text
    for html in (queue, confirmation, page):
        assert AMOUNT in html and PAYEE in html
    for html in (queue, confirmation):
        assert "0532 0130" not in html  # the whole account is on the draft page only


def test_the_settlement_confirmation_shows_amount_and_payee(client, tenants, make_user):
    operator = make_user("op", tenant=tenants["acme"], groups=("Settlement operators",))
    metadata = {"amount": "98000.00", "currency": "USD", "payee": "Hooli Cloud Services"}
    SettlementIntent.objects.create(
        payment_id="pay-acme-7", tenant_id="acme", provider="manual", metadata=metadata
    )
    client.force_login(operator)
    html = client.post(
        "/admin/storage/settlementintent/",
        {"action": "move_to_processing", "_selected_action": ["pay-acme-7"]},
    ).text
    assert '<div class="payment-amount">98,000.00 USD</div>' in html
    assert '<div class="payment-payee">Hooli Cloud Services</div>' in html


def test_a_message_that_starts_with_a_payment_id_keeps_its_case(client, tenants, make_user):
    operator = make_user("op", tenant=tenants["acme"], groups=("Settlement operators",))
    SettlementIntent.objects.create(payment_id="pay-acme-7", tenant_id="acme", provider="manual")
    client.force_login(operator)
    response = client.post(
        "/admin/storage/settlementintent/",
        {
            "action": "move_to_processing",
            "_selected_action": ["pay-acme-7"],
            "_seen": [""],
            "post": "yes",
            "note": "sent",
        },
        follow=True,
    )
    assert '<li class="success">pay-acme-7: moved to processing.</li>' in response.text


def test_the_queue_shows_the_wait_who_approved_and_the_rule_still_to_satisfy(
    as_reviewer, reviewers
):
    senior = Group.objects.create(name="Senior reviewers")
    ApprovalRule.objects.create(
        tenant_id="acme", name="Large payments", draft_type=DraftType.VPM_PAYMENT,
        min_amount=Decimal(100000), currency="EUR", approvals=2, required_group=senior,
    )  # fmt: skip
    draft = payment()
    Draft.objects.filter(pk=draft.pk).update(created_at=timezone.now() - timedelta(days=2, hours=3))
    make_review(draft, reviewers["acme-reviewer2"])
    html = as_reviewer.get(QUEUE).text
    assert '<td class="field-waiting">2 d 3 h</td>' in html
    assert (
        '<div class="approvals-count">1/2: acme-reviewer2</div>'
        '<div class="approvals-needed">Large payments: still needs one from Senior reviewers</div>'
    ) in html
    page = as_reviewer.get(f"{QUEUE}{draft.pk}/change/").text
    assert "Large payments: 2 approvals, one from Senior reviewers" in page
    assert (
        "Round 1: 1 of 2 approvals; still needs one from Senior reviewers (acme-reviewer2)" in page
    )
    assert "You may not approve: needs a member of Senior reviewers." in page
    confirmation = as_reviewer.post(
        QUEUE, {"action": "approve_selected", "_selected_action": [draft.pk]}
    ).text
    assert "still needs one from Senior reviewers" in confirmation
    assert "Skipped: needs a member of Senior reviewers" in confirmation


def test_a_payment_the_rules_cannot_read_says_why_on_the_queue_and_page(as_reviewer):
    ApprovalRule.objects.create(
        tenant_id="acme", name="Large payments", draft_type=DraftType.VPM_PAYMENT,
        min_amount=Decimal(100000), currency="EUR", approvals=2,
    )  # fmt: skip
    draft = make_draft(
        "acme", draft_type=DraftType.VPM_PAYMENT, payload={"amount": "12O", "currency": "EUR"}
    )
    assert "⚠ the amount “12O” is not a number like 1234.50" in as_reviewer.get(QUEUE).text
    page = as_reviewer.get(f"{QUEUE}{draft.pk}/change/").text
    assert "The amount “12O” is not a number like 1234.50: every amount rule applies" in page
    assert "12O (not a readable amount)" in page


def test_the_oldest_wait_is_on_the_dashboard(as_reviewer):
    draft = make_draft("acme", risk_level=RiskLevel.HIGH)
    Draft.objects.filter(pk=draft.pk).update(
        created_at=timezone.now() - timedelta(hours=5, seconds=30)
    )
    make_draft("acme")
    html = as_reviewer.get("/admin/").text
    assert re.search(r'Oldest waiting: <a href="[^"]+">5 h 0 min</a>', html)


def test_the_sort_arrow_points_the_way_the_queue_is_sorted(as_reviewer):
    make_draft("acme")
    header = r'<th scope="col" class="sortable column-created_at sorted (\w+)">'
    assert re.findall(header, as_reviewer.get(QUEUE).text) == ["ascending"]  # oldest first
    assert re.findall(header, as_reviewer.get(QUEUE, {"status": "all"}).text) == ["descending"]


def test_empty_sections_say_none_yet_and_trail_rows_carry_no_caption(as_reviewer, reviewers):
    draft = make_draft("acme", risk_level=RiskLevel.HIGH)
    html = as_reviewer.get(f"{QUEUE}{draft.pk}/change/").text
    assert html.count('<p class="none-yet">None yet.</p>') == 2
    review = make_review(draft, reviewers["acme-reviewer2"])
    html = as_reviewer.get(f"{QUEUE}{draft.pk}/change/").text
    assert html.count('<p class="none-yet">None yet.</p>') == 1
    assert str(review) not in html  # "Approve 1a2b3c4d" over each row, as the inline had


def test_one_date_format_everywhere_with_the_time_zone(as_reviewer, reviewers):
    draft = make_draft("acme", status=DraftStatus.APPROVED)
    make_review(draft, reviewers["acme-reviewer2"], to_status=DraftStatus.APPROVED)
    queue = as_reviewer.get(QUEUE, {"status": "all"}).text
    assert re.search(rf'<td class="field-created_at nowrap">{MOMENT}</td>', queue)
    page = as_reviewer.get(f"{QUEUE}{draft.pk}/change/").text
    assert re.search(rf"<tr><td>{MOMENT}</td><td>acme-reviewer2</td>", page)
    trail = as_reviewer.get("/admin/storage/draftreview/").text
    assert re.search(
        rf'<th class="field-created_at nowrap"><a href="[^"]+">{MOMENT}</a></th>', trail
    )
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", queue + page + trail)  # no microseconds


def test_a_tenants_id_and_name_are_single_line_fields(client, make_user):
    client.force_login(make_user("root", is_superuser=True))
    html = client.get("/admin/storage/tenant/add/").text
    assert '<input type="text" name="tenant_id"' in html
    assert '<input type="text" name="name"' in html
    assert "<textarea" not in html

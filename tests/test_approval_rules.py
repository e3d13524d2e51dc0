"""Approval rules by amount: which rules apply, what a decision needs, and who may approve."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from storage.choices import Decision, DraftStatus, DraftType, RiskLevel
from storage.models import ApprovalRule, Draft, DraftReview
from storage.review import services
from storage.review.content import payment_terms
from storage.review.rules import (
    Progress,
    requirement_for,
    rules_read_with,
    tenant_rules,
    with_tenant_rules,
)
from storage.review.selectors import page_sections, with_page_sections
from storage.tenancy import tenant_context
from tests.conftest import make_draft

pytestmark = pytest.mark.django_db

SENIOR = "Senior reviewers"


@pytest.fixture
def senior(db) -> Group:
    return Group.objects.create(name=SENIOR)


@pytest.fixture
def large_payments(tenants, senior) -> ApprovalRule:
    """“Payments ≥ 100,000 EUR need 2 approvals, one from Senior reviewers.”"""
    return ApprovalRule.objects.create(
        tenant_id="acme",
        name="Large payments",
        draft_type=DraftType.VPM_PAYMENT,
        min_amount=Decimal("100000"),
        currency="EUR",
        approvals=2,
        required_group=senior,
    )


def payment(amount, currency="EUR", risk=RiskLevel.LOW, **fields) -> Draft:
    payload = {"amount": amount, "currency": currency, "payee": {"name": "Initech GmbH"}}
    return make_draft(
        "acme", draft_type=DraftType.VPM_PAYMENT, payload=payload, risk_level=risk, **fields
    )


def draft_trail(draft) -> list[DraftReview]:
    return list(DraftReview.objects.filter(draft_id=draft.pk).order_by("created_at"))


def needs(draft, rules) -> tuple[int, list[str], str]:
    requirement = requirement_for(draft=draft, rules=rules)
    return requirement.approvals, [g.name for g in requirement.groups], requirement.unreadable


@pytest.mark.parametrize(
    ("amount", "currency", "problem"),
    [
        ("1234.50", "eur", ""),
        (1234.5, "EUR", ""),
        (99, " EUR ", ""),
        (None, "EUR", "the payment has no amount"),
        ("", "EUR", "the payment has no amount"),
        ("1,234.50", "EUR", "the amount “1,234.50” is not a number like 1234.50"),
        ("12O.00", "EUR", "the amount “12O.00” is not a number like 1234.50"),
        ("-5", "EUR", "the amount “-5” is not a number like 1234.50"),
        ("١٢٣", "EUR", "the amount “١٢٣” is not a number like 1234.50"),
        (True, "EUR", "the amount “true” is not a number like 1234.50"),
        ({"value": 5}, "EUR", 'the amount “{"value": 5}” is not a number like 1234.50'),
        ("10", None, "the payment has no currency"),
        ("10", "euro", "the currency “euro” is not a three-letter code"),
    ],
)
def test_payment_terms_read_untrusted_json_or_say_why_not(amount, currency, problem):
    terms = payment_terms(payload={"amount": amount, "currency": currency})
    assert terms.problem == problem
    if not problem:
        assert (terms.amount, terms.currency) == (Decimal(str(amount).strip()), "EUR")


def test_without_rules_the_default_is_todays_dual_control(settings, tenants):
    settings.LYNX_HIGH_RISK_APPROVALS = 3
    assert needs(make_draft("acme", risk_level=RiskLevel.HIGH), []) == (3, [], "")
    assert needs(make_draft("acme", risk_level=RiskLevel.MEDIUM), []) == (1, [], "")
    assert requirement_for(draft=make_draft("acme"), rules=[]).rules == ("Default: 1 approval",)


def test_an_amount_rule_applies_from_its_amount_up_in_its_currency(large_payments):
    rules = [large_payments]
    assert needs(payment("100000.00"), rules) == (2, [SENIOR], "")
    assert needs(payment(250000), rules) == (2, [SENIOR], "")
    assert needs(payment("99999.99"), rules) == (1, [], "")
    assert needs(make_draft("acme", payload={"amount": "500000", "currency": "EUR"}), rules) == (
        1,
        [],
        "",
    )  # not a payment
    explained = requirement_for(draft=payment("150000"), rules=rules).explanation
    assert explained == "Large payments: 2 approvals, one from Senior reviewers"


@pytest.mark.parametrize(
    ("amount", "currency", "why"),
    [
        ("lots", "EUR", "the amount “lots” is not a number like 1234.50"),
        (None, "EUR", "the payment has no amount"),
        ("10", "", "the payment has no currency"),
        ("10", "USD", "no amount rule is written in USD"),
    ],
)
def test_an_amount_the_rules_cannot_read_gets_the_strictest_rules(
    large_payments, amount, currency, why
):
    requirement = requirement_for(draft=payment(amount, currency), rules=[large_payments])
    assert (requirement.approvals, requirement.unreadable) == (2, why)
    assert requirement.explanation == (
        f"Large payments: 2 approvals, one from Senior reviewers. "
        f"{why[0].upper()}{why[1:]}: every amount rule applies"
    )


def test_a_rule_applies_only_to_drafts_of_its_type_and_risk(tenants):
    rule = ApprovalRule(
        tenant_id="acme", name="High-risk docs", draft_type=DraftType.DOCS,
        risk_level=RiskLevel.HIGH, approvals=3,
    )  # fmt: skip
    assert needs(make_draft("acme", risk_level=RiskLevel.HIGH), [rule]) == (3, [], "")
    assert needs(make_draft("acme", risk_level=RiskLevel.MEDIUM), [rule]) == (1, [], "")
    assert needs(payment("10", risk=RiskLevel.HIGH), [rule]) == (2, [], "")  # the default


def test_every_applicable_rule_counts_and_the_default_stays_the_floor(large_payments, settings):
    settings.LYNX_HIGH_RISK_APPROVALS = 3
    huge = ApprovalRule.objects.create(
        tenant_id="acme", name="Huge", draft_type=DraftType.VPM_PAYMENT, min_amount=Decimal(10**6),
        currency="EUR", approvals=1,
    )  # fmt: skip
    rules = [large_payments, huge]
    requirement = requirement_for(draft=payment("2000000", risk=RiskLevel.HIGH), rules=rules)
    assert (requirement.approvals, [g.name for g in requirement.groups]) == (3, [SENIOR])
    assert requirement.rules == (
        "Default for high risk: 3 approvals",
        "Large payments: 2 approvals, one from Senior reviewers",
        "Huge: 1 approval",
    )


def test_progress_says_who_approved_and_what_is_still_needed(large_payments, senior):
    requirement = requirement_for(draft=payment("150000"), rules=[large_payments])
    progress = Progress(requirement)
    assert progress.summary == "0 of 2 approvals; still needs one from Senior reviewers and 1 more"
    after_one = progress.with_approval(username="acme-reviewer", group_ids=[])
    assert after_one.count == "1/2: acme-reviewer"
    assert after_one.summary == "1 of 2 approvals; still needs one from Senior reviewers"
    assert after_one.approval_refusal(group_ids=[]) == "needs a member of Senior reviewers"
    assert after_one.approval_refusal(group_ids=[senior.pk]) == ""
    done = after_one.with_approval(username="cfo", group_ids=[senior.pk])
    assert (done.complete, done.summary, done.count) == (
        True,
        "2 of 2 approvals",
        "2/2: acme-reviewer, cfo",
    )


def test_a_large_payment_needs_a_senior_reviewer_among_its_two_approvals(
    reviewers, large_payments, senior, make_user, tenants
):
    boss = make_user("acme-cfo", tenant=tenants["acme"], groups=("Reviewers",))
    boss.groups.add(senior)
    draft = payment("150000.00")

    def approve(user) -> str:
        [outcome] = services.decide_drafts(
            user=user, draft_ids=[draft.pk], decision=Decision.APPROVE
        )
        return outcome.effect

    assert approve(reviewers["acme-reviewer"]) == (
        "stays submitted with 1 of 2 approvals; still needs one from Senior reviewers"
    )
    assert approve(reviewers["acme-reviewer2"]) == "skipped: needs a member of Senior reviewers"
    assert approve(boss) == "approved"
    assert Draft.objects.get(pk=draft.pk).status == DraftStatus.APPROVED
    trail = draft_trail(draft)
    assert [(r.reviewer.username, r.amount, r.currency) for r in trail] == [
        ("acme-reviewer", Decimal("150000.00"), "EUR"),
        ("acme-cfo", Decimal("150000.00"), "EUR"),
    ]


def test_anyone_may_still_reject_a_draft_that_needs_a_group(reviewers, large_payments):
    draft = payment("150000.00")
    services.decide_drafts(
        user=reviewers["acme-reviewer"], draft_ids=[draft.pk], decision="approve"
    )
    [outcome] = services.decide_drafts(
        user=reviewers["acme-reviewer2"], draft_ids=[draft.pk], decision=Decision.REJECT,
        reason="wrong payee",
    )  # fmt: skip
    assert outcome.effect == "rejected"


def test_another_tenants_rules_do_not_apply(reviewers, large_payments):
    globex = make_draft(
        "globex", draft_type=DraftType.VPM_PAYMENT, payload={"amount": "900000", "currency": "EUR"}
    )
    [outcome] = services.decide_drafts(
        user=reviewers["globex-reviewer"], draft_ids=[globex.pk], decision=Decision.APPROVE
    )
    assert outcome.effect == "approved"


def test_rules_read_with_the_drafts_are_the_tenants_rules(large_payments, tenants):
    """The queue and the draft page read the rules inside the drafts' own statement: the same
    rules, values (exact amounts) and groups, in the same order as their own query gives."""
    ApprovalRule.objects.create(
        tenant_id="acme", name="Odd amounts", draft_type=DraftType.VPM_PAYMENT,
        min_amount=Decimal("1234.57"), currency="USD", approvals=3,
    )  # fmt: skip
    ApprovalRule.objects.create(tenant_id="globex", name="Not ours", approvals=2)
    make_draft("acme")
    with tenant_context("acme"):
        expected = tenant_rules(tenant_id="acme")
        draft = with_tenant_rules(drafts=Draft.objects.all(), tenant_id="acme").get()
        read = rules_read_with(draft=draft)
        page = page_sections(draft=with_page_sections(drafts=Draft.objects.all()).get()).rules

    def shown(rules):
        fields = [f.attname for f in ApprovalRule._meta.concrete_fields]
        return [
            ([getattr(r, name) for name in fields], r.required_group and r.required_group.name)
            for r in rules
        ]

    assert [rule.name for rule in read] == ["Large payments", "Odd amounts"]
    assert shown(read) == shown(page) == shown(expected)
    assert read[1].min_amount == Decimal("1234.57")
    assert rules_read_with(draft=make_draft("acme")) is None

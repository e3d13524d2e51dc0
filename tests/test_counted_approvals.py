"""A decision enters the trail only as the reviewer workflow records it (migration 0032).

As gunicorn's web role (`web_process`), a reviewer's own SQL (a SQL injection) tries to record
an approval that completes a draft the rules say needs more, in another round, of a draft they
made, or with a forged copy of the draft; the database refuses, and the pages still decide.
The database's count of the rules (`portal_required_approvals`) gives Python's answers.
"""

import json

import pytest
from django.contrib.auth.models import Group
from django.core.checks import Error
from django.db import connection

from storage.checks import check_high_risk_approvals
from storage.choices import Decision, DraftStatus, DraftType, RiskLevel
from storage.models import ApprovalRule, Draft
from storage.review import high_risk
from storage.review.rules import requirement_for
from storage.review.services import DATABASE_REFUSED
from storage.tenancy import tenant_context
from tests.catalog import connect_as_superuser
from tests.conftest import fingerprint_of, make_draft, make_review
from tests.decisions import approve, confirmed_approval, recorded, status_of
from tests.pages import messages_of
from tests.web_login import INSUFFICIENT_PRIVILEGE, as_owner, inject, signed_in

pytestmark = pytest.mark.urls("tests.urls")

QUEUE = "/admin/storage/draft/"
REFUSED = {"sqlstate": INSUFFICIENT_PRIVILEGE}
ACCEPTED = {"rows": [[1]]}


@pytest.fixture
def senior(db) -> Group:
    return Group.objects.create(name="Senior reviewers")


# --- The database counts what the rules count ------------------------------------------------

# Payment terms as Lynx AI may write them: amounts and currencies that read, and that do not.
AMOUNTS = [
    "9999.99",
    "10000",
    "1e4",
    "1.5e3",
    "12345678901234567890",
    "-5",
    "-0.0",
    '"10000.00"',
    '" 10000 "',
    '"1e4"',
    '"-5"',
    '"10,000"',
    '""',
    "true",
    "null",
    "[10000]",
]
CURRENCIES = ['"EUR"', '" eur "', '"USD"', '"GBP"', '"EURO"', '""', "5", "null"]
PAYLOADS = [
    *(f'{{"amount": {a}, "currency": {c}}}' for a in AMOUNTS for c in CURRENCIES),
    '{"amount": 20000}',
    '{"currency": "EUR"}',
    "[]",
    '"10000 EUR"',
    # Python strips every Unicode space around the text; so does the database.
    *(
        json.dumps({"amount": f"{space}10000{space}", "currency": f"{space}EUR{space}"})
        for space in map(chr, range(0x3001))
        if space.isspace()
    ),
]


@pytest.fixture
def rules(tenants, senior) -> list[ApprovalRule]:
    payment = DraftType.VPM_PAYMENT
    made = [
        ApprovalRule(tenant_id="acme", name="Payments", draft_type=payment, approvals=2),
        ApprovalRule(
            tenant_id="acme",
            name="Large EUR",
            draft_type=payment,
            min_amount=10000,
            currency="EUR",
            approvals=3,
            required_group=senior,
        ),
        ApprovalRule(
            tenant_id="acme",
            name="Large USD",
            draft_type=payment,
            risk_level=RiskLevel.MEDIUM,
            min_amount=5000,
            currency="USD",
            approvals=4,
        ),
        ApprovalRule(
            tenant_id="acme",
            name="Risky workflows",
            draft_type=DraftType.WORKFLOW,
            risk_level=RiskLevel.HIGH,
            approvals=3,
        ),
        ApprovalRule(tenant_id="acme", name="Medium", risk_level=RiskLevel.MEDIUM, approvals=1),
        ApprovalRule(tenant_id="globex", name="Not acme's", approvals=9),
    ]
    return ApprovalRule.objects.bulk_create(made)


def test_the_database_counts_the_approvals_and_groups_the_rules_ask_for(rules):
    acme_rules = [rule for rule in rules if rule.tenant_id == "acme"]
    cases = [
        (draft_type, risk, payload)
        for draft_type in DraftType.values
        for risk in RiskLevel.values
        for payload in PAYLOADS
    ]
    differing = []
    with tenant_context("acme"), connection.cursor() as cursor:
        for draft_type, risk, payload in cases:
            # The payload as Django reads it: jsonb's own text, parsed by Python.
            cursor.execute(
                "SELECT stored::text, needed.approvals, needed.group_ids "
                "FROM (SELECT %s::jsonb AS stored) draft, "
                "portal_required_approvals('acme', %s, %s, draft.stored) needed",
                [payload, draft_type, risk],
            )
            stored, approvals, group_ids = cursor.fetchone()
            draft = Draft(draft_type=draft_type, risk_level=risk, payload=json.loads(stored))
            wanted = requirement_for(draft=draft, rules=acme_rules)
            found = (approvals, sorted(group_ids))
            if found != (wanted.approvals, sorted(group.id for group in wanted.groups)):
                differing.append((draft_type, risk, payload, found, wanted))
    assert len(cases) > 1000
    assert differing == []


# --- What a reviewer's own SQL may record ----------------------------------------------------


@pytest.fixture
def high_risk_draft(tenants) -> Draft:
    """A draft the default rule says needs two approvals."""
    return make_draft("acme", risk_level=RiskLevel.HIGH)


def test_one_reviewer_cannot_complete_a_draft_that_needs_two(
    reviewers, high_risk_draft, web_process
):
    draft, reviewer, me = high_risk_draft, signed_in("acme-reviewer"), reviewers["acme-reviewer"]
    assert inject(reviewer, f"{recorded(draft, me)}; {approve(draft)}") == REFUSED
    # The approval the page itself records counts one of two, and moves nothing.
    counted = recorded(draft, me, to_status="'submitted'")
    assert inject(reviewer, counted) == ACCEPTED
    assert inject(reviewer, approve(draft)) == REFUSED
    assert status_of(draft) == DraftStatus.SUBMITTED


@pytest.fixture
def second_round(reviewers, high_risk_draft) -> Draft:
    """acme-reviewer2 approved the draft, then rejected it: its round is over. Submitted again
    unchanged, the draft is in round 2, where that approval does not count."""
    other = reviewers["acme-reviewer2"]
    make_review(high_risk_draft, other, round=1)
    make_review(high_risk_draft, other, decision=Decision.REJECT, reason="no", to_status="rejected")
    return high_risk_draft


def test_an_approval_counts_only_in_the_draft_s_current_round(reviewers, second_round, web_process):
    draft, reviewer, me = second_round, signed_in("acme-reviewer"), reviewers["acme-reviewer"]
    assert inject(reviewer, recorded(draft, me, round="1")) == REFUSED
    assert inject(reviewer, recorded(draft, me, round="2")) == REFUSED
    assert inject(reviewer, recorded(draft, me, round="2", to_status="'submitted'")) == ACCEPTED


@pytest.fixture
def drafts(tenants) -> dict[str, Draft]:
    """Drafts one approval completes: Lynx AI's, and two that acme-reviewer made."""
    return {
        maker: make_draft("acme", created_by=maker)
        for maker in ("lynx-agent", "acme-reviewer", "REV@acme.test")
    }


@pytest.mark.parametrize(
    "forged",
    [
        {"fingerprint": "'forged'"},
        {"payload": "'{}'"},
        {"risk_level": "'medium'"},
        {"from_status": "'draft'"},
        {"created_at": "now() - interval '1 day'"},
        {"round": "7"},
        {"decision": "'reject'", "reason": "'no'"},
    ],
)
def test_a_decision_copies_the_draft_as_it_is_now(reviewers, drafts, web_process, forged):
    draft, reviewer, me = (
        drafts["lynx-agent"],
        signed_in("acme-reviewer"),
        reviewers["acme-reviewer"],
    )
    assert inject(reviewer, recorded(draft, me, **forged)) == REFUSED
    assert inject(reviewer, recorded(draft, me)) == ACCEPTED


@pytest.mark.parametrize("maker", ["acme-reviewer", "REV@acme.test"])
def test_no_reviewer_approves_a_draft_they_made(reviewers, drafts, web_process, maker):
    draft, reviewer, me = drafts[maker], signed_in("acme-reviewer"), reviewers["acme-reviewer"]
    assert inject(reviewer, recorded(draft, me, to_status="'submitted'")) == REFUSED


def payment_needing(senior: Group) -> Draft:
    """A payment the rules say needs two approvals, one from a senior reviewer."""
    ApprovalRule.objects.create(
        tenant_id="acme",
        name="Large",
        draft_type=DraftType.VPM_PAYMENT,
        min_amount=1000,
        currency="EUR",
        approvals=2,
        required_group=senior,
    )
    return make_draft(
        "acme", draft_type=DraftType.VPM_PAYMENT, payload={"amount": "5000", "currency": "EUR"}
    )


@pytest.fixture
def large_payment(reviewers, senior) -> tuple[Draft, str]:
    """That payment, when acme-reviewer2 is a senior reviewer, and the fingerprint its page
    shows."""
    reviewers["acme-reviewer2"].groups.add(senior)
    draft = payment_needing(senior)
    return draft, fingerprint_of(draft)


@pytest.fixture
def no_senior_yet(reviewers, senior) -> Draft:
    return payment_needing(senior)


def test_the_last_approval_left_is_a_required_group_s(reviewers, no_senior_yet, web_process):
    """Neither acme reviewer is a senior one: the second may not take the place left."""
    draft = no_senior_yet
    first, second = (
        recorded(draft, reviewers[name], to_status="'submitted'")
        for name in ("acme-reviewer", "acme-reviewer2")
    )
    assert inject(signed_in("acme-reviewer"), first) == ACCEPTED
    assert inject(signed_in("acme-reviewer2"), second) == REFUSED


def test_the_pages_complete_a_draft_with_the_approvals_and_group_the_rules_ask(
    large_payment, web_process
):
    draft, seen = large_payment
    for username, status in [
        ("acme-reviewer", DraftStatus.SUBMITTED),
        ("acme-reviewer2", DraftStatus.APPROVED),
    ]:
        response = signed_in(username).post(QUEUE, confirmed_approval(draft, seen))
        assert response.status_code == 302
        assert status_of(draft) == status


@pytest.fixture
def counting_three(reviewers, high_risk_draft, settings):
    """acme-reviewer2 approved the high-risk draft, and the database asks three approvals of
    it where this process's LYNX_HIGH_RISK_APPROVALS asks two: a deploy that ran migrate
    with another setting (storage.E009)."""
    make_review(high_risk_draft, reviewers["acme-reviewer2"])
    with connect_as_superuser(connection.settings_dict["NAME"]) as owner:
        owner.execute(high_risk.function_sql(settings.LYNX_HIGH_RISK_APPROVALS + 1))
        yield high_risk_draft, fingerprint_of(high_risk_draft)
        owner.execute(high_risk.function_sql(settings.LYNX_HIGH_RISK_APPROVALS))


def test_a_decision_the_database_refuses_is_a_message_and_changes_nothing(
    counting_three, web_process
):
    draft, seen = counting_three
    response = signed_in("acme-reviewer").post(QUEUE, confirmed_approval(draft, seen), follow=True)
    assert response.status_code == 200
    assert messages_of(response) == [DATABASE_REFUSED]
    assert status_of(draft) == DraftStatus.SUBMITTED
    trail = "SELECT count(*) FROM lynx_draft_reviews WHERE draft_id = %s"
    assert as_owner(trail, [draft.pk]) == [(1,)]


# --- The default for high-risk drafts ---------------------------------------------------------


def test_migrate_gives_the_database_the_setting_s_high_risk_count(db, settings):
    """Run in the test's transaction (the owner's connection), which rolls the change back."""
    default = settings.LYNX_HIGH_RISK_APPROVALS
    assert check_high_risk_approvals() == []
    settings.LYNX_HIGH_RISK_APPROVALS = default + 1
    [error] = check_high_risk_approvals()
    assert isinstance(error, Error) and error.id == "storage.E009"
    assert (
        f"after {default} approvals; this process's LYNX_HIGH_RISK_APPROVALS is {default + 1}"
        in (error.msg)
    )
    high_risk.keep_function()  # what every migrate runs last
    with connection.cursor() as cursor:
        assert high_risk.database_approvals(cursor) == default + 1
    assert check_high_risk_approvals() == []

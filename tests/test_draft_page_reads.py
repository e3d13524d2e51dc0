"""A draft's page reads its trail and executions with the draft, as JSON turned back into
rows: the same values the ORM reads, and where the draft stands in review, read off them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from storage.choices import DraftStatus
from storage.models import Draft, Execution
from storage.review import selectors
from storage.review.rules import tenant_rules
from storage.tenancy import tenant_context
from tests.conftest import force_generic_plans, make_draft, make_execution, make_review

pytestmark = pytest.mark.django_db


def test_the_draft_pages_trail_and_executions_are_the_rows_the_orm_reads(reviewers):
    """Read as JSON with the draft, each value is what the ORM gives: times, ids, exact
    amounts, JSON of every kind, the reviewer's name."""
    draft = make_draft(
        "acme",
        draft_type="vpm_payment",
        payload={"amount": "0.10", "n": 0.1, "big": 12345678901234567890, "s": "x"},
    )
    earlier = timezone.now() - timedelta(hours=1)
    make_review(
        draft,
        reviewers["acme-reviewer2"],
        amount=Decimal("1250.10"),
        currency="EUR",
        created_at=earlier,
    )
    make_review(draft, reviewers["acme-auditor"], decision="reject", reason="no")
    make_execution(draft, result_payload="a JSON string", created_at=earlier)
    make_execution(draft, tool_id="vpm.pay", result_payload={"ok": True, "at": [1, 2.5]})
    with tenant_context("acme"):
        read = selectors.with_page_sections(drafts=Draft.objects.filter(pk=draft.pk)).get()
        trail, executions, _ = selectors.page_sections(draft=read)
        assert [vars_of(r) for r in trail] == [
            vars_of(r) for r in selectors.reviews_by_draft(drafts=[draft])[draft.pk]
        ]
        assert [r.reviewer.username for r in trail] == ["acme-auditor", "acme-reviewer2"]
        assert [vars_of(e) for e in executions] == [
            vars_of(e) for e in Execution.objects.filter(draft=draft).order_by("-created_at")
        ]


def test_the_draft_page_reads_the_same_review_state_as_the_queue(reviewers):
    """Rounds ended by a rejection or by a change of content, approvals of the current round
    only, in order, with their groups: the page's state, read off the trail, is the queue's."""
    reviewer, second = reviewers["acme-reviewer"], reviewers["acme-reviewer2"]
    start = timezone.now() - timedelta(hours=5)

    def decide(draft, who, hours, **fields):
        make_review(draft, who, created_at=start + timedelta(hours=hours), **fields)

    fresh = make_draft("acme")
    resubmitted = make_draft("acme")  # rejected in round 1, submitted again
    decide(resubmitted, second, 0)
    decide(resubmitted, reviewer, 1, decision="reject", reason="no", to_status="rejected")
    second_round = make_draft("acme")  # round 2 holds one approval so far
    decide(second_round, reviewer, 0, decision="reject", reason="no", to_status="rejected")
    decide(second_round, second, 1, round=2)
    two_approvals = make_draft("acme", risk_level="high")
    decide(two_approvals, second, 0)
    decide(two_approvals, reviewer, 1)
    edited = make_draft("acme")  # approved, then changed while still submitted
    decide(edited, second, 0)
    approved = make_draft("acme", status=DraftStatus.APPROVED)
    decide(approved, reviewer, 0, from_status="submitted")
    Draft.objects.filter(pk__in=[edited.pk, approved.pk]).update(payload={"title": "changed"})

    drafts = Draft.objects.filter(tenant_id="acme")
    rules = tenant_rules(tenant_id="acme")
    force_generic_plans()
    with tenant_context("acme"):
        queue = {
            d.pk: selectors.review_state(draft=d, rules=rules)
            for d in selectors.with_review_state(drafts=drafts)
        }
        page = {}
        for d in selectors.with_page_sections(drafts=drafts):
            trail, _, read = selectors.page_sections(draft=d)
            page[d.pk] = selectors.review_state_from_trail(draft=d, trail=trail, rules=read)
    assert page == queue
    made = {
        "fresh": fresh,
        "resubmitted": resubmitted,
        "second round": second_round,
        "two": two_approvals,
        "edited": edited,
        "approved": approved,
    }
    shown = {
        name: (page[d.pk].round, page[d.pk].progress.approvers, page[d.pk].changed_since_approval)
        for name, d in made.items()
    }
    assert shown == {
        "fresh": (1, (), False),
        "resubmitted": (2, (), False),
        "second round": (2, ("acme-reviewer2",), False),
        "two": (1, ("acme-reviewer2", "acme-reviewer"), False),
        "edited": (2, (), True),
        "approved": (1, ("acme-reviewer",), True),
    }
    both = page[two_approvals.pk]
    assert both.progress.approver_groups == {second.groups.get().pk}
    assert both.approver_ids == {reviewer.pk, second.pk}


def vars_of(row) -> dict:
    return {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields}

"""Many people deciding and settling the same rows at the same instant: one valid end state.

Each race starts three reviewers (two approving, one rejecting) on the same draft
behind a barrier, each on its own database connection, through the same service the
admin uses. Afterwards every draft is in one valid state, no approval is counted
twice, and the trail holds exactly one row per decision that reported a change. The
settlement races start three operators moving the same manual intent. LYNX_RACES
sets how many races (30 here; `make reliability` runs 1,000).
"""

import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from storage.actions import ActionRefused
from storage.choices import Decision, DraftStatus, RiskLevel
from storage.models import Draft, DraftReview, SettlementIntent
from storage.review import services as review
from storage.roles import REVIEWERS, SETTLEMENT_OPERATORS
from storage.settlement import services as settlement
from tests.conftest import make_draft
from tests.surface import report

pytestmark = pytest.mark.django_db(transaction=True)

RACES = int(os.environ.get("LYNX_RACES", "30"))
AT_ONCE = 4  # races run side by side, each with three connections
WAIT = 30


def race(contenders: list) -> list:
    """Run the callables at the same instant, each on its own connection; their results."""
    barrier = threading.Barrier(len(contenders))

    def run(contender):
        try:
            barrier.wait(WAIT)
            return contender()
        except ActionRefused as refusal:
            return refusal
        finally:
            connection.close()

    with ThreadPoolExecutor(len(contenders)) as pool:
        return list(pool.map(run, contenders))


def one_valid_history(draft: Draft, reviews: list, changed: int) -> bool:
    """One trail row per decision that changed something, each reviewer once, every row
    moving the draft on from where the previous left it, and the draft where the last left it:
    an approval after the approving one, or any decision after a rejection, would break it."""
    status = DraftStatus.SUBMITTED
    for row in reviews:
        if row.from_status != status or status != DraftStatus.SUBMITTED:
            return False
        status = row.to_status
    return (
        len(reviews) == changed
        and len({r.reviewer_id for r in reviews}) == len(reviews)
        and draft.status == status
        and sum(r.to_status == DraftStatus.APPROVED for r in reviews) <= 1
        and all(
            (r.decision == Decision.REJECT) == (r.to_status == DraftStatus.REJECTED)
            for r in reviews
        )
    )


@pytest.fixture
def deciders(tenants, make_user):
    return [make_user(f"acme-r{i}", tenant=tenants["acme"], groups=(REVIEWERS,)) for i in range(3)]


def test_concurrent_decisions_end_in_one_valid_state(deciders):
    drafts = [
        make_draft("acme", risk_level=RiskLevel.HIGH if i % 2 else RiskLevel.LOW)
        for i in range(RACES)
    ]
    plan = [Decision.APPROVE, Decision.APPROVE, Decision.REJECT]

    def one_race(draft: Draft) -> int:
        contenders = [
            lambda user=user, decision=decision: review.decide_drafts(
                user=user, draft_ids=[draft.pk], decision=decision, reason="race"
            )
            for user, decision in zip(deciders, plan, strict=True)
        ]
        return sum(outcomes[0].changes for outcomes in race(contenders))

    with ThreadPoolExecutor(AT_ONCE) as pool:
        changed = dict(zip([d.pk for d in drafts], pool.map(one_race, drafts), strict=True))
    endings, invalid = Counter(), []
    for draft in Draft.objects.filter(pk__in=changed):
        reviews = list(DraftReview.objects.filter(draft_id=draft.pk).order_by("created_at"))
        endings[draft.status] += 1
        if not one_valid_history(draft, reviews, changed[draft.pk]):
            invalid.append(draft.pk)
    report(
        "decision races",
        {
            "races": RACES,
            "reviewers_per_race": 3,
            "endings": dict(endings),
            "invalid": len(invalid),
        },
    )
    assert invalid == []
    assert sum(endings.values()) == RACES


def test_concurrent_settlement_moves_move_each_intent_once(tenants, make_user):
    operators = [
        make_user(f"acme-op{i}", tenant=tenants["acme"], groups=(SETTLEMENT_OPERATORS,))
        for i in range(3)
    ]
    races = max(RACES // 3, 10)
    ids = [f"race-{i}" for i in range(races)]
    for payment_id in ids:
        SettlementIntent.objects.create(payment_id=payment_id, tenant_id="acme", provider="manual")

    def one_race(payment_id: str) -> int:
        contenders = [
            lambda user=user: settlement.move_settlements(
                user=user, payment_ids=[payment_id], to_status="processing", note=user.username
            )
            for user in operators
        ]
        return sum(outcomes[0].changes for outcomes in race(contenders))

    with ThreadPoolExecutor(AT_ONCE) as pool:
        moved = list(pool.map(one_race, ids))
    notes = [len(i.metadata["notes"]) for i in SettlementIntent.objects.filter(pk__in=ids)]
    report("settlement races", {"races": races, "operators_per_race": 3, "moved": Counter(moved)})
    assert moved == [1] * races
    assert notes == [1] * races
    assert set(SettlementIntent.objects.values_list("settlement_status", flat=True)) == {
        "processing"
    }

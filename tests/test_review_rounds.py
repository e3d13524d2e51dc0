"""Review rounds: a new submission, or new content, starts a round; only its approvals count."""

import re

import pytest

from storage.choices import Decision, DraftStatus, RiskLevel
from storage.models import Draft, DraftReview
from storage.review import services
from storage.review.selectors import awaiting_review
from tests.conftest import make_draft

pytestmark = pytest.mark.django_db

APPROVE, REJECT = Decision.APPROVE, Decision.REJECT


def decide(user, draft, decision=APPROVE, reason="") -> str:
    [outcome] = services.decide_drafts(
        user=user, draft_ids=[draft.pk], decision=decision, reason=reason
    )
    return outcome.effect


def lynx_sets(draft: Draft, **fields) -> None:
    """What Lynx AI may do: move the draft on, or rewrite it."""
    Draft.objects.filter(pk=draft.pk).update(**fields)


def rounds(draft) -> list[tuple[int, str, str]]:
    reviews = DraftReview.objects.filter(draft_id=draft.pk).order_by("created_at")
    return [(r.round, r.reviewer.username, r.decision) for r in reviews]


def test_a_rejected_draft_submitted_again_starts_a_new_round(reviewers):
    first, second = reviewers["acme-reviewer"], reviewers["acme-reviewer2"]
    draft = make_draft("acme", risk_level=RiskLevel.HIGH)
    assert decide(first, draft).startswith("stays submitted with 1 of 2")
    assert decide(second, draft, REJECT, "payee unknown") == "rejected"
    lynx_sets(draft, status=DraftStatus.SUBMITTED)
    # The earlier approval no longer counts, and its reviewer may approve again.
    assert decide(first, draft) == (
        "stays submitted with 1 of 2 approvals; still needs 1 more approval"
    )
    assert decide(first, draft) == "skipped: you already approved this draft"
    assert decide(second, draft) == "approved"
    assert rounds(draft) == [
        (1, "acme-reviewer", "approve"),
        (1, "acme-reviewer2", "reject"),
        (2, "acme-reviewer", "approve"),
        (2, "acme-reviewer2", "approve"),
    ]


def test_an_approved_draft_submitted_again_needs_all_its_approvals_again(reviewers):
    first, second = reviewers["acme-reviewer"], reviewers["acme-reviewer2"]
    draft = make_draft("acme", risk_level=RiskLevel.HIGH)
    decide(first, draft)
    decide(second, draft)
    lynx_sets(draft, status=DraftStatus.SUBMITTED)
    assert decide(second, draft).startswith("stays submitted with 1 of 2 approvals")
    assert [r for r, *_ in rounds(draft)] == [1, 1, 2]


def test_new_content_during_review_starts_a_new_round(reviewers):
    """An approval is of what its reviewer saw: after a rewrite it no longer counts."""
    first, second = reviewers["acme-reviewer"], reviewers["acme-reviewer2"]
    draft = make_draft("acme", risk_level=RiskLevel.HIGH)
    decide(first, draft)
    lynx_sets(draft, payload={"title": "Rewritten by Lynx"})
    assert decide(second, draft).startswith("stays submitted with 1 of 2 approvals")
    assert decide(first, draft) == "approved"
    assert rounds(draft) == [
        (1, "acme-reviewer", "approve"),
        (2, "acme-reviewer2", "approve"),
        (2, "acme-reviewer", "approve"),
    ]


def test_a_draft_i_approved_awaits_me_again_once_a_new_round_starts(reviewers):
    """Rewritten content, or a rejection and a new submission, start a round: my approval of
    the one before no longer counts, so the draft is back in my queue."""
    first, second = reviewers["acme-reviewer"], reviewers["acme-reviewer2"]
    rewritten, resubmitted, approved = (
        make_draft("acme", risk_level=RiskLevel.HIGH, recommended_approvers=["acme-reviewer"])
        for _ in range(3)
    )
    for draft in (rewritten, resubmitted, approved):
        decide(first, draft)

    def awaiting_first() -> set:
        drafts = awaiting_review(drafts=Draft.objects.all(), user=first)
        return set(drafts.values_list("pk", flat=True))

    assert awaiting_first() == set()
    lynx_sets(rewritten, payload={"title": "Rewritten by Lynx"})
    decide(second, resubmitted, REJECT, "payee unknown")
    lynx_sets(resubmitted, status=DraftStatus.SUBMITTED)
    assert awaiting_first() == {rewritten.pk, resubmitted.pk}


def test_the_draft_page_shows_the_rounds_apart(client, reviewers):
    draft = make_draft("acme")
    decide(reviewers["acme-reviewer"], draft, REJECT, "wrong amount")
    lynx_sets(draft, status=DraftStatus.SUBMITTED)
    decide(reviewers["acme-reviewer2"], draft)
    client.force_login(reviewers["acme-auditor"])
    html = client.get(f"/admin/storage/draft/{draft.pk}/change/").text
    assert re.findall(r'<h3 class="trail-round">(Round \d)</h3>', html) == ["Round 2", "Round 1"]
    assert html.index("acme-reviewer2") < html.index("wrong amount")
    assert "Round 2: 1 of 1 approval (acme-reviewer2)" in html
    trail = client.get("/admin/storage/draftreview/").context["cl"].result_list
    assert [review.round for review in trail] == [2, 1]

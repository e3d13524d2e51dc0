"""The reviewer workflow's rules, through the one service that decides (storage.review.services)."""

import os
import subprocess
import sys

import pytest
from django.contrib.admin.models import CHANGE, LogEntry

from storage.actions import ActionRefused
from storage.choices import Decision, DraftStatus, RiskLevel
from storage.models import Draft, DraftReview
from storage.review import services
from storage.review.selectors import with_review_state
from tests.conftest import make_draft, make_review

pytestmark = pytest.mark.django_db

APPROVE, REJECT = Decision.APPROVE, Decision.REJECT


def decide(user, drafts, decision=APPROVE, reason="") -> dict[str, str]:
    """Decide, then say what became of each draft, keyed by its status now."""
    outcomes = services.decide_drafts(
        user=user, draft_ids=[d.pk for d in drafts], decision=decision, reason=reason
    )
    return {str(o.draft.pk): o.effect for o in outcomes}


def status_of(draft) -> str:
    return Draft.objects.get(pk=draft.pk).status


def test_one_approval_approves_a_low_risk_draft_and_leaves_a_trail(reviewers):
    reviewer = reviewers["acme-reviewer"]
    draft = make_draft("acme")
    assert decide(reviewer, [draft], reason=" looks right ") == {str(draft.pk): "approved"}
    assert status_of(draft) == DraftStatus.APPROVED
    review = DraftReview.objects.get()
    assert (review.tenant_id, review.reviewer, review.decision, review.reason) == (
        "acme",
        reviewer,
        APPROVE,
        "looks right",
    )
    assert (review.from_status, review.to_status) == ("submitted", "approved")
    log = LogEntry.objects.get()
    assert (log.user, log.object_id, log.action_flag) == (reviewer, str(draft.pk), CHANGE)
    assert log.get_change_message() == "Approve: approved."


def test_dual_control_needs_two_distinct_reviewers_for_high_risk(reviewers):
    first, second = reviewers["acme-reviewer"], reviewers["acme-reviewer2"]
    draft = make_draft("acme", risk_level=RiskLevel.HIGH)
    assert decide(first, [draft]) == {
        str(draft.pk): "stays submitted with 1 of 2 approvals; still needs 1 more approval"
    }
    assert status_of(draft) == DraftStatus.SUBMITTED
    again = decide(first, [draft])
    assert again == {str(draft.pk): "skipped: you already approved this draft"}
    assert DraftReview.objects.count() == 1
    assert decide(second, [draft]) == {str(draft.pk): "approved"}
    assert status_of(draft) == DraftStatus.APPROVED


def test_the_number_of_high_risk_approvals_is_a_setting(reviewers, make_user, tenants, settings):
    settings.LYNX_HIGH_RISK_APPROVALS = 3
    draft = make_draft("acme", risk_level=RiskLevel.HIGH)
    medium = make_draft("acme", risk_level=RiskLevel.MEDIUM)
    assert decide(reviewers["acme-reviewer"], [draft, medium]) == {
        str(draft.pk): "stays submitted with 1 of 3 approvals; still needs 2 more approvals",
        str(medium.pk): "approved",
    }
    assert decide(reviewers["acme-reviewer2"], [draft]) == {
        str(draft.pk): "stays submitted with 2 of 3 approvals; still needs 1 more approval"
    }


def test_one_rejection_rejects_at_once_even_after_an_approval(reviewers):
    draft = make_draft("acme", risk_level=RiskLevel.HIGH)
    decide(reviewers["acme-reviewer"], [draft])
    assert decide(reviewers["acme-reviewer2"], [draft], REJECT, "payee unknown") == {
        str(draft.pk): "rejected"
    }
    assert status_of(draft) == DraftStatus.REJECTED
    assert DraftReview.objects.filter(decision=REJECT).get().reason == "payee unknown"


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_a_rejection_without_reason_changes_nothing(reviewers, reason):
    draft = make_draft("acme")
    with pytest.raises(ActionRefused, match="Give a reason for the rejection."):
        decide(reviewers["acme-reviewer"], [draft], REJECT, reason)
    assert status_of(draft) == DraftStatus.SUBMITTED
    assert not DraftReview.objects.exists()
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize("created_by", ["acme-reviewer", "ACME-Reviewer", "Rev@Acme.test"])
def test_maker_is_never_checker_by_username_or_email_in_any_case(reviewers, created_by):
    draft = make_draft("acme", created_by=created_by)
    assert decide(reviewers["acme-reviewer"], [draft]) == {
        str(draft.pk): "skipped: you created this draft"
    }
    assert status_of(draft) == DraftStatus.SUBMITTED
    assert not DraftReview.objects.exists()


def test_only_submitted_drafts_change_and_the_others_say_why(reviewers):
    reviewer = reviewers["acme-reviewer"]
    decided = make_draft("acme")
    decide(reviewer, [decided])
    review = DraftReview.objects.get()
    stamp = f"{review.created_at:%Y-%m-%d %H:%M:%S} UTC"
    fresh = make_draft("acme")
    untouched = make_draft("acme", status=DraftStatus.DRAFT)
    outcome = decide(reviewers["acme-reviewer2"], [decided, fresh, untouched], REJECT, "no")
    assert outcome == {
        str(decided.pk): f"skipped: already approved by acme-reviewer at {stamp}",
        str(fresh.pk): "rejected",
        str(untouched.pk): "skipped: it is draft; only submitted drafts can be decided",
    }
    assert [status_of(d) for d in (decided, fresh, untouched)] == ["approved", "rejected", "draft"]


def test_users_outside_reviewers_are_refused_and_nothing_changes(reviewers):
    draft = make_draft("acme")
    with pytest.raises(ActionRefused, match="You may not approve or reject drafts."):
        decide(reviewers["acme-auditor"], [draft])
    with pytest.raises(ActionRefused, match="You may not approve or reject drafts."):
        services.preview_decisions(
            user=reviewers["acme-auditor"], draft_ids=[draft.pk], decision=APPROVE
        )
    assert status_of(draft) == DraftStatus.SUBMITTED
    assert not DraftReview.objects.exists()


def test_another_tenants_and_malformed_ids_are_ignored(reviewers):
    globex_draft = make_draft("globex")
    assert decide(reviewers["acme-reviewer"], [globex_draft]) == {}
    outcomes = services.decide_drafts(
        user=reviewers["acme-reviewer"], draft_ids=["not-a-uuid", ""], decision=APPROVE
    )
    assert outcomes == []
    assert status_of(globex_draft) == DraftStatus.SUBMITTED


def test_more_drafts_than_one_decision_may_lock_are_refused_whole(reviewers):
    drafts = [make_draft("acme") for _ in range(101)]
    for call in (services.decide_drafts, services.preview_decisions):
        with pytest.raises(ActionRefused, match="Choose at most 100 drafts at a time."):
            call(
                user=reviewers["acme-reviewer"], draft_ids=[d.pk for d in drafts], decision=APPROVE
            )
    assert not DraftReview.objects.exists()
    assert {d.status for d in Draft.objects.all()} == {DraftStatus.SUBMITTED}


def test_the_preview_tells_what_deciding_would_do_and_writes_nothing(reviewers):
    high = make_draft("acme", risk_level=RiskLevel.HIGH)
    own = make_draft("acme", created_by="acme-reviewer")
    previews = services.preview_decisions(
        user=reviewers["acme-reviewer"], draft_ids=[high.pk, own.pk], decision=APPROVE
    )
    assert {str(p.draft.pk): p.effect for p in previews} == {
        str(high.pk): "stays submitted with 1 of 2 approvals; still needs 1 more approval",
        str(own.pk): "skipped: you created this draft",
    }
    assert not DraftReview.objects.exists()


def refusals(user, draft) -> dict[str, str]:
    """Why `user` may not approve or reject `draft` now, as the draft page asks."""
    annotated = with_review_state(drafts=Draft.objects.filter(pk=draft.pk)).get()
    return services.decision_refusals(user=user, draft=annotated)


def test_the_draft_page_is_told_why_a_reviewer_may_not_decide(reviewers):
    reviewer = reviewers["acme-reviewer"]
    draft = make_draft("acme", risk_level=RiskLevel.HIGH)
    assert refusals(reviewer, draft) == {APPROVE: "", REJECT: ""}
    assert set(refusals(reviewers["acme-auditor"], draft).values()) == {"you are not a reviewer"}
    make_review(draft, reviewer)
    assert refusals(reviewer, draft) == dict.fromkeys(Decision, "you already approved this draft")
    assert refusals(reviewers["acme-reviewer2"], draft) == {APPROVE: "", REJECT: ""}
    own = make_draft("acme", created_by="Rev@Acme.test")
    assert refusals(reviewer, own) == dict.fromkeys(Decision, "you created this draft")


def test_a_high_risk_approval_count_below_one_is_refused_at_start():
    env = os.environ | {"LYNX_HIGH_RISK_APPROVALS": "0", "SECRET_KEY": "x"}
    result = subprocess.run(
        [sys.executable, "-c", "import lynxportal.settings"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert "LYNX_HIGH_RISK_APPROVALS must be 1 or more." in result.stderr

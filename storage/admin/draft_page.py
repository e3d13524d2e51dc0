"""A draft's page beyond its fields: what changed since its approval, whether the reviewer
may decide (and why not), its executions, and its decision trail round by round."""

import json
from dataclasses import dataclass
from itertools import groupby

from storage.choices import Decision
from storage.models import Draft, DraftReview
from storage.review import services
from storage.review.content import MISSING, content_changes
from storage.roles import REVIEW_PERMISSION


@dataclass(frozen=True)
class ShownChange:
    path: str
    kind: str
    approved: str
    now: str


@dataclass(frozen=True)
class DecisionButton:
    action: str  # the queue's admin action
    label: str
    refusal: str  # why the person may not take it now, or ""


def draft_page_context(*, request, draft: Draft, actions: dict[Decision, str]) -> dict:
    """The template context of the page's own sections; `draft` carries its `trail`,
    `newest_executions` (`page_sections`) and its `review_state`."""
    trail = draft.trail
    return {
        "changed_after": _changed_after_approval(draft, trail),
        "decision_buttons": _decision_buttons(request.user, draft, trail, actions),
        "executions": draft.newest_executions,
        "trail_rounds": [
            (number, list(reviews)) for number, reviews in groupby(trail, key=lambda r: r.round)
        ],
    }


def _changed_after_approval(draft: Draft, trail: list[DraftReview]) -> dict | None:
    """The newest approval and how the content differs from what it saw, if it does."""
    if not draft.review_state.changed_since_approval:
        return None
    approval = next(review for review in trail if review.decision == Decision.APPROVE)
    changes = content_changes(
        before={"payload": approval.payload, "source_context": approval.source_context},
        after={"payload": draft.payload, "source_context": draft.source_context},
    )
    return {
        "approval": approval,
        "changes": [
            ShownChange(change.path, change.kind, _shown(change.before), _shown(change.after))
            for change in changes
        ],
    }


def _shown(value) -> str:
    return "(none)" if value is MISSING else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _decision_buttons(
    user, draft: Draft, trail: list[DraftReview], actions: dict[Decision, str]
) -> list[DecisionButton]:
    """Reviewers see both buttons, and why one is not open to them; others see none."""
    if not user.has_perm(REVIEW_PERMISSION):
        return []
    refusals = services.decision_refusals(
        user=user, draft=draft, state=draft.review_state, trail=trail
    )
    return [
        DecisionButton(action, Decision(decision).label, refusals[decision])
        for decision, action in actions.items()
    ]

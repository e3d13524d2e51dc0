"""The demo's decision trail: the decisions that made each reviewed draft what it is.

Approved, published and executed drafts carry the approvals their rules asked for
(storage.review.rules decides how many and from whom, as it would in the portal),
rejected ones their rejection (after a first approval when two were needed), and
half the high-risk drafts in the queue a first approval. Nobody decides on a draft
they created. One approved payment per tenant is then changed by "Lynx AI", so that
the portal shows a change after approval.

Built in memory from the drafts, the reviewers and the tenant's rules, with a Random
seeded per tenant: loading again makes the same rows. The fingerprints are left
empty here; the loader has PostgreSQL compute them from each decision's snapshot.
"""

import copy
import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from demo.generator import TRIES_WITHIN
from storage.choices import Decision, DraftStatus, DraftType, RiskLevel
from storage.models import ApprovalRule, Draft, DraftReview, User
from storage.review.content import payment_terms
from storage.review.rules import Progress, requirement_for

NAMESPACE = uuid.UUID("9b1f3c0a-6d2e-4f7b-8c5a-2e4d6f8a0b1c")
APPROVED = {DraftStatus.APPROVED, DraftStatus.PUBLISHED, DraftStatus.EXECUTED}
REJECTIONS = (
    "The payee's bank details do not match the contract.",
    "Amount differs from the purchase order.",
    "Needs the figures from finance first.",
    "Not what the requester asked for.",
)
# Decisions fall after Lynx checked the draft and before it acted on it (demo.generator).
DECIDED_WITHIN = (0.31, 0.39)
CHANGED_BY = Decimal("4800.00")  # what "Lynx AI" adds to a payment after its approval


@dataclass(frozen=True)
class Reviewer:
    user: User
    group_ids: frozenset[int]


def demo_decisions(
    drafts: list[Draft],
    *,
    reviewers: list[Reviewer],
    rules: list[ApprovalRule],
    now: datetime,
    seed: str,
) -> list[DraftReview]:
    """One tenant's trail rows (unsaved); changes one approved payment's payload in place."""
    if not drafts:
        return []
    maker = _TrailMaker(drafts[0].tenant_id, reviewers, rules, now=now, seed=seed)
    reviews = [review for draft in drafts for review in maker.decisions(draft)]
    changed = next(
        draft
        for draft in drafts
        if draft.draft_type == DraftType.VPM_PAYMENT and draft.status == DraftStatus.APPROVED
    )
    amount = payment_terms(payload=changed.payload).amount or Decimal(0)
    changed.payload = changed.payload | {"amount": f"{amount + CHANGED_BY:.2f}"}
    return reviews


class _TrailMaker:
    def __init__(self, tenant_id: str, reviewers, rules, *, now: datetime, seed: str) -> None:
        self.tenant_id = tenant_id
        self.reviewers = reviewers
        self.rules = rules
        self.now = now
        self.rng = random.Random(f"{seed}/{tenant_id}/decisions")
        self.count = 0

    def decisions(self, draft: Draft) -> list[DraftReview]:
        maker = draft.created_by.casefold()
        pool = [r for r in self.reviewers if r.user.username.casefold() != maker]
        self.rng.shuffle(pool)
        progress = Progress(requirement_for(draft=draft, rules=self.rules))
        if draft.status in APPROVED:
            steps = self._approvals(progress, pool, complete=True)
            return self._rows(draft, steps, last_to=DraftStatus.APPROVED)
        if draft.status == DraftStatus.REJECTED:
            approvals = self._approvals(progress, pool, complete=False)
            approvers = {reviewer for reviewer, _ in approvals}
            rejecter = next(reviewer for reviewer in pool if reviewer not in approvers)
            steps = [*approvals, (rejecter, Decision.REJECT)]
            return self._rows(draft, steps, last_to=DraftStatus.REJECTED)
        in_queue = draft.status == DraftStatus.SUBMITTED and draft.risk_level == RiskLevel.HIGH
        if in_queue and self.rng.random() < 0.5:
            return self._rows(draft, self._approvals(progress, pool, complete=False))
        return []

    def _approvals(self, progress: Progress, pool: list[Reviewer], *, complete: bool) -> list:
        """Approvals the rules accept, one per reviewer: all it takes to complete the
        draft, or a first one that does not complete it (none if one would)."""
        steps = []
        for reviewer in pool:
            if progress.complete or (steps and not complete):
                break
            if progress.approval_refusal(group_ids=reviewer.group_ids):
                continue
            after = progress.with_approval(
                username=reviewer.user.username, group_ids=reviewer.group_ids
            )
            if after.complete and not complete:
                break
            progress = after
            steps.append((reviewer, Decision.APPROVE))
        if complete and not progress.complete:
            raise ValueError(f"The demo reviewers cannot approve: {progress.summary}.")
        return steps

    def _rows(self, draft: Draft, steps, *, last_to: str = DraftStatus.SUBMITTED) -> list:
        window = min(self.now - draft.created_at, TRIES_WITHIN)
        moments = sorted(
            draft.created_at + window * self.rng.uniform(*DECIDED_WITHIN) for _ in steps
        )
        is_payment = draft.draft_type == DraftType.VPM_PAYMENT
        terms = payment_terms(payload=draft.payload) if is_payment else None
        rows = []
        for index, ((reviewer, decision), at) in enumerate(zip(steps, moments, strict=True)):
            self.count += 1
            rows.append(
                DraftReview(
                    review_id=uuid.uuid5(NAMESPACE, f"{self.tenant_id}/review/{self.count}"),
                    tenant_id=self.tenant_id,
                    draft_id=draft.draft_id,
                    reviewer=reviewer.user,
                    decision=decision,
                    reason=self.rng.choice(REJECTIONS) if decision == Decision.REJECT else "",
                    from_status=DraftStatus.SUBMITTED,
                    to_status=last_to if index == len(steps) - 1 else DraftStatus.SUBMITTED,
                    created_at=at,
                    round=1,
                    draft_type=draft.draft_type,
                    risk_level=draft.risk_level,
                    amount=terms.amount if terms else None,
                    currency=terms.currency if terms else None,
                    payload=copy.deepcopy(draft.payload),
                    source_context=copy.deepcopy(draft.source_context),
                    fingerprint="",
                )
            )
        return rows

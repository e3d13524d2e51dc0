"""Deciding on drafts: the reviewer workflow's rules, checked on the server for every draft.

The bulk actions, the draft page's buttons and the tests all call
`decide_drafts()`; the confirmation page shows `preview_decisions()`, which
applies the same rules without writing. Every rule is checked for every draft,
with the draft's row locked: only submitted drafts, maker ≠ checker, one
approval per reviewer and round, the approval rules (storage.review.rules),
and, when the caller says what the reviewer saw, the same content.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from uuid import UUID

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import DatabaseError, connection
from django.db.models import QuerySet
from psycopg import errors

from storage.actions import MOST_AT_ONCE, ActionRefused, Outcome, at_most
from storage.choices import Decision, DraftStatus, DraftType
from storage.models import Draft, DraftReview, User
from storage.moments import format_moment
from storage.people.backend import group_ids
from storage.review.content import payment_terms
from storage.review.rules import Progress, rules_read_with, tenant_rules, with_tenant_rules
from storage.review.selectors import (
    ReviewState,
    review_state,
    reviewer_identities,
    reviews_by_draft,
    with_review_state,
)
from storage.roles import REVIEW_PERMISSION
from storage.rows import parse_uuid, tenant_rows
from storage.tenancy import runs_as_tenant, tenant_context

PAST_TENSE = {Decision.APPROVE: "approved", Decision.REJECT: "rejected"}
DATABASE_REFUSED = (
    "The database refused these decisions, so none was made: it counts the approval rules "
    "otherwise than this page. Ask an administrator to run manage.py check --deploy."
)
CHANGED_WHILE_REVIEWING = "this draft changed while you were reviewing it"


@dataclass(frozen=True)
class DecisionOutcome(Outcome):
    """What a decision does (or would do) to one draft, or why it leaves the draft alone."""

    to_status: str = ""
    progress: Progress | None = None  # the round's approvals, this one included if it counts
    round: int = 1

    @property
    def draft(self) -> Draft:
        return self.subject

    def change(self) -> str:
        if self.to_status == DraftStatus.SUBMITTED:
            return f"stays submitted with {self.progress.summary}"
        return DraftStatus(self.to_status).label.lower()


@dataclass(frozen=True)
class _Context:
    """What every draft's rules are checked against: the reviewer, and the tenant's rules."""

    user: User
    group_ids: frozenset[int]
    rules: list
    trails: dict[UUID, list[DraftReview]]


def decision_refusals(
    *,
    user: User,
    draft: Draft,
    state: ReviewState | None = None,
    trail: list[DraftReview] | None = None,
) -> dict[Decision, str]:
    """For the draft page: why `user` may not approve, and may not reject, now ("" if they may).

    `draft` comes from a queryset annotated by `with_review_state`. Its `state` under the
    tenant's rules and its `trail` (newest first) are read here unless the page has them.
    """
    if not user.has_perm(REVIEW_PERMISSION):
        return dict.fromkeys(Decision, "you are not a reviewer")
    if trail is None:
        trail = reviews_by_draft(drafts=[draft])[draft.pk]
    if state is None:
        state = review_state(draft=draft, rules=tenant_rules(tenant_id=user.tenant_id))
    context = _Context(
        user=user,
        group_ids=group_ids(user=user),
        rules=[],
        trails={draft.pk: trail},  # state given
    )
    return {
        decision: _refusal(context, draft, state, decision, seen=None)[0] for decision in Decision
    }


def preview_decisions(
    *, user: User, draft_ids: Sequence[UUID | str] | QuerySet, decision: Decision
) -> list[DecisionOutcome]:
    """What `decide_drafts()` would do now, for the confirmation page. Writes nothing.

    `draft_ids` may be a queryset of drafts' ids (a list's selection): it is then read with
    the drafts, as a subquery, and more than MOST_AT_ONCE of them are refused all the same.
    Each outcome's `token` is the draft's fingerprint: post it back as `seen`.
    """
    _require_reviewer(user)
    with _reading_as_tenant(user.tenant_id):
        if isinstance(draft_ids, QuerySet):
            chosen = _tenant_drafts(user).filter(pk__in=draft_ids[: MOST_AT_ONCE + 1])
            drafts = at_most(_with_state(user, chosen), noun="drafts")
        else:
            drafts = _with_state(user, _drafts(user, draft_ids))
        return _outcomes(user, drafts, decision, seen=None)


def decide_drafts(
    *,
    user: User,
    draft_ids: Sequence[UUID | str],
    decision: Decision,
    reason: str = "",
    seen: Mapping[str, str] | None = None,
) -> list[DecisionOutcome]:
    """Approve or reject the drafts, record each decision, and say what became of each.

    Runs as the RLS role in the caller's transaction (or its own), with the
    drafts' rows locked in primary-key order: a concurrent decision on the same
    draft waits, then sees this one. `seen` maps draft ids to the fingerprints
    the reviewer was shown: a draft whose content is no longer that is left
    alone (its outcome is `stale`). Unknown and other tenants' ids are ignored;
    more than MOST_AT_ONCE ids are refused, since each lock is held until the
    transaction ends. If the database refuses a decision (migration 0032 checks each
    again), none is made: ActionRefused.
    """
    _require_reviewer(user)
    reason = reason.strip()
    if decision == Decision.REJECT and not reason:
        raise ActionRefused("Give a reason for the rejection.", field="reason")
    try:
        with tenant_context(user.tenant_id):
            locked = list(_drafts(user, draft_ids).select_for_update().values_list("pk", flat=True))
            # Read after the locks, in a new statement: decisions that committed meanwhile count.
            drafts = _with_state(user, _tenant_drafts(user).filter(pk__in=locked))
            outcomes = _outcomes(user, drafts, decision, seen=seen)
            _record(user, decision, reason, [outcome for outcome in outcomes if outcome.changes])
    except DatabaseError as error:
        # The database checks every decision again (migration 0032); it disagrees with the
        # rules above only when it was set up differently (storage.checks, storage.E009).
        if not isinstance(error.__cause__, errors.InsufficientPrivilege):
            raise
        raise ActionRefused(DATABASE_REFUSED) from None
    return outcomes


def _require_reviewer(user) -> None:
    if not (user.tenant_id and user.has_perm(REVIEW_PERMISSION)):
        raise ActionRefused("You may not approve or reject drafts.", forbidden=True)


def _reading_as_tenant(tenant_id: str) -> AbstractContextManager:
    """For reads: `tenant_context(tenant_id)`, or nothing at all (no savepoint) when the caller's
    transaction runs as that tenant already, as a request's does."""
    return nullcontext() if runs_as_tenant(tenant_id) else tenant_context(tenant_id)


def _tenant_drafts(user) -> QuerySet:
    return tenant_rows(Draft, tenant_id=user.tenant_id).order_by("pk")


def _drafts(user, draft_ids: Sequence[UUID | str]) -> QuerySet:
    ids = [parse_uuid(value=value) for value in at_most(draft_ids, noun="drafts")]
    return _tenant_drafts(user).filter(pk__in=[draft_id for draft_id in ids if draft_id])


def _with_state(user, drafts: QuerySet) -> list[Draft]:
    """The drafts with what `review_state` reads, their tenant's rules included: one statement."""
    drafts = with_review_state(drafts=drafts)
    return list(with_tenant_rules(drafts=drafts, tenant_id=user.tenant_id))


def _context(user, drafts: list[Draft]) -> _Context:
    """The rules read with the drafts (`_with_state`), and the trails of the drafts out of
    review (only their refusals name who decided them, `_status_refusal`): a queue's selection
    costs no read of the trail."""
    return _Context(
        user=user,
        group_ids=group_ids(user=user),
        rules=rules_read_with(draft=drafts[0]) if drafts else [],
        trails=reviews_by_draft(drafts=[d for d in drafts if d.status != DraftStatus.SUBMITTED]),
    )


def _outcomes(user, drafts: list[Draft], decision: Decision, *, seen) -> list[DecisionOutcome]:
    context = _context(user, drafts)
    return [_outcome(context, draft, decision, seen) for draft in drafts]


def _outcome(context: _Context, draft: Draft, decision: Decision, seen) -> DecisionOutcome:
    state = review_state(draft=draft, rules=context.rules)
    shown = {"token": draft.content_fingerprint, "round": state.round}
    refusal, stale = _refusal(context, draft, state, decision, seen=seen)
    if refusal:
        return DecisionOutcome(draft, refusal, stale=stale, progress=state.progress, **shown)
    if decision == Decision.REJECT:
        return DecisionOutcome(
            draft, to_status=DraftStatus.REJECTED, progress=state.progress, **shown
        )
    progress = state.progress.with_approval(
        username=context.user.username, group_ids=context.group_ids
    )
    to_status = DraftStatus.APPROVED if progress.complete else DraftStatus.SUBMITTED
    return DecisionOutcome(draft, to_status=to_status, progress=progress, **shown)


def _refusal(
    context: _Context, draft: Draft, state: ReviewState, decision: Decision, *, seen
) -> tuple[str, bool]:
    """Why the reviewer may not take `decision` on `draft` now ("" if they may), and whether
    that is because the draft changed since they saw it."""
    if draft.status != DraftStatus.SUBMITTED:
        return _status_refusal(draft, context.trails.get(draft.pk, [])), False
    if seen is not None and seen.get(str(draft.pk)) != draft.content_fingerprint:
        return CHANGED_WHILE_REVIEWING, True
    if draft.created_by.casefold() in reviewer_identities(user=context.user):
        return "you created this draft", False
    if context.user.pk in state.approver_ids:
        return "you already approved this draft", False
    if decision == Decision.APPROVE:
        return state.progress.approval_refusal(group_ids=context.group_ids), False
    return "", False


def _status_refusal(draft: Draft, reviews: list[DraftReview]) -> str:
    status = draft.get_status_display().lower()
    last = next((review for review in reviews if review.to_status == draft.status), None)
    if last is None:
        return f"it is {status}; only submitted drafts can be decided"
    return f"already {status} by {last.reviewer.username} at {format_moment(last.created_at)}"


def _record(user, decision: Decision, reason: str, decided: list[DecisionOutcome]) -> None:
    """The trail rows, the status changes and Django's admin log entries, for decided drafts."""
    _trail_rows(user, decision, reason, decided)
    moved = defaultdict(list)
    logged = defaultdict(list)
    for outcome in decided:
        if outcome.to_status != outcome.draft.status:
            moved[outcome.to_status].append(outcome.draft.pk)
        logged[f"{Decision(decision).label}: {outcome.effect}."].append(outcome.draft)
    for status, pks in moved.items():
        tenant_rows(Draft, tenant_id=user.tenant_id).filter(pk__in=pks).update(status=status)
    for message, drafts in logged.items():
        LogEntry.objects.log_actions(
            user_id=user.pk, queryset=drafts, action_flag=CHANGE, change_message=message
        )


TRAIL_ROWS = f"""
    INSERT INTO {DraftReview._meta.db_table} (
        tenant_id, draft_id, reviewer_id, decision, reason, from_status, to_status, created_at,
        round, draft_type, risk_level, amount, currency, payload, source_context, fingerprint)
    SELECT draft.tenant_id, draft.draft_id, %s, %s, %s, draft.status, decided.to_status,
        statement_timestamp(), decided.round, draft.draft_type, draft.risk_level,
        decided.amount, decided.currency, draft.payload, draft.source_context, decided.fingerprint
    FROM unnest(%s::uuid[], %s::text[], %s::int[], %s::numeric[], %s::text[], %s::text[])
        AS decided(draft_id, to_status, round, amount, currency, fingerprint)
    JOIN {Draft._meta.db_table} draft
        ON draft.tenant_id = %s AND draft.draft_id = decided.draft_id
"""


def _trail_rows(user, decision: Decision, reason: str, decided: list[DecisionOutcome]) -> None:
    """Every decision with its snapshot of the draft, in one statement: type, risk, status and
    content are the locked row's, copied by the database exactly as fingerprinted (no round
    trip through Python's JSON); `created_at` is the statement's time, after the row locks, so
    that the trail's order is the order decisions were made in."""
    if not decided:
        return
    terms = [
        payment_terms(payload=o.draft.payload)
        if o.draft.draft_type == DraftType.VPM_PAYMENT
        else None
        for o in decided
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            TRAIL_ROWS,
            [
                user.pk,
                Decision(decision).value,
                reason,
                [o.draft.pk for o in decided],
                [o.to_status for o in decided],
                [o.round for o in decided],
                [t.amount if t else None for t in terms],
                [t.currency if t else None for t in terms],
                [o.token for o in decided],
                user.tenant_id,
            ],
        )

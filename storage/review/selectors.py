"""Reads of the reviewer workflow: where drafts stand, the queue, trails, searches, reviewers."""

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple
from uuid import UUID

from django.contrib.postgres.fields import ArrayField
from django.db.models import (
    BooleanField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    TextField,
)

from storage.choices import Decision, DraftStatus
from storage.models import ApprovalRule, Draft, DraftReview, Execution, User
from storage.review.content import ContentFingerprint
from storage.review.rounds import LastDecision, next_round, round_ended
from storage.review.rules import Progress, requirement_for, rules_from_dicts
from storage.rows import OnRow, parse_json_rows, rows_from_dicts


def reviewer_identities(*, user: User) -> set[str]:
    """The names `user` may appear under in `created_by`: username and email, case-folded."""
    return {name.casefold() for name in (user.username, user.email) if name}


TRAIL, DRAFTS, USERS, MEMBERSHIPS = (
    DraftReview._meta.db_table,
    Draft._meta.db_table,
    User._meta.db_table,
    User.groups.through._meta.db_table,
)
OF_ROW = 'trail.tenant_id = {row}."tenant_id" AND trail.draft_id = {row}."draft_id"'
NEWEST = "ORDER BY trail.created_at DESC LIMIT 1"
LAST_ROUND = f"(SELECT trail.round FROM {TRAIL} trail WHERE {OF_ROW} {NEWEST})"
APPROVE = [Decision.APPROVE.value]


def _newest(columns: str, output_field, *, approvals_only: bool = False) -> OnRow:
    """Columns of the draft's newest decision (or newest approval), read once."""
    approval = " AND trail.decision = %s" if approvals_only else ""
    return OnRow(
        f"(SELECT {columns} FROM {TRAIL} trail WHERE {OF_ROW}{approval} {NEWEST})",
        output_field,
        APPROVE if approvals_only else [],
    )


# The approvals of the newest decision's round, in one read: their reviewers' names (in
# order), ids and groups, as a JSON array of three arrays (null where there are none).
ROUND_APPROVALS = OnRow(
    "(SELECT json_build_array(array_agg(reviewer.username ORDER BY trail.created_at), "
    "array_agg(trail.reviewer_id), "
    f"(SELECT array_agg(DISTINCT membership.group_id) FROM {MEMBERSHIPS} membership "
    "WHERE membership.user_id = ANY(array_agg(trail.reviewer_id))))::text "
    f"FROM {TRAIL} trail JOIN {USERS} reviewer ON reviewer.id = trail.reviewer_id "
    f"WHERE {OF_ROW} AND trail.decision = %s AND trail.round = {LAST_ROUND})",
    TextField(),
    APPROVE,
)

# What review_state() reads, built once (fields and expressions cost to build, every page).
# Each read of the trail is a descent of its (tenant_id, draft_id, created_at) index per
# draft: one for the newest decision, one for the newest approval, two for the round's.
REVIEW_STATE = {
    "content_fingerprint": ContentFingerprint(),
    "last_decision": _newest(
        "ARRAY[trail.round::text, trail.to_status, trail.fingerprint]", ArrayField(TextField())
    ),
    "approved_fingerprint": _newest("trail.fingerprint", TextField(), approvals_only=True),
    "round_approvals": ROUND_APPROVALS,
}


def with_review_state(*, drafts: QuerySet) -> QuerySet:
    """Annotate what `review_state()` needs, in the same query: the list's query count stays
    constant. Each subquery reads the trail through its (tenant_id, draft_id, created_at) index.

    `content_fingerprint` is the draft's content now; `last_decision` its newest decision
    (round, status after it, fingerprint); `round_approvals` the approvals of that
    decision's round; `approved_fingerprint` the content its newest approval saw.
    """
    if "last_decision" in drafts.query.annotations:
        return drafts  # annotated already
    return drafts.annotate(**REVIEW_STATE)


@dataclass(frozen=True)
class ReviewState:
    """Where one draft stands in review, from `with_review_state()`'s annotations."""

    round: int  # the round a decision made now belongs to
    progress: Progress  # this round's approvals against the draft's rules
    approver_ids: frozenset[int]  # who approved in this round
    changed_since_approval: bool  # its content differs from what its newest approval saw


def review_state(*, draft: Draft, rules: Sequence[ApprovalRule]) -> ReviewState:
    """Where `draft` (annotated by `with_review_state`) stands under its tenant's `rules`.

    The queue, the draft page and `decide_drafts` all read it here: approvals of
    a round that has ended (storage.review.rounds) no longer count.
    """
    newest = draft.last_decision
    return _review_state(
        draft=draft,
        rules=rules,
        last=LastDecision(int(newest[0]), newest[1], newest[2]) if newest else None,
        approved_fingerprint=draft.approved_fingerprint,
        approvals=lambda: round_approvals(draft=draft),
    )


def review_state_from_trail(
    *, draft: Draft, trail: Sequence[DraftReview], rules: Sequence[ApprovalRule]
) -> ReviewState:
    """`review_state()` read off the draft's whole trail, as `page_sections()` gives it (newest
    first, each reviewer's group ids): the draft's page reads the trail anyway, and the
    three review-state subqueries cost its statement more to plan than to run.

    The same reads as `REVIEW_STATE`'s: the newest decision, the newest approval's
    fingerprint, and the newest decision's round's approvals in the order they were made.
    """
    last = LastDecision(trail[0].round, trail[0].to_status, trail[0].fingerprint) if trail else None
    approvals = [review for review in trail if review.decision == Decision.APPROVE]

    def this_round() -> tuple[list, list, list]:
        made = [r for r in reversed(approvals) if r.round == last.round] if last else []
        return (
            [review.reviewer.username for review in made],
            [review.reviewer_id for review in made],
            [group for review in made for group in review.reviewer.group_ids],
        )

    return _review_state(
        draft=draft,
        rules=rules,
        last=last,
        approved_fingerprint=approvals[0].fingerprint if approvals else None,
        approvals=this_round,
    )


def _review_state(
    *,
    draft: Draft,
    rules: Sequence[ApprovalRule],
    last: LastDecision | None,
    approved_fingerprint: str | None,
    approvals: Callable[[], tuple[list | None, list | None, list | None]],
) -> ReviewState:
    """The state from the newest decision, the newest approval's fingerprint and, read only
    when the round is still open, its approvals' names, ids and groups."""
    fingerprint = draft.content_fingerprint
    ended = round_ended(status=draft.status, fingerprint=fingerprint, last=last)
    names, ids, groups = (None, None, None) if ended else approvals()
    progress = Progress(
        requirement_for(draft=draft, rules=rules),
        approvers=tuple(names or ()),
        approver_groups=frozenset(groups or ()),
    )
    return ReviewState(
        round=next_round(status=draft.status, fingerprint=fingerprint, last=last),
        progress=progress,
        approver_ids=frozenset(ids or ()),
        changed_since_approval=approved_fingerprint not in (None, fingerprint),
    )


def round_approvals(*, draft: Draft) -> tuple[list | None, list | None, list | None]:
    """The names (in order), ids and groups of the approvers of the draft's newest round."""
    return tuple(json.loads(draft.round_approvals)) if draft.round_approvals else (None,) * 3


# The tenant's newest approval of each draft, and whether the draft's content is still what
# it saw. Read from the approvals (a few of the drafts), each draft looked up by its key.
# Content stored as the approval's own copy's bytes is unchanged (equal bytes, equal text,
# equal fingerprint): only the rest is fingerprinted, which costs far more than comparing.
CHANGED_SINCE_APPROVAL = (
    '{row}."draft_id" = ANY(ARRAY(SELECT approval.draft_id FROM ('
    "SELECT trail.tenant_id, trail.draft_id, trail.created_at, trail.fingerprint, "
    "ROW(trail.payload, trail.source_context) AS content "
    f"FROM {TRAIL} trail WHERE trail.tenant_id = %s AND trail.decision = %s) approval "
    f"WHERE NOT EXISTS (SELECT FROM {TRAIL} newer WHERE newer.tenant_id = approval.tenant_id "
    "AND newer.draft_id = approval.draft_id AND newer.decision = %s "
    "AND newer.created_at > approval.created_at) "
    "AND (SELECT CASE WHEN ROW(draft.payload, draft.source_context) *= approval.content "
    f"THEN false ELSE approval.fingerprint <> {ContentFingerprint.of_row('draft')} END "
    f"FROM {DRAFTS} draft WHERE draft.tenant_id = approval.tenant_id "
    "AND draft.draft_id = approval.draft_id)))"
)


def changed_since_approval(*, drafts: QuerySet, tenant_id: str) -> QuerySet:
    """Drafts of `tenant_id` whose content differs from what their newest approval saw.

    Read from the approvals, not from the drafts: the tenant's approved drafts are a few of
    its drafts, and only they are compared (a decision's copy of the content is the locked
    row's, exactly as its fingerprint was taken: storage.review.services).
    """
    return drafts.filter(
        OnRow(CHANGED_SINCE_APPROVAL, BooleanField(), [tenant_id, *APPROVE, *APPROVE])
    )


def approved_this_round(*, user: User) -> OnRow:
    """Whether `user` approved the draft in its current round: a round not ended by a decision
    out of review nor by a change of content since its newest decision.

    Asked as "is the draft among those the user approved this round": a set PostgreSQL builds
    once per query from the user's own approvals and probes for each draft. Nothing is
    read per draft but its id, so counting a queue reads idx_lynx_drafts_submitted alone.
    The set grows with the user's approvals, so those that moved their draft out of review
    are skipped before the trail is read for them: such an approval ended its round (any
    later decision belongs to a later round, storage.review.rounds).
    """
    newest = (
        f"FROM {TRAIL} trail WHERE trail.tenant_id = mine.tenant_id "
        f"AND trail.draft_id = mine.draft_id {NEWEST}"
    )
    content = ContentFingerprint.of_row("approved")
    return OnRow(
        '{row}."draft_id" IN ('
        f"SELECT mine.draft_id FROM {TRAIL} mine JOIN {DRAFTS} approved "
        "ON approved.tenant_id = mine.tenant_id AND approved.draft_id = mine.draft_id "
        "WHERE mine.tenant_id = %s AND mine.reviewer_id = %s AND mine.decision = %s "
        "AND mine.to_status = %s "
        f"AND mine.round = (SELECT trail.round {newest}) "
        f"AND (SELECT trail.to_status {newest}) = %s "
        f"AND (SELECT trail.fingerprint {newest}) = {content})",
        BooleanField(),
        [
            user.tenant_id,
            user.pk,
            Decision.APPROVE.value,
            DraftStatus.SUBMITTED.value,
            DraftStatus.SUBMITTED.value,
        ],
    )


def awaiting_review(*, drafts: QuerySet, user: User) -> QuerySet:
    """Submitted drafts that list `user` as an approver, not made by them, and that they have
    not approved in the current round.

    `recommended_approvers` match the username or email exactly; `created_by`
    matches either case-insensitively, as the maker-checker rule does. Nothing is annotated:
    counting the queue reads no draft's review state, the list annotates only its page.
    """
    names = [name for name in (user.username, user.email) if name]
    made_by_user = Q()
    for name in names:
        made_by_user |= Q(created_by__iexact=name)
    return (
        drafts.filter(status=DraftStatus.SUBMITTED, recommended_approvers__overlap=names)
        .exclude(made_by_user)
        .exclude(approved_this_round(user=user))
    )


# What `with_page_sections` annotates, built once: the fingerprint written out as SQL costs less
# to compile than ContentFingerprint's expression, on every draft page.
PAGE_SECTIONS = {
    "content_fingerprint": OnRow(ContentFingerprint.of_row("{row}"), TextField()),
    "page_sections": OnRow(
        'portal_draft_sections({row}."tenant_id", {row}."draft_id")', TextField()
    ),
}


class PageSections(NamedTuple):
    """What a draft's page shows besides the draft, as `page_sections()` reads it."""

    trail: list[DraftReview]  # newest first, each reviewer with their name and `group_ids`
    executions: list[Execution]  # the newest 50
    rules: list[ApprovalRule]  # the tenant's approval rules, as `tenant_rules` gives them


def with_page_sections(*, drafts: QuerySet) -> QuerySet:
    """Annotate what a draft's page shows besides the draft, read by the draft's own
    statement: its content's fingerprint and, through `portal_draft_sections` (migration 0023:
    a function, whose plans PostgreSQL keeps), its decision trail, newest executions and
    tenant's rules. `page_sections()` gives those back, `review_state_from_trail()` where the
    draft stands."""
    return drafts.annotate(**PAGE_SECTIONS)


def page_sections(*, draft: Draft) -> PageSections:
    """What `with_page_sections` read with `draft`, as rows."""
    found = parse_json_rows(found=draft.page_sections)
    trail = rows_from_dicts(model=DraftReview, found=found["trail"])
    for review, row in zip(trail, found["trail"], strict=True):
        review.reviewer = User(pk=review.reviewer_id, username=row["reviewer_username"])
        review.reviewer.group_ids = row["reviewer_group_ids"] or []
    executions = rows_from_dicts(model=Execution, found=found["executions"])
    return PageSections(trail, executions, rules_from_dicts(found=found["rules"]))


def reviews_by_draft(*, drafts: list[Draft]) -> dict[UUID, list[DraftReview]]:
    """Each draft's decision trail, newest first, in one query."""
    trails = {draft.pk: [] for draft in drafts}
    if drafts:
        reviews = DraftReview.objects.filter(
            tenant_id=drafts[0].tenant_id, draft_id__in=list(trails)
        ).select_related("reviewer")
        for review in reviews.order_by("-created_at"):
            trails[review.draft_id].append(review)
    return trails


def tenant_users(*, tenant_id: str) -> QuerySet:
    """The portal users of one tenant (storage_user has no RLS: the filter is the isolation)."""
    if not tenant_id:
        return User.objects.none()
    return User.objects.filter(tenant_id=tenant_id).order_by("username")


SHORT_DRAFT_ID = re.compile(r"[0-9a-f]{8}")
DRAFT_ID_LIKE = re.compile(r"[0-9a-f-]{32,36}")


def search_drafts(*, drafts: QuerySet, term: str) -> QuerySet:
    """Exact matches through indexes only, never a scan: draft id or request_id.

    A draft id may be whole or the 8-character short id the lists show (a range
    on the primary key). A term shaped like a draft id that is not one raises
    ValueError with a message for the user. The creator has no index: matching it scanned
    every draft of the tenant (a second for the largest), so search no longer looks at it.
    """
    term = term.strip()
    if not term:
        return drafts
    matches = Q(request_id=term)
    lowered = term.lower()
    if SHORT_DRAFT_ID.fullmatch(lowered):
        matches |= Q(pk__gte=UUID(lowered + "0" * 24), pk__lte=UUID(lowered + "f" * 24))
    elif DRAFT_ID_LIKE.fullmatch(lowered):
        try:
            matches |= Q(pk=UUID(lowered))
        except ValueError:
            raise ValueError(
                f"“{term}” is not a valid draft id: give all 36 characters or the first 8."
            ) from None
    return drafts.filter(matches)


def with_draft_presence(*, reviews: QuerySet) -> QuerySet:
    """Annotate `draft_exists`: Lynx AI may have deleted the draft since (the trail stays)."""
    drafts = Draft.objects.filter(tenant_id=OuterRef("tenant_id"), pk=OuterRef("draft_id"))
    return reviews.annotate(draft_exists=Exists(drafts))

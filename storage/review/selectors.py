"""Reads of the reviewer workflow: the queue, each draft's trail, searches and reviewers."""

import re
from uuid import UUID

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from storage.choices import Decision, DraftStatus
from storage.models import Draft, DraftReview, User


def reviewer_identities(*, user: User) -> set[str]:
    """The names `user` may appear under in `created_by`: username and email, case-folded."""
    return {name.casefold() for name in (user.username, user.email) if name}


def with_approval_counts(*, drafts: QuerySet) -> QuerySet:
    """Annotate `approval_count`, in the same query: the list page's query count stays constant."""
    approvals = (
        DraftReview.objects.filter(
            tenant_id=OuterRef("tenant_id"), draft=OuterRef("pk"), decision=Decision.APPROVE
        )
        .order_by()
        .values("draft")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return drafts.annotate(approval_count=Coalesce(Subquery(approvals), 0))


def awaiting_review(*, drafts: QuerySet, user: User) -> QuerySet:
    """Submitted drafts that list `user` as an approver, not made by them, not yet decided by them.

    `recommended_approvers` match the username or email exactly; `created_by`
    matches either case-insensitively, as the maker-checker rule does.
    """
    names = [name for name in (user.username, user.email) if name]
    decided_by_user = DraftReview.objects.filter(
        tenant_id=OuterRef("tenant_id"), draft=OuterRef("pk"), reviewer=user
    )
    made_by_user = Q()
    for name in names:
        made_by_user |= Q(created_by__iexact=name)
    return (
        drafts.filter(status=DraftStatus.SUBMITTED, recommended_approvers__overlap=names)
        .exclude(made_by_user)
        .exclude(Exists(decided_by_user))
    )


def reviews_by_draft(*, drafts: list[Draft]) -> dict[UUID, list[DraftReview]]:
    """Each draft's decision trail, newest first, in one query."""
    trails = {draft.pk: [] for draft in drafts}
    if drafts:
        reviews = DraftReview.objects.filter(
            tenant_id=drafts[0].tenant_id, draft__in=list(trails)
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
    """Exact matches through indexes, never a scan of JSON: draft id, request_id, created_by.

    A draft id may be whole or the 8-character short id the lists show (a range
    on the primary key). A term shaped like a draft id that is not one raises
    ValueError with a message for the user.
    """
    term = term.strip()
    if not term:
        return drafts
    matches = Q(request_id=term) | Q(created_by=term)
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

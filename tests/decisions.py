"""Decisions as the tests of what the database lets the RLS role write into the trail
(migrations 0029, 0032) make them: written by a request's own SQL, as storage.review.services
records one, or asked of the review queue's page; and the status they leave."""

from storage.models import Draft, User
from storage.review.content import ContentFingerprint
from tests.web_login import as_owner

# What services._trail_rows() writes for each column, from the draft's row as it is now.
AS_RECORDED = {
    "tenant_id": "tenant_id",
    "draft_id": "draft_id",
    "decision": "'approve'",
    "from_status": "status",
    "to_status": "'approved'",
    "round": "1",
    "created_at": "statement_timestamp()",
    "draft_type": "draft_type",
    "risk_level": "risk_level",
    "payload": "payload",
    "source_context": "source_context",
    "fingerprint": ContentFingerprint.of_row("lynx_drafts"),
}


def recorded(draft: Draft, reviewer: User, **columns: str) -> str:
    """SQL inserting `reviewer`'s approval of `draft` that completes it, in round 1, as the
    service writes one; `columns` replace what a column is given (SQL expressions)."""
    values = {"reviewer_id": str(reviewer.pk), **AS_RECORDED, **columns}
    return (
        f"INSERT INTO lynx_draft_reviews ({', '.join(values)}) "
        f"SELECT {', '.join(values.values())} FROM lynx_drafts "
        f"WHERE draft_id = '{draft.pk}' RETURNING 1"
    )


def approve(draft: Draft) -> str:
    """SQL moving `draft` to approved, as the service does after the decision."""
    return f"UPDATE lynx_drafts SET status = 'approved' WHERE draft_id = '{draft.pk}' RETURNING 1"


def confirmed_approval(draft: Draft, seen: str) -> dict:
    """The review queue's "Yes, approve" for `draft`, whose page showed the fingerprint `seen`."""
    return {
        "action": "approve_selected",
        "_selected_action": [str(draft.pk)],
        "_seen": [seen],
        "post": "yes",
    }


def status_of(draft: Draft) -> str:
    """The draft's status as the database holds it, past every policy."""
    [[status]] = as_owner("SELECT status FROM lynx_drafts WHERE draft_id = %s", [draft.pk])
    return status

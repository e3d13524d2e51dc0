"""The reviewers' daily digest: each reviewer is emailed the drafts awaiting them, once a day.

"Awaiting" is the queue's *Awaiting me* (`awaiting_review`). Each digest is
recorded (portal_review_digests, one per reviewer and day) in the same
transaction as it is sent: a second run the same day sends nothing again, and
a digest that failed to send is not recorded, so the next run sends it.
Drafts are read in each tenant's context, as the web role.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError
from django.urls import reverse

from storage.models import Draft, ReviewDigest, Tenant, User
from storage.moments import format_wait
from storage.review.selectors import awaiting_review
from storage.roles import REVIEW_PERMISSION
from storage.rows import tenant_rows
from storage.tenancy import tenant_context

LINKS = 20  # drafts listed by name; the rest are counted, with a link to the queue


@dataclass
class DigestRun:
    """What one run did, for the command to report."""

    sent: int = 0
    already_sent: int = 0
    nothing_waiting: int = 0
    failed: int = 0


def send_review_digests(*, day: date, now: datetime) -> DigestRun:
    """Email every reviewer with an address their drafts awaiting review, unless sent on `day`."""
    run = DigestRun()
    for tenant in Tenant.objects.order_by("tenant_id"):
        for reviewer in _reviewers(tenant.pk):
            try:
                with tenant_context(tenant.pk):
                    outcome = _send_one(reviewer, day=day, now=now)
            except IntegrityError:  # another run recorded it first
                outcome = "already_sent"
            except OSError:  # the mail server refused or is unreachable: not recorded
                outcome = "failed"
            setattr(run, outcome, getattr(run, outcome) + 1)
    return run


def _reviewers(tenant_id: str) -> list[User]:
    users = User.objects.filter(tenant_id=tenant_id, is_active=True).exclude(email="")
    return [user for user in users.order_by("username") if user.has_perm(REVIEW_PERMISSION)]


def _send_one(reviewer: User, *, day: date, now: datetime) -> str:
    if ReviewDigest.objects.filter(
        tenant_id=reviewer.tenant_id, reviewer=reviewer, day=day
    ).exists():
        return "already_sent"
    drafts = awaiting_review(
        drafts=tenant_rows(Draft, tenant_id=reviewer.tenant_id), user=reviewer
    ).order_by("created_at")
    count = drafts.count()
    if not count:
        return "nothing_waiting"
    shown = list(drafts[:LINKS])
    ReviewDigest.objects.create(
        tenant_id=reviewer.tenant_id, reviewer=reviewer, day=day, drafts=count
    )
    oldest = format_wait(now - shown[0].created_at)
    send_mail(
        subject=f"{count} draft{'s' if count != 1 else ''} await your review (oldest: {oldest})",
        message=_body(shown, count=count, now=now),
        from_email=None,
        recipient_list=[reviewer.email],
    )
    return "sent"


def _body(drafts: list[Draft], *, count: int, now: datetime) -> str:
    base = settings.LYNX_PORTAL_URL
    lines = [f"{count} draft{'s' if count != 1 else ''} await your review in Lynx Portal:", ""]
    for draft in drafts:
        url = base + reverse("admin:storage_draft_change", args=[draft.pk])
        lines.append(f"- {draft}, waiting {format_wait(now - draft.created_at)}: {url}")
    if count > len(drafts):
        lines.append(f"- and {count - len(drafts)} more.")
    queue = base + reverse("admin:storage_draft_changelist") + "?awaiting=me"
    lines += ["", f"Your queue: {queue}"]
    return "\n".join(lines)

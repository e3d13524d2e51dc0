"""manage.py notify_reviewers: the reviewers' daily digest (storage.review.digests)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from storage.review.digests import send_review_digests


class Command(BaseCommand):
    help = (
        "Email each reviewer the drafts awaiting them (count, oldest wait, links). Run it "
        "daily from cron; a second run the same day (in TIME_ZONE) sends nothing again. "
        "Email settings come from EMAIL_URL and DEFAULT_FROM_EMAIL, links from LYNX_PORTAL_URL."
    )

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        run = send_review_digests(day=timezone.localdate(now), now=now)
        self.stdout.write(
            f"Digests sent: {run.sent}; already sent today: {run.already_sent}; "
            f"nothing waiting: {run.nothing_waiting}; failed: {run.failed}."
        )
        if run.failed:
            self.stderr.write("Some digests could not be sent; run the command again later.")

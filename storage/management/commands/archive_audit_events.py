"""manage.py archive_audit_events: move audit events past retention to their archive table."""

import time
from argparse import ArgumentTypeError
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from storage.actions import ActionRefused
from storage.audit.selectors import archivable_events, audit_event_tenants
from storage.audit.services import archive_audit_events_batch
from storage.moments import format_moment
from storage.rows import estimated_count


def at_least(minimum: int):
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise ArgumentTypeError(f"must be at least {minimum}")
        return value

    return parse


class Command(BaseCommand):
    help = (
        "Move audit events older than --older-than days to lynx_audit_events_archive, where "
        "the admin and run timelines still show them. Runs as the role in DATABASE_URL, across "
        "all tenants and outside row level security, on purpose: archival is maintenance, and "
        "the portal's web role may not delete audit events. Each batch is one transaction "
        "(delete and insert in one statement), so the command can be interrupted at any point "
        "and re-run: no event is lost or duplicated."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=at_least(0),
            default=settings.LYNX_AUDIT_RETENTION_DAYS,
            metavar="DAYS",
            help="Archive events created more than DAYS days ago "
            "(default: LYNX_AUDIT_RETENTION_DAYS, %(default)s).",
        )
        parser.add_argument(
            "--batch-size",
            type=at_least(1),
            default=5000,
            help="Events per transaction (default %(default)s).",
        )
        parser.add_argument(
            "--pause",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="Wait between batches, to leave the database room for Lynx AI's writes.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would move; move nothing."
        )

    def handle(self, *, older_than, batch_size, pause, dry_run, **options):
        cutoff = timezone.now() - timedelta(days=older_than)
        self.say(f"Audit events created before {format_moment(cutoff)}:")
        moved = 0
        for tenant_id in audit_event_tenants():
            events = archivable_events(tenant_id=tenant_id, older_than=cutoff)
            if dry_run:
                count = events.count()
                moved += count
                self.say(f"  {tenant_id}: {count} would move")
                continue
            self.say(f"  {tenant_id}: about {estimated_count(queryset=events)} to move")
            moved += self.archive_tenant(tenant_id, cutoff, batch_size, pause)
        verb = "would move" if dry_run else "moved"
        self.say(f"Done: {moved} events {verb} to the archive.")

    def archive_tenant(self, tenant_id, cutoff, batch_size, pause) -> int:
        moved = 0
        while True:
            try:
                count = archive_audit_events_batch(
                    tenant_id=tenant_id, older_than=cutoff, batch_size=batch_size
                )
            except ActionRefused as conflict:
                raise CommandError(str(conflict)) from None
            moved += count
            if count:
                self.say(f"  {tenant_id}: {moved} moved")
            if count < batch_size:
                return moved
            time.sleep(pause)

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

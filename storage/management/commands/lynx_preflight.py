"""`manage.py lynx_preflight`: what migrate would do here, and what a reverse would remove."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from storage.preflight import preflight


class Command(BaseCommand):
    help = (
        "Report, without changing anything, what `migrate` would do to the database: which "
        "of the spec's tables it creates and which it adopts, what they lack or have "
        "differently from the spec, the database roles and what they lack, and what "
        "`migrate storage zero` would remove. Exits non-zero where migrate would fail."
    )

    def handle(self, *args, **options) -> None:
        report = preflight(connection)
        self.stdout.write("\n".join(report.lines))
        if report.failures:
            raise CommandError(
                f"migrate would fail ({len(report.failures)}): " + " | ".join(report.failures)
            )
        self.stdout.write("migrate would succeed.")

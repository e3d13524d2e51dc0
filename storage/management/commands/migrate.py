"""`manage.py migrate`, safe to run against a live Supabase database (README, Deploy).

On top of Django's migrate, and before any migration changes anything:
- the RLS role is set up (created if missing, granted to the owner and the web login role);
  when that is impossible, migrate stops with the one statement a superuser must run;
- a reverse that would drop tables holding rows lists them and asks; with --no-input it
  refuses unless --discard-rows is given. Tables Lynx AI created are never dropped
  (storage/provenance.py).
While migrating, a lock is waited for at most half a second at a time, so Lynx AI's writes
queued behind migrate wait no longer: the migration in progress is rolled back and tried
again, for up to LYNX_MIGRATE_LOCK_TIMEOUT seconds, then migrate stops, asking to be run
again. Each migration is a transaction, or (the one that builds indexes concurrently) a
series of steps that can be re-run; so a stop leaves nothing half done.
Afterwards, Supabase's Data API roles lose what they were granted on the portal's tables.
"""

import time

from django.apps import apps as global_apps
from django.conf import settings
from django.core.management import CommandError
from django.core.management.commands import migrate
from django.db import connections
from django.db.models.signals import pre_migrate
from django.db.utils import OperationalError

from storage import acting, db_roles
from storage.migration_operations import lock_timeout
from storage.preflight import dropped_tables, portal_tables, role_members
from storage.schema_facts import row_count

ATTEMPT = 0.5  # seconds a lock is waited for at a time
LOCK_ERRORS = {"55P03", "40P01"}  # lock_not_available (lock_timeout), deadlock_detected


class Command(migrate.Command):
    help = migrate.Command.help + " " + __doc__.split("\n\n")[0]

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--discard-rows",
            action="store_true",
            help="Let a reverse drop the portal's tables that hold rows, without asking.",
        )

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        self.discard_rows = options["discard_rows"]
        # Sent once per app: listening to storage's alone runs it once per attempt.
        storage = global_apps.get_app_config("storage")
        pre_migrate.connect(self.before_changes, sender=storage, dispatch_uid=__name__, weak=False)
        try:
            with lock_timeout(connection, min(ATTEMPT, settings.LYNX_MIGRATE_LOCK_TIMEOUT)):
                self.migrate_patiently(*args, **options)
        finally:
            pre_migrate.disconnect(sender=storage, dispatch_uid=__name__)
        with connection.cursor() as cursor:
            db_roles.revoke_api_roles(cursor, portal_tables(connection))
            acting.store_signing_key(cursor)

    def migrate_patiently(self, *args, **options) -> None:
        """Django's migrate, run again while locks are busy, for up to the patience."""
        patience = settings.LYNX_MIGRATE_LOCK_TIMEOUT
        deadline = None  # counted from the first lock migrate could not get
        while True:
            try:
                return super().handle(*args, **options)
            except OperationalError as exc:
                if getattr(exc.__cause__, "sqlstate", None) not in LOCK_ERRORS:
                    raise
                deadline = deadline or time.monotonic() + patience
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CommandError(
                        f"Other transactions held locks migrate needs for over {patience:g} s "
                        "(LYNX_MIGRATE_LOCK_TIMEOUT); the migration in progress was rolled "
                        "back and nothing of it is left. Run migrate again."
                    ) from None
                self.stdout.write(
                    f"\n  Another transaction holds a lock: rolled back, trying again "
                    f"({left:.1f} s left)."
                )
                time.sleep(min(ATTEMPT, left))

    def before_changes(self, *, plan, apps, using, **kwargs) -> None:
        """pre_migrate: everything that must hold before the first change, checked first."""
        connection = connections[using]
        reverse = any(backwards for _, backwards in plan)
        with connection.cursor() as cursor:
            if reverse:
                self.confirm_losses(cursor, plan, apps)
                return
            setup = db_roles.plan_role_setup(
                cursor, rls_role=settings.LYNX_DB_RLS_ROLE, members=role_members(connection)
            )
            if setup.blocked:
                raise CommandError(setup.blocked)
            for statement in setup.statements:
                cursor.execute(statement)

    def confirm_losses(self, cursor, plan, apps) -> None:
        losses = {
            table: rows
            for table in dropped_tables(cursor, plan, apps)
            if (rows := row_count(cursor, table))
        }
        if not losses or self.discard_rows:
            return
        listed = ", ".join(f"{table} ({rows} rows)" for table, rows in losses.items())
        if not self.interactive:
            raise CommandError(
                f"This reverse would drop tables holding rows: {listed}. Nothing was changed. "
                "Run it interactively to confirm, or pass --discard-rows."
            )
        self.stdout.write("This reverse drops these tables and every row in them:")
        for table, rows in losses.items():
            self.stdout.write(f"  {table}: {rows} rows")
        if input("Type 'yes' to drop them: ").strip() != "yes":
            raise CommandError("Reverse cancelled; nothing was changed.")
        self.discard_rows = True  # confirmed: a retry after a lock timeout does not ask again

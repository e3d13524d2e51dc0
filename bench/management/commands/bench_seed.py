"""`manage.py bench_seed --scale S`: the benchmark workload, generated inside PostgreSQL."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from bench import marker, people, seeding


class Command(BaseCommand):
    help = (
        "Fill a benchmark database (marked by `--mark`) with 100 tenants and, at scale 1, 1M "
        "drafts, 2M executions, 200k settlement intents and 10M audit events, plus the people "
        "the benchmark signs in as. Does nothing if already seeded at that scale. Runs as "
        "the owner role, across tenants."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0)
        parser.add_argument(
            "--mark",
            action="store_true",
            help="Mark this database as a benchmark database (its rows may be replaced).",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Empty the tables first, then seed again."
        )

    def handle(self, *args, scale: float, mark: bool, reset: bool, **options):
        if scale <= 0:
            raise CommandError("--scale must be positive.")
        started = time.monotonic()

        def say(line: str) -> None:
            self.stdout.write(f"[{time.monotonic() - started:6.0f} s] {line}")
            self.stdout.flush()

        with connection.cursor() as cursor:
            if mark and marker.read_mark(cursor=cursor) is None:
                marker.write_mark(cursor=cursor, state={})
            try:
                state = marker.require_mark(cursor=cursor)
            except marker.NotABenchmarkDatabase as exc:
                raise CommandError(str(exc)) from None
        state = seeding.restore_keys(state=state, say=say)  # after a killed seed
        if state.get("scale") == scale and not reset:
            say(f"Already seeded at scale {scale:g}: nothing to do (--reset seeds again).")
            return
        if state.get("scale") is not None and not reset:
            raise CommandError(
                f"Seeded at scale {state['scale']:g}, not {scale:g}: add --reset to replace it."
            )
        if reset or state.get("seeding"):
            seeding.empty_tables(say=say)
        state = {"seeding": scale}
        with connection.cursor() as cursor:
            marker.write_mark(cursor=cursor, state=state)
        state = seeding.load_rows(scale=scale, state=state, say=say)
        say("People, decision trail and approve pool")
        people.seed_people()
        say("VACUUM ANALYZE")
        seeding.vacuum_analyze(say=say)
        with connection.cursor() as cursor:
            marker.write_mark(
                cursor=cursor, state={"scale": scale, "seeded_at": time.strftime("%FT%TZ")}
            )
        say(f"Seeded at scale {scale:g}.")

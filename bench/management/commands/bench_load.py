"""`manage.py bench_load`: signed-in people against gunicorn with 4 workers, no pause."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from bench import load, marker

TARGET_REQUESTS_PER_S = 60


class Command(BaseCommand):
    help = (
        "Serve the seeded benchmark database with gunicorn (4 workers, the web login role) "
        "and run --users reviewers, auditors and operators for --seconds without pauses."
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=50)
        parser.add_argument("--seconds", type=int, default=60)
        parser.add_argument("--out", default="", help="Also append the figures to this file.")

    def handle(self, *args, users: int, seconds: int, out: str, **options):
        with connection.cursor() as cursor:
            try:
                marker.require_seeded(cursor=cursor)
            except marker.NotABenchmarkDatabase as exc:
                raise CommandError(str(exc)) from None
        connection.close()  # gunicorn's workers need the CPU more than an idle connection
        figures = load.run_load(users=users, seconds=seconds)
        # Everyone requests only their own pages and the links on them: a refusal is a person
        # denied their own rows (a web process signing with another SECRET_KEY, say).
        verdict = (
            "ok"
            if figures["requests_per_s"] >= TARGET_REQUESTS_PER_S
            and figures["errors_5xx_or_broken"] == 0
            and figures["refused_4xx"] == 0
            else f"misses: >= {TARGET_REQUESTS_PER_S} req/s, 0 errors and 0 refusals"
        )
        text = json.dumps({**figures, "verdict": verdict}, indent=2)
        self.stdout.write(text)
        if out:
            with Path(out).open("a") as file:
                file.write(f"\n## Load: {users} people, {seconds} s\n\n```json\n{text}\n```\n")

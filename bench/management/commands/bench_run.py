"""`manage.py bench_run`: every page of issue 8, portal against default admin and SQL floor."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from bench import marker, report
from bench.run import Settings, run


class Command(BaseCommand):
    help = (
        "Measure every page of bench/pages.py for the largest and the median tenant of a "
        "seeded benchmark database (manage.py bench_seed) and write the markdown table."
    )

    def add_arguments(self, parser):
        defaults = Settings()
        parser.add_argument("--repeat", type=int, default=defaults.repeat)
        parser.add_argument("--warmup", type=int, default=defaults.warmup)
        parser.add_argument("--default-repeat", type=int, default=defaults.default_repeat)
        parser.add_argument("--floor-repeat", type=int, default=defaults.floor_repeat)
        parser.add_argument("--approve-runs", type=int, default=defaults.approve_runs)
        parser.add_argument("--out", default="", help="Also write the table to this file.")

    def handle(self, *args, out: str, **options):
        if settings.DEBUG:
            self.stderr.write("DEBUG is on: Django records every query; timings will suffer.")
        with connection.cursor() as cursor:
            try:
                state = marker.require_seeded(cursor=cursor)
            except marker.NotABenchmarkDatabase as exc:
                raise CommandError(str(exc)) from None
        chosen = Settings(
            repeat=options["repeat"],
            warmup=options["warmup"],
            default_repeat=options["default_repeat"],
            floor_repeat=options["floor_repeat"],
            approve_runs=options["approve_runs"],
        )
        rows = run(options=chosen, say=lambda line: self.stderr.write(line))
        table = report.markdown(rows=rows, scale=state["scale"], options=chosen)
        if out:
            Path(out).write_text(table)
        self.stdout.write(table)
        self.stderr.write(f"{report.failures(rows=rows)} of {len(rows)} rows miss a target.")

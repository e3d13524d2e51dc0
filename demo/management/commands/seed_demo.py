"""`manage.py seed_demo`: the demo data behind `make run` (the `demo` app)."""

import os
from dataclasses import asdict

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.accounts import USERS
from demo.loader import load_demo_data


class Command(BaseCommand):
    help = (
        "Load the demo tenants, users and rows; loading again changes nothing. "
        "Runs across tenants as the connecting (owner) role on purpose: the RLS role "
        "cannot insert into the spec tables. It makes a superuser `admin` with a known "
        "password, so it refuses to run unless DEBUG is on or --force is given."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--password",
            default=os.environ.get("LYNX_DEMO_PASSWORD", "lynx-demo"),
            help="Password of every demo user (default: $LYNX_DEMO_PASSWORD or lynx-demo).",
        )
        parser.add_argument("--force", action="store_true", help="Load even though DEBUG is off.")

    def handle(self, *args, password: str, force: bool, **options) -> None:
        if not (settings.DEBUG or force):
            raise CommandError(
                "seed_demo creates users with a known password: it runs only with DEBUG on "
                "(as under `make run`) or with --force."
            )
        summary = load_demo_data(password=password)
        created = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in asdict(summary).items())
        self.stdout.write(f"Demo data loaded; created {created}.")
        self.stdout.write(f"Users: {', '.join(user.username for user in USERS)}")
        self.stdout.write(f"Password: {password}")

#!/usr/bin/env python
"""Django's command-line utility, with one-line errors for a missing or unreachable database."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lynxportal.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        settings.DATABASES  # noqa: B018  (load settings now: Django would hide their errors)
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        sys.exit(f"error: {exc}")
    except OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else exc
        sys.exit(f"error: cannot reach the database: {first_line}")


if __name__ == "__main__":
    main()

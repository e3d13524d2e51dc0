#!/usr/bin/env python
"""Django's command-line utility, with one-line errors for a missing or unreachable database.

Its commands are the operator's maintenance (migrate, seed_demo, archive_audit_events,
createsuperuser, shell, lynx_preflight...): they log in as the owner role
(DATABASE_OWNER_URL). Only runserver, a web server, logs in as the web role like gunicorn
does. LYNX_CONNECT_AS=web or owner in the environment overrides this.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lynxportal.settings")
    serves_web = len(sys.argv) > 1 and sys.argv[1] == "runserver"
    os.environ.setdefault("LYNX_CONNECT_AS", "web" if serves_web else "owner")
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

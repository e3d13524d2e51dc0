"""`manage.py runserver` as the web role, like gunicorn in production (README, Deploy).

The web role may read no table outside a request, django_migrations included, so the
unapplied-migrations warning asks the owner. Static files stay WhiteNoise's.
"""

from django.db import DEFAULT_DB_ALIAS, connections
from whitenoise.runserver_nostatic.management.commands.runserver import Command as Runserver

from storage.database import connection_as


class Command(Runserver):
    def check_migrations(self) -> None:
        web = connections[DEFAULT_DB_ALIAS]
        with connection_as("owner") as owner:
            connections[DEFAULT_DB_ALIAS] = owner
            try:
                super().check_migrations()
            finally:
                connections[DEFAULT_DB_ALIAS] = web

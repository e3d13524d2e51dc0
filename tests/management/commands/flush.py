"""The test run's flush, which ends every transactional test (TransactionTestCase): every
table but the content types and permissions.

Django's flush empties those too, then has post_migrate make them again: about 0.1 s after
each of the suite's hundred transactional tests. They are what migrate made of the models,
and no test changes them.
"""

from django.core.management.color import no_style
from django.core.management.commands import flush
from django.db import connections

KEPT = {"django_content_type", "auth_permission"}


class Command(flush.Command):
    def handle(self, **options) -> None:
        connection = connections[options["database"]]
        tables = connection.introspection.django_table_names(
            only_existing=True, include_views=False
        )
        statements = connection.ops.sql_flush(
            no_style(),
            sorted(set(tables) - KEPT),
            reset_sequences=options.get("reset_sequences", True),
            allow_cascade=options.get("allow_cascade", False),
        )
        connection.ops.execute_sql_flush(statements)

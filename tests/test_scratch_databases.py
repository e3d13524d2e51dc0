"""The scratch databases of the migrate tests (tests.catalog) go, whoever was just in them."""

import threading

import psycopg

from tests.catalog import connect, database_url, scratch_database


def test_a_scratch_database_goes_while_a_session_of_another_role_is_still_leaving_it():
    """The web role's session of a `manage.py` that has just exited, which the owner may
    not terminate (CI failed on it under load)."""
    with scratch_database("leaving") as dbname:
        web = psycopg.connect(database_url(dbname, role="web"))
        threading.Timer(0.3, web.close).start()
    with connect("postgres") as conn:
        assert not conn.execute(
            "SELECT EXISTS (SELECT FROM pg_database WHERE datname = %s)", [dbname]
        ).fetchone()[0]

"""Run one statement in a savepoint and report the PostgreSQL error code it raised."""

from django.db import DatabaseError, transaction


def sqlstate_of(statement) -> str | None:
    """The SQLSTATE `statement()` failed with (e.g. 42501), or None if it succeeded."""
    try:
        with transaction.atomic():
            statement()
    except DatabaseError as exc:
        return exc.__cause__.sqlstate
    return None

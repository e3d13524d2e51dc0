"""Password hashes held apart (migration 0028): the account row holds a stand-in, and only
sign-in's function gives the hash back, for a name this process signs (storage.acting)."""

import hashlib

from django.db import connection

from storage import acting

HASHES_TABLE = "portal_password_hashes"
HELD_PREFIX = "!held$"
# The account that signs in, by name, with its hash (migration 0027, 0028).
SIGN_IN = "SELECT * FROM portal_sign_in_user(%s, %s)"


def is_held(password: str | None) -> bool:
    return bool(password) and password.startswith(HELD_PREFIX)


def stand_in(password: str) -> str:
    """What the account row holds for the hash `password`, as `portal_held_password()` makes it:
    it changes with the password (the session hash is made of it) and tells nothing of it."""
    if not password or password.startswith("!"):
        return password  # held already, or no usable password
    return HELD_PREFIX + hashlib.sha256(password.encode()).hexdigest()


def held_hash(*, username: str) -> str | None:
    """The hash held apart for the account `username`, None without one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT password FROM portal_sign_in_user(%s, %s)",
            [username, acting.sign_in_proof(username)],
        )
        row = cursor.fetchone()
    return row[0] if row else None

"""Who a web request acts for, in a form the database can check and the request cannot forge.

The spec's policies trust `app.tenant_id`, which any role may set, so a statement a request
did not mean to run (a SQL injection) could name another tenant. Each tenant table therefore
has a second, restrictive policy for the RLS role (migration 0026): its rows are those of
`portal_acting_tenant()`. For the web login role, that is the tenant of the user whose id is in
`app.user_id`, and only when `app.user_proof` is that id signed with a key the web process
derives from SECRET_KEY and `migrate` stores where only the owner reads it
(`portal_signing_key`); a tenantless superuser acts for the tenant it names. Connections that
log in as the owner (commands, the shell, tests) are trusted with `app.tenant_id` as it is.

The people's tables follow the same tenant (migration 0027). Before a request acts for anyone,
it reads an account only through functions that take a proof too: of the user's id (the
session's user) or of the name that signs in.
"""

import hashlib
import ipaddress

from django.conf import settings
from django.utils.crypto import salted_hmac

KEY_TABLE = "portal_signing_key"


def signing_key() -> bytes:
    """The key both sides sign with: derived from SECRET_KEY, never sent but by `migrate`."""
    return salted_hmac(
        "storage.acting", "portal_signing_key", secret=settings.SECRET_KEY, algorithm="sha256"
    ).digest()


def proof(subject: str) -> str:
    """What the database takes as `subject` signed by this process: sha256(key || sha256(key ||
    subject)), in hex, as `portal_proof_valid()` computes it (the nesting keeps a known proof
    from extending). Subjects name what they are for: "user:<id>", "sign-in:<name>",
    "address:<address>"."""
    key = signing_key()
    inner = hashlib.sha256(key + subject.encode()).digest()
    return hashlib.sha256(key + inner).hexdigest()


def user_proof(user_id: int | str) -> str:
    """`app.user_proof` for `user_id`, and what reads that user before the request acts for them."""
    return proof(f"user:{user_id}")


def sign_in_proof(username: str) -> str:
    """What looks up the account that signs in by this name (`portal_sign_in_user`): a request's
    own SQL, which cannot sign, finds no account by name."""
    return proof(f"sign-in:{username}")


# What django-axes' records of sign-in attempts show the RLS role (migration 0031): those of
# the name and the address that sign in, each signed.
ATTEMPT_SETTINGS = (
    "SELECT set_config('app.sign_in_name', %s, true), set_config('app.sign_in_proof', %s, true),"
    " set_config('app.sign_in_address', %s, true),"
    " set_config('app.sign_in_address_proof', %s, true)"
)


def attempt_settings(*, username: str, address: str) -> list[str]:
    """The parameters of ATTEMPT_SETTINGS; an address that is none goes unsigned."""
    try:
        address = str(ipaddress.ip_address(address))
    except ValueError:
        return [username, sign_in_proof(username), "", ""]
    return [username, sign_in_proof(username), address, proof(f"address:{address}")]


# Select-list items that make a transaction act for a user (or nobody: two empty strings).
USER_SETTINGS = "set_config('app.user_id', %s, true), set_config('app.user_proof', %s, true)"


def user_settings(user_id: int | None) -> list[str]:
    """The parameters of USER_SETTINGS."""
    return ["", ""] if user_id is None else [str(user_id), user_proof(user_id)]


def store_signing_key(cursor) -> None:
    """Run by every `migrate`, as the owner: the key of this SECRET_KEY, in the database."""
    cursor.execute(f"SELECT to_regclass('{KEY_TABLE}') IS NOT NULL")
    if cursor.fetchone()[0]:
        cursor.execute(f"DELETE FROM {KEY_TABLE}")
        cursor.execute(f"INSERT INTO {KEY_TABLE} (key) VALUES (%s)", [signing_key()])

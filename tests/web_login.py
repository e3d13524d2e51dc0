"""A person signing in, and what a request's own SQL (a SQL injection) may do (tests.urls
`_inject/`): with the `web_process` fixture, as gunicorn's web role (README, Deploy)."""

from django.db import connection
from django.test import Client

from tests.catalog import connect_as_superuser

INSUFFICIENT_PRIVILEGE = "42501"
LOGIN = "/admin/login/"
NOBODY = "SELECT set_config('app.tenant_id', '', true), set_config('app.user_id', '', true)"


def sign_in(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    """The login page's answer to `username` and `password` sent from `address`."""
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(username: str) -> Client:
    """A browser that signed in through the login page, as a person does."""
    client = Client()
    response = client.post(LOGIN, {"username": username, "password": "pw"})
    assert response.status_code == 302, "sign-in failed"
    return client


def inject(client: Client, sql: str) -> dict:
    """The rows of the last of `sql`'s statements, or the SQLSTATE that refused one."""
    response = client.post("/_inject/", {"sql": sql})
    assert response.status_code == 200
    return response.json()


def as_owner(sql: str, params=()) -> list[tuple]:
    """The rows of `sql` run as the server's superuser, who sees past every policy."""
    with connect_as_superuser(connection.settings_dict["NAME"]) as owner:
        return owner.execute(sql, params).fetchall()

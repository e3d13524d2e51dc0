"""django-axes' records of sign-in attempts, as gunicorn's web role (migration 0031).

Sign-in still pauses an account after its failures from any address, and an address after
its failures on any account; a request's own SQL (a SQL injection) reads, clears and adds
no record of another name or address.
"""

import pytest
from django.conf import settings
from django.test import Client

from tests.web_login import INSUFFICIENT_PRIVILEGE, as_owner, inject, sign_in, signed_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.urls")]

LIMIT = settings.AXES_FAILURE_LIMIT
FAILURES = "SELECT coalesce(sum(failures_since_start), 0) FROM axes_accessattempt"


def attempt(username: str, address: str) -> str:
    return (
        "INSERT INTO axes_accessattempt (user_agent, ip_address, username, http_accept, "
        "path_info, attempt_time, get_data, post_data, failures_since_start) VALUES "
        f"('x', '{address}', '{username}', 'x', '/admin/login/', now(), '', '', 99) RETURNING 1"
    )


@pytest.fixture
def people(tenants, make_user):
    return [make_user(name, tenant=tenants["acme"]) for name in ("ann", "bob", "cid")]


def test_an_account_and_an_address_are_paused_as_the_web_role(people, web_process):
    statuses = [
        sign_in(Client(), "ann", "wrong", address=f"10.0.0.{n}").status_code for n in range(LIMIT)
    ]
    assert statuses == [200] * (LIMIT - 1) + [429]
    assert sign_in(Client(), "ann", "pw", address="10.9.9.9").status_code == 429
    for n in range(LIMIT):
        sign_in(Client(), ("bob", "cid")[n % 2], "wrong", address="10.0.0.66")
    assert sign_in(Client(), "cid", "pw", address="10.0.0.66").status_code == 429
    assert sign_in(Client(), "cid", "pw", address="10.0.0.67").status_code == 302
    assert as_owner(f"{FAILURES} WHERE username = 'ann'") == [(LIMIT + 1,)]


def test_a_request_reaches_no_record_of_another_name_or_address(people, web_process):
    for n in range(2):
        sign_in(Client(), "ann", "wrong", address=f"10.0.0.{n}")
    client = signed_in("bob")
    assert inject(client, FAILURES) == {"rows": [[0]]}
    assert inject(client, "DELETE FROM axes_accessattempt RETURNING 1") == {"rows": []}
    assert inject(client, attempt("ann", "10.0.0.9")) == {"sqlstate": INSUFFICIENT_PRIVILEGE}
    assert as_owner(FAILURES) == [(2,)]
    assert sign_in(Client(), "ann", "pw", address="10.0.0.1").status_code == 302

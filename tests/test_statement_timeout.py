"""A request's statement that runs too long is stopped by PostgreSQL, and the page says so."""

import time

import pytest
from django.test import override_settings

from storage.models import Draft
from tests.subprocesses import manage
from tests.test_config import assert_one_line_error

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.urls")]


@override_settings(LYNX_REQUEST_STATEMENT_TIMEOUT=0.3)
def test_a_statement_past_the_timeout_is_stopped_saves_nothing_and_says_why(client, rows, viewers):
    client.force_login(viewers["acme"])
    started = time.monotonic()
    response = client.get("/_slow/", {"seconds": 30})
    assert time.monotonic() - started < 10
    assert response.status_code == 503
    assert "The database stopped reading this page after 0.3 seconds" in response.text
    assert "Nothing was saved." in response.text
    assert set(Draft.objects.values_list("status", flat=True)) == {"submitted"}
    # The connection goes on: the next request of the same client is answered as usual.
    assert client.get("/_slow/", {"seconds": 0}).json() == {"slept": "0"}
    assert client.get("/admin/storage/draft/?status=all").status_code == 200


def test_a_request_within_the_timeout_is_answered(client, rows, viewers):
    client.force_login(viewers["acme"])
    with override_settings(LYNX_REQUEST_STATEMENT_TIMEOUT=5):
        assert client.get("/_slow/", {"seconds": 0.5}).json() == {"slept": "0.5"}


def test_a_negative_timeout_is_one_clear_line():
    result = manage("check", LYNX_REQUEST_STATEMENT_TIMEOUT="-1", DATABASE_URL="postgres://u@h/db")
    assert_one_line_error(
        result, "error: LYNX_REQUEST_STATEMENT_TIMEOUT must be a number of seconds, or 0."
    )

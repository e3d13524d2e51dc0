"""Failed sign-ins are throttled per account and per address, with a message, for a while."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.web_login import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(tenants, make_user):
    return [make_user(name, tenant=tenants["acme"]) for name in ("ann", "bob", "cid")]


def test_an_account_is_paused_after_the_limit_even_with_the_right_password(client, people):
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [
        sign_in(client, "ann", f"wrong-{attempt}", address=f"10.0.0.{attempt}").status_code
        for attempt in range(limit)
    ]
    assert statuses == [200] * (limit - 1) + [429]  # the form again, then the pause
    response = sign_in(client, "ann", "pw", address="10.9.9.9")  # another address too
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text
    assert "_auth_user_id" not in client.session
    # Recorded, the refused attempt included: the lockout page commits its record.
    assert sum(a.failures_since_start for a in AccessAttempt.objects.filter(username="ann")) == (
        limit + 1
    )
    assert AccessFailureLog.objects.filter(username="ann").count() == limit + 1
    assert AccessFailureLog.objects.filter(username="ann", locked_out=True).exists()
    assert sign_in(Client(), "bob", "pw", address="10.9.9.9").status_code == 302


def test_an_address_is_paused_after_the_limit_whatever_the_account(people):
    client = Client()
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, ("ann", "bob")[attempt % 2], "wrong", address="10.0.0.66")
    assert sign_in(client, "cid", "pw", address="10.0.0.66").status_code == 429
    assert sign_in(Client(), "cid", "pw", address="10.0.0.67").status_code == 302


def test_the_pause_ends_by_itself_after_the_cool_off(client, people):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "ann", "wrong")
    assert sign_in(client, "ann", "pw").status_code == 429
    earlier = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=earlier)
    assert sign_in(client, "ann", "pw").status_code == 302

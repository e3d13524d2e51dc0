"""Sessions reached only through their key (storage.people.sessions): what Django's own
database sessions do, signing in and out, expiry and the races of two requests."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from storage.people.sessions import SessionStore
from storage.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=True)
DRAFTS = "/admin/storage/draft/"


@pytest.fixture
def signed_in(make_user, tenants) -> Client:
    make_user("reviewer", tenant=tenants["acme"], perms=("view_draft",))
    client = Client()
    assert (
        client.post("/admin/login/", {"username": "reviewer", "password": "pw"}).status_code == 302
    )
    return client


def test_a_session_is_kept_between_requests_and_ended_by_signing_out(signed_in):
    client = signed_in
    key = client.cookies["sessionid"].value
    assert client.get(DRAFTS).status_code == 200
    copy = Client()
    copy.cookies["sessionid"] = key  # the same session, from another browser

    client.post("/admin/logout/")

    assert not Session.objects.filter(session_key=key).exists()
    assert copy.get(DRAFTS).url.startswith("/admin/login/")


def test_an_expired_session_signs_nobody_in(signed_in):
    client = signed_in
    key = client.cookies["sessionid"].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))

    assert client.get(DRAFTS).url.startswith("/admin/login/")


def test_a_taken_key_is_never_overwritten_and_an_ended_session_never_revived():
    with tenant_context(None):
        first = SessionStore()
        first["step"] = 1
        first.create()
        assert SessionStore(first.session_key).load() == {"step": 1}
        intruder = SessionStore(first.session_key)
        intruder["step"] = 666
        with pytest.raises(CreateError):
            intruder.save(must_create=True)

        SessionStore(first.session_key).delete()  # signed out by another request
        first["step"] = 2
        with pytest.raises(UpdateError):
            first.save()
    assert not Session.objects.exists()


def test_clearsessions_removes_the_expired_ones_only(signed_in):
    client = signed_in
    with tenant_context(None):
        old = SessionStore()
        old.set_expiry(-60)
        old.create()

    call_command("clearsessions")

    assert list(Session.objects.values_list("session_key", flat=True)) == [
        client.cookies["sessionid"].value
    ]

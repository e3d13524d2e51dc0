"""`manage.py notify_reviewers`: one digest per reviewer and day, of the drafts awaiting them."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from storage.models import Draft, ReviewDigest
from tests.catalog import database_url
from tests.conftest import make_draft, make_review
from tests.subprocesses import manage

pytestmark = pytest.mark.django_db


def notify() -> str:
    out = StringIO()
    call_command("notify_reviewers", stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def waiting(tenant_id: str, days: int, **fields) -> Draft:
    draft = make_draft(tenant_id, **fields)
    Draft.objects.filter(pk=draft.pk).update(created_at=timezone.now() - timedelta(days=days))
    return Draft.objects.get(pk=draft.pk)


@pytest.fixture
def queue(reviewers):
    """Two drafts await acme-reviewer (rev@acme.test), one is theirs, one they approved."""
    mine = ["acme-reviewer"]
    oldest = waiting("acme", 3, recommended_approvers=mine, risk_level="high")
    newer = waiting("acme", 1, recommended_approvers=["rev@acme.test"])
    waiting("acme", 5, recommended_approvers=mine, created_by="acme-reviewer")
    approved = waiting("acme", 4, recommended_approvers=mine, risk_level="high")
    make_review(approved, reviewers["acme-reviewer"])
    waiting("globex", 2, recommended_approvers=mine)
    return oldest, newer


def test_each_reviewer_gets_the_drafts_awaiting_them_with_links(queue, settings):
    settings.LYNX_PORTAL_URL = "https://portal.example.com"
    oldest, newer = queue
    assert notify() == (
        "Digests sent: 1; already sent today: 0; nothing waiting: 0; failed: 0."
    )  # acme-reviewer2 and globex-reviewer have no address; the auditor is no reviewer
    [email] = mail.outbox
    assert email.to == ["rev@acme.test"]
    assert email.subject == "2 drafts await your review (oldest: 3 d 0 h)"
    assert email.body.splitlines() == [
        "2 drafts await your review in Lynx Portal:",
        "",
        f"- {oldest}, waiting 3 d 0 h: "
        f"https://portal.example.com/admin/storage/draft/{oldest.pk}/change/",
        f"- {newer}, waiting 1 d 0 h: "
        f"https://portal.example.com/admin/storage/draft/{newer.pk}/change/",
        "",
        "Your queue: https://portal.example.com/admin/storage/draft/?awaiting=me",
    ]
    assert ReviewDigest.objects.get().drafts == 2


def test_a_second_run_the_same_day_sends_nothing_and_the_next_day_sends_again(queue):
    notify()
    assert notify() == "Digests sent: 0; already sent today: 1; nothing waiting: 0; failed: 0."
    assert len(mail.outbox) == 1
    ReviewDigest.objects.update(day=timezone.localdate() - timedelta(days=1))
    notify()
    assert len(mail.outbox) == 2


def test_a_reviewer_with_nothing_waiting_gets_no_email(reviewers):
    assert notify() == "Digests sent: 0; already sent today: 0; nothing waiting: 1; failed: 0."
    assert mail.outbox == []
    assert not ReviewDigest.objects.exists()


def test_a_digest_that_could_not_be_sent_is_sent_by_the_next_run(queue, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr("storage.review.digests.send_mail", refuse)
    assert notify() == "Digests sent: 0; already sent today: 0; nothing waiting: 0; failed: 1."
    assert not ReviewDigest.objects.exists()
    monkeypatch.undo()
    notify()
    assert len(mail.outbox) == 1


def test_email_settings_come_from_the_environment():
    code = (
        "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT)"
    )
    url = database_url(connection.settings_dict["NAME"])
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        DATABASE_URL=url,
        EMAIL_URL="smtp+tls://bot:pw@smtp.example.com:587",
    )
    assert result.stdout.split() == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.com",
        "587",
    ], result.stderr
    result = manage("shell", "--no-imports", "-c", code, DATABASE_URL=url, DEBUG="true")
    assert result.stdout.split()[0] == "django.core.mail.backends.console.EmailBackend"
    result = manage("check", DATABASE_URL=url, EMAIL_URL="carrier-pigeon://coop")
    assert result.returncode != 0
    assert "error: Invalid email schema carrier-pigeon" in result.stderr

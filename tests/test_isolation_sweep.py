"""Every URL × every kind of person × another tenant's ids × GET and POST: nothing leaks.

The URLs come from the resolver (tests.surface), so a page added later is swept too.
Acme's people, one per portal group plus a tenant superuser, a staff user without a
tenant, a superuser without one and an anonymous visitor, aim every URL at globex's
ids: its drafts, executions, settlement intents, audit runs, decisions, users and
tenant, with confirmed actions and filled-in forms. A response that shows a globex
secret or id (other than one the request itself carried) reveals; a request after
which globex's rows differ changes. Both must be zero; the counts are reported.
"""

import hashlib
import re

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from storage.models import (
    ArchivedAuditEvent,
    AuditEvent,
    Draft,
    DraftReview,
    Execution,
    SettlementIntent,
    Tenant,
    User,
)
from storage.roles import GROUP_PERMISSIONS, REVIEWERS, TENANT_ADMINS
from storage.tenancy import tenant_context
from tests.conftest import make_draft, make_execution, make_review
from tests.surface import Visitor, action_names, endpoints, report

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "GLOBEX-SECRET"  # in globex's tenant rows: nobody at acme may see it
PERSON = "GLOBEX-PERSON"  # in globex's people: only a superuser without a tenant may see it
PLATFORM = "superuser without tenant"
TENANT_ROWS = {
    table: "tenant_id = 'globex'"
    for table in (
        "lynx_drafts",
        "lynx_executions",
        "settlement_intents",
        "lynx_audit_events",
        "lynx_audit_events_archive",
        "lynx_draft_reviews",
    )
}
PEOPLE = {
    "storage_user": "tenant_id = 'globex'",
    "storage_user_groups": "user_id IN (SELECT id FROM storage_user WHERE tenant_id = 'globex')",
    "portal_tenants": "tenant_id = 'globex'",
    "django_admin_log": "tenant_id = 'globex'",
}


def fingerprint(tables: dict[str, str]) -> str:
    """A digest of globex's rows in these tables, read as the owner (no RLS), in one
    statement: it runs before and after every POST."""
    digests = ", ".join(
        f"(SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t WHERE {where})"
        for table, where in tables.items()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ARRAY[{digests}]")
        (row,) = cursor.fetchone()
    return hashlib.sha256(repr(list(zip(tables, row, strict=True))).encode()).hexdigest()


def guarded(who: str) -> dict[str, str]:
    """What `who` must not change: a superuser without a tenant manages people."""
    return TENANT_ROWS if who == PLATFORM else TENANT_ROWS | PEOPLE


@pytest.fixture
def globex(tenants, make_user):
    """Globex's rows, each carrying a secret or an id that acme's people must never see."""
    reviewer = make_user(
        "globex-reviewer",
        tenant=tenants["globex"],
        groups=(REVIEWERS,),
        email=f"{PERSON.lower()}@globex.test",
        first_name=PERSON,
    )
    make_user("globex-admin", tenant=tenants["globex"], groups=(TENANT_ADMINS,))
    draft = make_draft(
        "globex",
        payload={"title": f"{SECRET} merger"},
        risk_level="high",
        request_id="globex-req-1",
        created_by="globex-maker",
    )
    execution = make_execution(
        draft, status="failed", error_message=f"{SECRET} failure", request_id="globex-req-1"
    )
    intent = SettlementIntent.objects.create(
        payment_id="globex-pay-1", tenant_id="globex", provider="manual", metadata={"memo": SECRET}
    )
    event = AuditEvent.objects.create(
        run_id="globex-run-1", tenant_id="globex", event_type="refusal", input_data={"why": SECRET}
    )
    archived = ArchivedAuditEvent.objects.create(
        run_id="globex-run-1", tenant_id="globex", event_type="run_start", error_message=SECRET
    )
    review = make_review(draft, reviewer, reason=f"{SECRET} note")
    with tenant_context("globex"):
        LogEntry.objects.log_actions(
            user_id=reviewer.pk,
            queryset=[draft],
            action_flag=CHANGE,
            change_message=f"{SECRET} logged",
        )
    ids = {
        Draft: str(draft.pk),
        Execution: str(execution.pk),
        SettlementIntent: intent.pk,
        AuditEvent: str(event.pk),
        ArchivedAuditEvent: str(archived.pk),
        DraftReview: str(review.pk),
        User: str(reviewer.pk),
        Tenant: "globex",
        Group: str(Group.objects.get(name=REVIEWERS).pk),
    }
    return {"ids": ids, "run_id": "globex-run-1", "draft": draft, "reviewer": reviewer}


@pytest.fixture
def acme_people(tenants, make_user, rows):
    acme = tenants["acme"]
    people = {
        name: make_user(f"acme-{name.lower()}", tenant=acme, groups=(name,))
        for name in GROUP_PERMISSIONS
    }
    people["acme superuser"] = make_user("acme-root", tenant=acme, is_superuser=True)
    people["staff without tenant"] = make_user("nobody", perms=("view_draft", "view_user"))
    people["superuser without tenant"] = make_user("root", is_superuser=True)
    people["anonymous"] = None
    return people


def requests_for(endpoint, globex) -> list[tuple[str, str, dict]]:
    """(method, url, data) aimed at globex: GET, and POSTs with its ids and forms."""
    ids, model = globex["ids"], endpoint.model
    values = {}
    for name in endpoint.parameters:
        values[name] = {
            "app_label": "storage",
            "content_type_id": ContentType.objects.get_for_model(Draft).pk,
            "url": f"storage/draft/{ids[Draft]}/change/",
        }.get(name, ids.get(model, ids[Draft]))
    url = endpoint.url(**values)
    if endpoint.name.endswith("_run"):
        url += f"?run_id={globex['run_id']}"
    found = [("get", url, {})]
    if endpoint.name.endswith("_changelist"):
        found.append(("get", f"{url}?q={ids.get(model, '')}", {}))
        found.append(("get", f"{url}?reviewer={ids[User]}&status=all", {}))
        for action in action_names(endpoint.model_admin):
            data = {"action": action, "_selected_action": [ids.get(model, "")], "index": "0"}
            found.append(("post", url, data))
            found.append(("post", url, data | {"post": "yes", "reason": "r", "note": "n"}))
    else:
        found.append(
            (
                "post",
                url,
                {
                    "post": "yes",
                    "username": "globex-reviewer",
                    "tenant": "globex",
                    "is_superuser": "on",
                    "is_active": "",
                    "first_name": "changed",
                    "name": "changed",
                    "password1": "Changed-pass-123",
                    "password2": "Changed-pass-123",
                    "usable_password": "true",
                    "groups": [ids[Group]],
                },
            )
        )
    return found


MESSAGES = re.compile(r'<ul class="messagelist">.*?</ul>', re.S)


def revealed(who: str, response, visitor: "Visitor", globex) -> list[str]:
    """The globex secrets and ids in the response that the person did not send themselves:
    in the page, other than this request's own; in its messages (which may be about an
    earlier request, e.g. "… with ID … doesn't exist"), other than any they ever sent."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8", "replace")
    messages = " ".join(MESSAGES.findall(text))
    page = MESSAGES.sub("", text)
    secrets = [SECRET, *(str(v) for v in globex["ids"].values() if len(str(v)) > 8)]
    if who != PLATFORM:
        secrets.append(PERSON)
    return [
        s
        for s in secrets
        if (s in page and s not in visitor.asked) or (s in messages and s not in visitor.ever_asked)
    ]


def test_no_url_reveals_or_changes_another_tenants_data(globex, acme_people):
    sent, statuses, reveals, changes, errors = 0, {}, [], [], []
    visitors = {who: Visitor(user) for who, user in acme_people.items()}
    for endpoint in endpoints():
        for method, url, data in requests_for(endpoint, globex):
            for who, visitor in visitors.items():
                before = fingerprint(guarded(who)) if method == "post" else ""
                response = visitor.send(method, url, data)
                sent += 1
                status = f"{response.status_code // 100}xx"
                statuses[status] = statuses.get(status, 0) + 1
                if response.status_code >= 500:
                    errors.append((who, method, url))
                if found := revealed(who, response, visitor, globex):
                    reveals.append((who, method, url, found))
                if before and fingerprint(guarded(who)) != before:
                    changes.append((who, method, url, data))
    report(
        "isolation sweep",
        {
            "requests": sent,
            "urls": len(endpoints()),
            "people": len(acme_people),
            "by_status": statuses,
            "revealing": len(reveals),
            "changing": len(changes),
        },
    )
    assert reveals == [] and changes == [] and errors == [], (reveals, changes, errors)
    assert sent > 1000

"""No input answers 500: generated requests against every URL, list, filter and action.

For every endpoint of the URL resolver, Hypothesis draws (seeded: the same requests
every run) a person, ids (their tenant's, another tenant's, malformed ones), every list's
filter, search, ordering and page parameters plus raw lookups, and every action with its
confirmation form, all filled with hostile values. LYNX_FUZZ_REQUESTS sets how many in
all (2,000 here; `make reliability` sends 50,000): each endpoint gets its share, the lists
(filters, actions) the most, so that every endpoint is fuzzed whatever the count. The
data itself is hostile too: text Lynx AI may write (newlines, slashes, markup) in every
column the pages show.
"""

import logging
import math
import os
import zlib
from collections import Counter

import pytest
from django.contrib import admin
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from storage.models import AuditEvent, SettlementIntent, User
from storage.roles import GROUP_PERMISSIONS
from tests.conftest import make_draft, make_execution, make_review
from tests.surface import Endpoint, Visitor, action_names, endpoints, list_parameters, report

pytestmark = pytest.mark.django_db

REQUESTS = int(os.environ.get("LYNX_FUZZ_REQUESTS", "2000"))
HOSTILE_TEXT = ["line\nbreak", "sl/ash?&#%", "<script>x</script>", "'; DROP", " ", "\r\n", "ü€"]
NASTY = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "9" * 30,
            "9" * 5000,
            "1e999",
            "not-a-uuid",
            "00000000-0000-0000-0000-000000000000",
            "2024-01-01T00:00:00+16:00",
            "2024-01-01T00:00:00-23:59",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-10:00",
            "99999-01-01",
            "2024-02-30",
            "(",
            "%",
            "_",
            "\\",
            "true",
            "null",
            "[]",
            "{}",
            "x" * 3000,
            *HOSTILE_TEXT,
        ]
    ),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


@pytest.fixture
def surface(rows, reviewers, tenants, make_user):
    """Hostile rows, one client per kind of person, and the ids worth trying."""
    acme_draft = make_draft("acme", request_id="req\nnewline", created_by="line\nbreak")
    make_execution(acme_draft, tool_id="sl/ash", request_id="run\n1")
    make_review(acme_draft, reviewers["acme-reviewer2"], reason="<b>why</b>")
    for run_id in HOSTILE_TEXT:
        AuditEvent.objects.create(run_id=run_id, tenant_id="acme", event_type="refusal")
    for payment_id in ("pay/1", "pay\n2", "pay?3"):
        SettlementIntent.objects.create(payment_id=payment_id, tenant_id="acme", provider="manual")
    people = {
        "everything": make_user(
            "acme-all", tenant=tenants["acme"], groups=tuple(GROUP_PERMISSIONS)
        ),
        "acme-superuser": make_user("acme-root", tenant=tenants["acme"], is_superuser=True),
        "superuser": make_user("root", is_superuser=True),
        "no-tenant": make_user("nobody", perms=("view_draft", "view_user")),
    }
    clients = {name: Visitor(user) for name, user in people.items()}
    clients["anonymous"] = Visitor(None)
    ids = {}
    for model in admin.site._registry:
        ids[model] = [str(pk) for pk in model._default_manager.values_list("pk", flat=True)[:20]]
    ids[User] += [str(people["superuser"].pk)]
    listed = {}
    for model_admin in admin.site._registry.values():
        taken = set()
        for who in ("everything", "superuser"):
            taken |= set(list_parameters(clients[who].client, model_admin))
        listed[model_admin] = (sorted(taken), action_names(model_admin))
    return {"clients": clients, "ids": ids, "lists": listed, "endpoints": endpoints()}


def is_list(endpoint: Endpoint) -> bool:
    return endpoint.name.endswith(("_changelist", "_run"))


def shares(all_endpoints: list[Endpoint], requests: int) -> dict[Endpoint, int]:
    """How many requests each endpoint gets: half of them spread over every endpoint, the
    other half over the lists, whose filters and actions take the most input. A single
    draw of the endpoint left some unfuzzed (17 of 87 at 1,000 requests, 2 at 2,000)."""
    lists = [e for e in all_endpoints if is_list(e)]
    return {
        e: math.ceil(
            requests / 2 / len(all_endpoints) + (requests / 2 / len(lists) if is_list(e) else 0)
        )
        for e in all_endpoints
    }


def request_strategy(surface, endpoint: Endpoint):
    @st.composite
    def draw_request(draw):
        model = endpoint.model
        known = surface["ids"].get(model, [])
        an_id = st.sampled_from(known) | NASTY if known else NASTY
        values = {}
        for name in endpoint.parameters:
            if name == "app_label":
                values[name] = draw(st.sampled_from(["storage", "auth"]) | NASTY)
            elif name == "content_type_id":
                values[name] = draw(st.sampled_from(["1", "7", "30"]) | NASTY)
            elif name == "url":
                values[name] = draw(NASTY)
            else:
                values[name] = draw(an_id)
        filters, actions = surface["lists"].get(endpoint.model_admin, (["q"], []))
        keys = st.sampled_from(filters)
        query = draw(st.dictionaries(keys, NASTY, max_size=3))
        if endpoint.name.endswith("_run"):
            query["run_id"] = draw(st.sampled_from(HOSTILE_TEXT) | NASTY)
        method = draw(st.sampled_from(["get", "post"]))
        body = {}
        if method == "post":
            body = {
                "action": draw(st.sampled_from(actions or ["x"]) | NASTY),
                "_selected_action": draw(st.lists(an_id, max_size=3)),
                "post": draw(st.sampled_from(["yes", "no", ""])),
                "index": "0",
                "select_across": draw(st.sampled_from(["0", "1"])),
                "reason": draw(NASTY),
                "note": draw(NASTY),
                "next": draw(st.sampled_from(["/admin/", "//evil.example/", ""]) | NASTY),
                **draw(st.dictionaries(keys, NASTY, max_size=2)),
            }
        people = sorted(set(surface["clients"]) - {"anonymous"})
        who = draw(st.sampled_from(people))
        return who, method, endpoint.url(**values), query, body

    return draw_request()


@pytest.fixture
def quiet_logs():
    """Thousands of refused requests would each log a warning (and some a traceback)."""
    loggers = [logging.getLogger(name) for name in ("django.request", "django.security", "axes")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def test_no_generated_request_answers_500(surface, quiet_logs):
    statuses = Counter()
    errors = []

    def send(request):
        who, method, url, query, body = request
        sent = sum(statuses.values())
        if sent % 20 == 19:  # a NUL anywhere is refused whole (400)
            query = {**query, "q": "a\x00b"}
        elif sent % 20 == 9:  # a lookup no filter offers is refused (the list, with a message)
            query = {**query, "created_at__gte": "2024-01-01T00:00:00+16:00", "id__regex": "("}
        elif sent % 20 == 4:  # nobody signed in: the sign-in page, whatever was asked
            who = "anonymous"
        visitor = surface["clients"][who]
        if method == "get":
            response = visitor.send("get", url, query)
        else:
            response = visitor.send("post", f"{url}?{_encode(query)}" if query else url, body)
        statuses[f"{response.status_code // 100}xx"] += 1
        if response.status_code >= 500:
            errors.append((who, method, url, query, body))
        assert response.status_code < 500, (who, method, url, query, body)

    for endpoint, examples in shares(surface["endpoints"], REQUESTS).items():
        fuzz = settings(
            max_examples=examples,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )(given(request_strategy(surface, endpoint))(send))
        seed(zlib.crc32(endpoint.template.encode()))(fuzz)()
    report("fuzz", {"requests": sum(statuses.values()), "by_status": dict(statuses)})
    assert sum(statuses.values()) >= REQUESTS and not errors


def _encode(query: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(query)

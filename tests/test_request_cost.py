"""What a page costs the database: a constant number of statements, at most six, however many rows.

Requests run as in production (`transaction=True`: the request's transaction is the outermost
one). Counted is every statement, as the benchmark counts them (bench/measure.py): the
tenancy mechanism's, the session and the user included; not the transaction's BEGIN and
COMMIT.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from storage.choices import DraftStatus, EventType, ExecutionStatus
from storage.models import ArchivedAuditEvent, AuditEvent, Draft, SettlementIntent
from tests.conftest import fingerprint_of, make_draft, make_execution, make_review

pytestmark = pytest.mark.django_db(transaction=True)

MOST_QUERIES = 6
TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK")
# A statement of the tenancy mechanism alone: a request's first (storage.tenancy.FRESH_SESSION
# before it), or another.
TENANCY = ("RESET ALL;", "SELECT set_config(")
LIST_PAGES = {
    "review queue": ("acme-reviewer", "/admin/storage/draft/"),
    "awaiting me": ("acme-reviewer", "/admin/storage/draft/?awaiting=me"),
    "search by request id": ("acme-reviewer", "/admin/storage/draft/?q=req-1"),
    "drafts, all statuses": ("acme-auditor", "/admin/storage/draft/?status=all"),
    "changed after approval": ("acme-reviewer", "/admin/storage/draft/?changed=after_approval"),
    "decision trail": ("acme-auditor", "/admin/storage/draftreview/"),
    "executions": ("acme-auditor", "/admin/storage/execution/"),
    "executions, failed": ("acme-auditor", "/admin/storage/execution/?status__exact=failed"),
    "audit events": ("acme-auditor", "/admin/storage/auditevent/"),
    "settlement intents": ("acme-operator", "/admin/storage/settlementintent/"),
}


@pytest.fixture
def people(reviewers, make_user, tenants):
    return {
        **reviewers,
        "acme-operator": make_user(
            "acme-operator", tenant=tenants["acme"], perms=("view_settlementintent",)
        ),
    }


def add_rows(count: int, reviewer) -> None:
    """`count` more rows of every list, all of them in the lists above (request ids req-1)."""
    for index in range(count):
        draft = make_draft(
            "acme",
            request_id="req-1",
            recommended_approvers=["acme-reviewer"],
            payload={"amount": "10.00", "currency": "EUR", "payee": {"name": f"P{index}"}},
        )
        make_review(draft, reviewer)
        make_execution(draft, status=ExecutionStatus.FAILED)
        AuditEvent.objects.create(run_id="run-1", tenant_id="acme", event_type=EventType.REFUSAL)
        SettlementIntent.objects.create(payment_id=f"pay-{count}-{index}", tenant_id="acme")


def cost(client, url: str, *, post: dict | None = None, status: int = 200) -> tuple[list[str], int]:
    """The page's statements, and how many of them were the tenancy mechanism's alone, once
    the process's caches (content types) are warm. `post`: the form it is asked with."""
    send = (lambda: client.post(url, post)) if post else (lambda: client.get(url))
    send()
    with CaptureQueriesContext(connection) as captured:
        response = send()
    assert response.status_code == status
    return counted(captured)


def counted(captured: CaptureQueriesContext) -> tuple[list[str], int]:
    """The statements, and how many of them were the tenancy mechanism's alone."""
    statements = [query["sql"] for query in captured if query["sql"] not in TRANSACTION]
    return statements, sum(sql.startswith(TENANCY) for sql in statements)


@pytest.mark.parametrize("page", LIST_PAGES)
def test_a_list_page_costs_at_most_six_queries_whatever_its_rows(client, people, page):
    username, url = LIST_PAGES[page]
    client.force_login(people[username])
    add_rows(2, people["acme-reviewer2"])
    few, tenancy = cost(client, url)
    add_rows(55, people["acme-reviewer2"])  # more than a page: the paginator pages them
    many, _ = cost(client, url)

    assert len(few) <= MOST_QUERIES, "\n".join(few)
    assert len(many) == len(few), "\n".join(many)
    # The role with no tenant: the user's read enters their tenant (no savepoint, no restore).
    assert tenancy == 1


@pytest.mark.parametrize("page", [page for page in LIST_PAGES if page != "changed after approval"])
def test_a_list_that_fits_a_page_is_read_up_to_its_last_row(client, people, page):
    """Django read a single page's list without a limit after counting it: with no row to
    show, the same walk twice (0.7 s each for a combination of filters that no audit event
    of the largest benchmark tenant matches). Now no read when it has none, and a read that
    stops at the last row counted."""
    username, url = LIST_PAGES[page]
    client.force_login(people[username])
    add_rows(2, people["acme-reviewer2"])
    empty = url + ("&" if "?" in url else "?") + "created_at_from=2999-01-01"
    if page == "search by request id":
        empty = url.replace("req-1", "req-none")
    with_rows, _ = cost(client, url)
    without, _ = cost(client, empty)
    assert len(without) == len(with_rows) - 1, "\n".join(without)
    assert "portal_list_count" in without[-1]
    assert with_rows[-1].endswith("LIMIT 2") or "LIMIT 2)" in with_rows[-1], with_rows[-1]


def test_the_draft_page_reads_its_trail_and_executions_with_the_draft(client, people):
    """Role, session, user, then the draft with its review state, rules, trail and
    executions: as many statements as Django's own change form of one row."""
    client.force_login(people["acme-reviewer"])
    draft = make_draft("acme", status=DraftStatus.SUBMITTED)
    make_review(draft, people["acme-reviewer2"], reason="first look")
    make_execution(draft, tool_id="docs.check")

    counted, tenancy = cost(client, f"/admin/storage/draft/{draft.pk}/change/")

    assert len(counted) == 4, "\n".join(counted)
    assert "portal_draft_sections(" in counted[3]  # with the tenant's rules
    assert tenancy == 1


def test_the_execution_page_reads_its_runs_with_the_execution(client, people):
    """Role, session, user, then the execution with its audit runs among live and archived
    events: as many statements as Django's own change form of one row."""
    client.force_login(people["acme-auditor"])
    execution = make_execution(make_draft("acme"), request_id="req-1")
    AuditEvent.objects.create(run_id="req-1", tenant_id="acme", event_type=EventType.RUN_START)

    counted, tenancy = cost(client, f"/admin/storage/execution/{execution.pk}/change/")

    assert len(counted) == 4, "\n".join(counted)
    assert "lynx_audit_events" in counted[3] and "lynx_audit_events_archive" in counted[3]
    assert tenancy == 1


def test_the_run_timeline_reads_live_and_archived_events_in_one_statement(client, people):
    """Role, session, user, the run's events (live and archived), then the executions they
    name."""
    client.force_login(people["acme-auditor"])
    make_execution(make_draft("acme"), request_id="req-1")
    AuditEvent.objects.create(run_id="req-1", tenant_id="acme", event_type=EventType.RUN_START)
    ArchivedAuditEvent.objects.create(
        run_id="req-1", tenant_id="acme", event_type=EventType.TOOL_CALL
    )

    counted, tenancy = cost(client, "/admin/storage/auditevent/run/?run_id=req-1")

    assert len(counted) == 5, "\n".join(counted)
    assert "lynx_audit_events" in counted[3] and "lynx_audit_events_archive" in counted[3]
    assert "lynx_executions" in counted[4]
    assert tenancy == 1


@pytest.mark.parametrize("username", ["acme-reviewer", "acme-auditor"])
def test_the_dashboard_costs_one_query_for_its_numbers(client, people, username):
    """Role, session, user, every number of the dashboard, then the admin log's recent
    actions."""
    client.force_login(people[username])
    add_rows(2, people["acme-reviewer2"])

    counted, tenancy = cost(client, "/admin/")

    assert len(counted) == 5, "\n".join(counted)
    assert "lynx_drafts" in counted[3] and "django_admin_log" in counted[4]
    assert tenancy == 1


def approve(drafts: list, **answer) -> dict:
    """The queue's "Approve selected drafts" for `drafts`, asked (or answered, `post="yes"`)."""
    return {
        "action": "approve_selected",
        "_selected_action": [str(draft.pk) for draft in drafts],
        "index": "0",
        **answer,
    }


@pytest.mark.parametrize("count", [2, 50])
def test_asking_to_approve_drafts_costs_one_read_of_them_whatever_their_number(
    client, people, count
):
    """Role, session, user, then the chosen drafts with their review state and their tenant's
    rules in one read: the list the action was chosen from is not read (it is not shown), and
    the request's own tenant serves the preview (no savepoint, no switch)."""
    client.force_login(people["acme-reviewer"])
    add_rows(2, people["acme-reviewer2"])
    drafts = [make_draft("acme") for _ in range(count)]

    counted, tenancy = cost(client, "/admin/storage/draft/?status=all", post=approve(drafts))

    assert len(counted) == 4, "\n".join(counted)
    assert 'FROM "lynx_drafts"' in counted[3] and "portal_tenant_rules(" in counted[3]
    assert tenancy == 1


def test_approving_drafts_locks_reads_and_writes_them_in_a_constant_number_of_queries(
    client, people
):
    """Role, session, user, then in a savepoint the locks, the drafts (and rules) read after
    them, the decision trail, the drafts' status and the admin log, each written in one
    statement."""
    client.force_login(people["acme-reviewer"])
    costs = []
    for count in (1, 2, 50):  # the first warms the process's caches (content types)
        drafts = [make_draft("acme") for _ in range(count)]
        answer = approve(drafts, post="yes", _seen=[fingerprint_of(d) for d in drafts])
        with CaptureQueriesContext(connection) as captured:
            assert client.post("/admin/storage/draft/", answer).status_code == 302
        costs.append(counted(captured))
    assert Draft.objects.filter(status=DraftStatus.APPROVED).count() == 53
    _, (few, _), (many, tenancy) = costs
    assert not any('FROM "lynx_draft_reviews"' in sql for sql in many)
    # The decision is all-or-nothing on its own (a savepoint around it), in the request's own
    # tenant (no switch, no restore).
    assert many[3].startswith("SAVEPOINT") and many[-1].startswith("RELEASE SAVEPOINT")
    assert len(many) == len(few) == 10, "\n".join(many)
    assert tenancy == 1


def test_the_signed_in_user_costs_one_query_with_their_permissions(client, people):
    """Session, then the user with every permission and group the page asks about, entering
    their tenant."""
    client.force_login(people["acme-auditor"])
    counted, _ = cost(client, "/admin/storage/execution/")
    assert counted[0].startswith(TENANCY)
    assert counted[1].startswith("SELECT portal_session_data(")
    assert "FROM portal_signed_user(" in counted[2]
    assert "set_config('app.tenant_id'" in counted[2]  # and enters their tenant
    assert not any("portal_signed_user" in sql or "storage_user" in sql for sql in counted[3:])

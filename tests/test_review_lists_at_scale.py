"""The review lists at scale: the queue and "awaiting me" read a tenant's submitted drafts,
in the order shown and counted, from idx_lynx_drafts_submitted, not its drafts of every status."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from storage.choices import DraftStatus
from storage.review.content import ContentFingerprint
from tests.conftest import make_draft, make_review
from tests.plans import as_run

# VACUUM, as autovacuum would: the count is an index-only scan once rows are all-visible.
pytestmark = pytest.mark.django_db(transaction=True)

QUEUE = "/admin/storage/draft/"
AWAITING_ME = QUEUE + "?awaiting=me"


@pytest.mark.parametrize("url", [QUEUE, AWAITING_ME])
def test_the_review_lists_read_only_submitted_drafts_from_their_index(as_reviewer, reviewers, url):
    """Without the index, the page walked the tenant's drafts of every status oldest first and
    "awaiting me" was counted from every submitted draft's row."""
    _load_drafts("acme", 2_000)
    oldest = timezone.now() - timedelta(days=30)  # on the first page: the queue is oldest first
    waiting = make_draft("acme", recommended_approvers=["acme-reviewer"], created_at=oldest)
    approved = make_draft(
        "acme", recommended_approvers=["acme-reviewer"], risk_level="high", created_at=oldest
    )
    make_review(approved, reviewers["acme-reviewer"])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE lynx_drafts")
    with CaptureQueriesContext(connection) as captured:
        response = as_reviewer.get(url)
    shown = [draft.pk for draft in response.context["cl"].result_list]
    assert waiting.pk in shown and (approved.pk in shown) == (url == QUEUE)
    plans = _plans(
        as_run(q["sql"])
        for q in captured
        if 'FROM "lynx_drafts"' in q["sql"] and not q["sql"].startswith("EXPLAIN")
    )
    page = next(plan for plan in plans if "Aggregate" not in plan.splitlines()[0])
    # The page is chosen in the order shown (a subquery, U0), then only its rows are read
    # whole, annotated and put in that order again.
    assert "Scan Backward using idx_lynx_drafts_submitted on lynx_drafts u0" in page, page
    assert "Sort Key: u0.created_at" not in page, page
    if url == AWAITING_ME:
        count = next(plan for plan in plans if "Aggregate" in plan.splitlines()[0])
        assert "Index Only Scan using idx_lynx_drafts_submitted" in count, count


def test_changed_after_approval_looks_up_only_the_approved_drafts(client, reviewers):
    """The filter walked every draft of the tenant in the order shown, looking up each one's
    newest approval: 1,090 ms for the largest tenant's 195,707 drafts at 13M rows. It reads
    the approvals once and looks up their drafts by key: no step runs once per draft."""
    _load_drafts("acme", 2_000)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO lynx_draft_reviews (tenant_id, draft_id, reviewer_id, decision, "
            "from_status, to_status, draft_type, risk_level, payload, source_context, fingerprint) "
            "SELECT tenant_id, draft_id, %s, 'approve', 'submitted', 'approved', draft_type, "
            f"risk_level, payload, source_context, {ContentFingerprint.of_row('lynx_drafts')} "
            "FROM lynx_drafts ORDER BY created_at LIMIT 20",
            [reviewers["acme-reviewer"].pk],
        )
        cursor.execute(
            'UPDATE lynx_drafts SET payload = \'{"title": "rewritten"}\' WHERE draft_id = '
            "(SELECT draft_id FROM lynx_drafts ORDER BY created_at LIMIT 1) RETURNING draft_id"
        )
        [changed] = cursor.fetchone()
        cursor.execute("VACUUM ANALYZE lynx_drafts")
        cursor.execute("VACUUM ANALYZE lynx_draft_reviews")
    client.force_login(reviewers["acme-auditor"])
    with CaptureQueriesContext(connection) as captured:
        response = client.get(QUEUE, {"status": "all", "changed": "after_approval"})
    assert [draft.pk for draft in response.context["cl"].result_list] == [changed]
    [page] = [q["sql"] for q in captured if q["sql"].startswith('SELECT "lynx_drafts"')]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {page}")
        plan = cursor.fetchone()[0][0]["Plan"]
    assert max(node["Actual Loops"] for node in _nodes(plan)) <= 20, plan


def _plans(statements) -> list[str]:
    """EXPLAIN of each statement, sequential scans discouraged (the table is test-sized)."""
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for sql in statements:
                cursor.execute(f"EXPLAIN {sql}")
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
        finally:
            cursor.execute("RESET enable_seqscan")
    return plans


def _load_drafts(tenant_id: str, count: int) -> None:
    """`count` drafts, 1 in 20 submitted and naming acme-reviewer, by one INSERT ... SELECT:
    more than a page of them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO lynx_drafts (tenant_id, draft_type, payload, status, risk_level, "
            "created_by, created_at, source_context, recommended_approvers) "
            "SELECT %s, 'docs', '{}', CASE WHEN n %% 20 = 0 THEN %s ELSE %s END, 'low', "
            "'lynx-agent', now() - n * interval '1 minute', '{}', ARRAY['acme-reviewer'] "
            "FROM generate_series(1, %s) n",
            [tenant_id, DraftStatus.SUBMITTED, DraftStatus.EXECUTED, count],
        )


def test_the_queue_reads_its_tenants_rules_once_not_once_per_draft(as_reviewer, reviewers):
    """`portal_tenant_rules` in the select list ran once per draft shown: 0.45 ms of the
    largest tenant's 50-row page at 13M rows. As a subquery it runs once, as an InitPlan."""
    for _ in range(3):
        make_draft("acme", recommended_approvers=["acme-reviewer"])
    with CaptureQueriesContext(connection) as captured:
        response = as_reviewer.get(QUEUE)
    assert len(response.context["cl"].result_list) == 3
    page = next(q["sql"] for q in captured if "portal_tenant_rules" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (VERBOSE, FORMAT JSON) {page}")
        plan = cursor.fetchone()[0][0]["Plan"]
    calls = [node for node in _nodes(plan) if "portal_tenant_rules" in str(node.get("Output"))]
    assert [node.get("Parent Relationship") for node in calls] == ["InitPlan"], plan


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)

"""Two reviewers, or one reviewer twice, deciding the same draft at the same moment.

Each thread has its own database connection, so the decisions really run
concurrently in PostgreSQL; the draft's row lock must serialise them.
"""

import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client

from storage.choices import Decision, DraftStatus, RiskLevel
from storage.models import Draft, DraftReview
from storage.review import services
from tests.conftest import fingerprint_of, make_draft

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 10  # seconds; a hang fails the test instead of the suite


def in_thread(target) -> threading.Thread:
    def run():
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_for_a_lock_wait() -> None:
    """Until some other connection of this database is blocked on a lock."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("the second decision never waited for the first one's lock")


def test_a_second_decision_waits_for_the_first_and_then_sees_it(reviewers):
    """The same reviewer approving a high-risk draft twice at once: one approval, not two."""
    reviewer = reviewers["acme-reviewer"]
    draft = make_draft("acme", risk_level=RiskLevel.HIGH)
    first_decided, commit_first = threading.Event(), threading.Event()
    effects = {}

    def decide(name: str) -> None:
        outcomes = services.decide_drafts(
            user=reviewer, draft_ids=[draft.pk], decision=Decision.APPROVE
        )
        effects[name] = outcomes[0].effect

    def first() -> None:
        with transaction.atomic():  # holds the row lock until told to commit
            decide("first")
            first_decided.set()
            commit_first.wait(WAIT)

    def second() -> None:
        first_decided.wait(WAIT)
        decide("second")

    threads = [in_thread(first), in_thread(second)]
    wait_for_a_lock_wait()
    commit_first.set()
    for thread in threads:
        thread.join(WAIT)
    assert effects == {
        "first": "stays submitted with 1 of 2 approvals; still needs 1 more approval",
        "second": "skipped: you already approved this draft",
    }
    assert DraftReview.objects.count() == 1
    assert Draft.objects.get(pk=draft.pk).status == DraftStatus.SUBMITTED


@pytest.mark.parametrize(
    ("risk", "deciders", "final_statuses", "reviews"),
    [
        (RiskLevel.LOW, [("acme-reviewer", "approve"), ("acme-reviewer2", "reject")],
         {"approved", "rejected"}, 1),
        (RiskLevel.HIGH, [("acme-reviewer", "approve"), ("acme-reviewer", "approve")],
         {"submitted"}, 1),
        (RiskLevel.HIGH, [("acme-reviewer", "approve"), ("acme-reviewer2", "approve")],
         {"approved"}, 2),
    ],
    ids=["approve-vs-reject", "double-click", "two-reviewers"],
)  # fmt: skip
def test_concurrent_requests_produce_exactly_one_outcome(
    reviewers, risk, deciders, final_statuses, reviews
):
    draft = make_draft("acme", risk_level=risk)
    clients = []
    for username, _ in deciders:
        client = Client()
        client.force_login(reviewers[username])
        clients.append(client)
    start = threading.Barrier(len(deciders))
    statuses = []
    seen = fingerprint_of(draft)  # what both confirmation pages showed

    def post(client: Client, decision: str):
        def run() -> None:
            start.wait(WAIT)
            response = client.post(
                "/admin/storage/draft/",
                {
                    "action": f"{decision}_selected",
                    "_selected_action": draft.pk,
                    "_seen": seen,
                    "post": "yes",
                    "reason": "r",
                },
            )
            statuses.append(response.status_code)

        return run

    threads = [in_thread(post(c, d)) for c, (_, d) in zip(clients, deciders, strict=True)]
    for thread in threads:
        thread.join(WAIT)
    assert statuses == [302, 302]
    status = Draft.objects.get(pk=draft.pk).status
    assert status in final_statuses
    trail = list(DraftReview.objects.all())
    assert len(trail) == reviews
    assert trail[0].to_status == status  # the newest decision made the draft what it is

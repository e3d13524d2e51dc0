"""The trail outlives the draft: nothing of the portal stops Lynx AI doing what the spec allows.

Lynx AI writes as Supabase's `service_role`. It exists on Supabase (and in CI);
elsewhere these tests create it, inside a transaction that is rolled back, so
that no role or grant outlives them.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from storage.choices import Decision
from storage.models import Draft, DraftReview, Execution
from storage.review import services
from tests.catalog import SPEC_TABLES
from tests.conftest import make_draft, make_execution

pytestmark = pytest.mark.django_db(transaction=True)

TRAIL = "/admin/storage/draftreview/"


@contextmanager
def as_service_role(tenant_id: str) -> Iterator:
    """A cursor acting as service_role (created if missing), rolled back at the end.

    Supabase's service_role bypasses RLS; one made here does not, so the tenant is set.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') "
            "THEN CREATE ROLE service_role NOLOGIN; END IF; END $$"
        )
        cursor.execute("SELECT pg_has_role(CURRENT_USER, 'service_role', 'MEMBER')")
        if not cursor.fetchone()[0]:
            cursor.execute("GRANT service_role TO CURRENT_USER")
        cursor.execute(f"GRANT ALL ON {', '.join(SPEC_TABLES)} TO service_role")
        cursor.execute("GRANT USAGE ON SCHEMA public TO service_role")
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [tenant_id])
        cursor.execute("SET LOCAL ROLE service_role")
        try:
            yield cursor
        finally:
            transaction.set_rollback(True)


def reviewed_draft(reviewers) -> Draft:
    draft = make_draft("acme")
    make_execution(draft)
    services.decide_drafts(
        user=reviewers["acme-reviewer"], draft_ids=[draft.pk], decision=Decision.APPROVE
    )
    return draft


def test_service_role_deletes_a_reviewed_draft_and_its_decisions_stay(reviewers):
    draft = reviewed_draft(reviewers)
    with as_service_role("acme") as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == ("service_role",)
        cursor.execute("DELETE FROM lynx_drafts WHERE draft_id = %s", [draft.pk])
        assert cursor.rowcount == 1
        cursor.execute("RESET ROLE")
        assert not Draft.objects.filter(pk=draft.pk).exists()
        assert not Execution.objects.filter(draft_id=draft.pk).exists()  # the spec's cascade
        assert DraftReview.objects.get().draft_id == draft.pk


def test_service_role_makes_every_write_the_spec_allows_on_reviewed_drafts(reviewers):
    draft = reviewed_draft(reviewers)
    writes = [
        ("INSERT INTO lynx_drafts (tenant_id, draft_type, payload, risk_level, created_by, "
         "source_context) VALUES ('acme', 'docs', '{}', 'low', 'lynx', '{}')"),
        ("UPDATE lynx_drafts SET payload = '{\"rewritten\": true}', status = 'submitted', "
         "risk_level = 'high', source_context = '{}' WHERE draft_id = %(d)s"),
        "UPDATE lynx_drafts SET status = 'executed' WHERE draft_id = %(d)s",
        ("INSERT INTO lynx_executions (draft_id, tool_id, tenant_id, actor_id, status) "
         "VALUES (%(d)s, 'payments.submit', 'acme', 'lynx', 'succeeded')"),
        "UPDATE lynx_executions SET status = 'failed' WHERE draft_id = %(d)s",
        "DELETE FROM lynx_executions WHERE draft_id = %(d)s",
        "INSERT INTO settlement_intents (payment_id, tenant_id) VALUES ('pay-x', 'acme')",
        "UPDATE settlement_intents SET settlement_status = 'completed' WHERE payment_id = 'pay-x'",
        "DELETE FROM settlement_intents WHERE payment_id = 'pay-x'",
        ("INSERT INTO lynx_audit_events (run_id, tenant_id, event_type) "
         "VALUES ('r', 'acme', 'refusal')"),
        "DELETE FROM lynx_audit_events WHERE run_id = 'r'",
        "DELETE FROM lynx_drafts WHERE draft_id = %(d)s",
    ]  # fmt: skip
    with as_service_role("acme") as cursor:
        for statement in writes:
            cursor.execute(statement, {"d": draft.pk})  # any refusal raises here


def test_nothing_of_the_portal_constrains_the_spec_tables_beyond_the_blank_tenant_check():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'f' "
            "AND confrelid = ANY (SELECT to_regclass(t) FROM unnest(%s::text[]) t)",
            [list(SPEC_TABLES)],
        )
        assert cursor.fetchall() == [("lynx_executions", "lynx_executions_draft_id_fkey")]
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
            "AND tgrelid = ANY (SELECT to_regclass(t) FROM unnest(%s::text[]) t)",
            [list(SPEC_TABLES)],
        )
        assert cursor.fetchall() == []


def test_the_trail_shows_a_deleted_drafts_decisions_as_draft_deleted(client, reviewers):
    kept, gone = reviewed_draft(reviewers), reviewed_draft(reviewers)
    Draft.objects.filter(pk=gone.pk).delete()
    client.force_login(reviewers["acme-auditor"])
    response = client.get(TRAIL)
    html = response.text
    assert f'<a href="/admin/storage/draft/{kept.pk}/change/">{str(kept.pk)[:8]}</a>' in html
    assert f'{str(gone.pk)[:8]} <span class="quiet draft-deleted">(draft deleted)</span>' in html
    review = DraftReview.objects.get(draft_id=gone.pk)
    page = client.get(f"{TRAIL}{review.pk}/change/").text
    assert "(draft deleted)" in page and "Docs" in page and "Quarterly report" in page

    def queries_for(extra: int) -> int:
        for _ in range(extra):
            Draft.objects.filter(pk=reviewed_draft(reviewers).pk).delete()
        with CaptureQueriesContext(connection) as captured:
            client.get(TRAIL)
        return len(captured)

    assert queries_for(1) == queries_for(5)

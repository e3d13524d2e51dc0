"""lynx_draft_reviews in the database: tenant policy, append-only grants, constraints, groups."""

import importlib

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader

from storage.checks import check_row_level_security
from storage.choices import Decision
from storage.models import DraftReview
from storage.roles import AUDITORS, GROUP_PERMISSIONS, REVIEWERS
from storage.tenancy import tenant_context
from tests.conftest import make_draft, make_review
from tests.db_errors import sqlstate_of

pytestmark = pytest.mark.django_db(transaction=True)

INSUFFICIENT_PRIVILEGE = "42501"
CHECK_VIOLATION = "23514"
UNIQUE_VIOLATION = "23505"


def review_values(draft, reviewer, **fields) -> dict:
    values = {
        "decision": Decision.APPROVE,
        "from_status": "submitted",
        "to_status": "approved",
        "draft_type": draft.draft_type,
        "risk_level": draft.risk_level,
        "payload": draft.payload,
        "source_context": draft.source_context,
        "fingerprint": "not-checked-here",
    }
    return (
        {"tenant_id": draft.tenant_id, "draft_id": draft.pk, "reviewer": reviewer} | values | fields
    )


def test_the_web_role_may_insert_and_read_but_never_change_or_delete(reviewers):
    reviewer = reviewers["acme-reviewer"]
    acme_draft, globex_draft = make_draft("acme"), make_draft("globex")
    make_review(globex_draft, reviewers["globex-reviewer"])  # invisible to acme
    with tenant_context("acme"):
        mine = DraftReview.objects.create(**review_values(acme_draft, reviewer))
        assert list(DraftReview.objects.values_list("pk", flat=True)) == [mine.pk]
        reviews = DraftReview.objects.filter(pk=mine.pk)
        forbidden = {
            "change a decision": lambda: reviews.update(decision=Decision.REJECT),
            "rewrite a reason": lambda: reviews.update(reason="nothing to see"),
            "delete a decision": lambda: reviews.delete(),
            "insert for another tenant": lambda: DraftReview.objects.create(
                **review_values(globex_draft, reviewer, tenant_id="globex")
            ),
        }
        codes = {what: sqlstate_of(statement) for what, statement in forbidden.items()}
    assert codes == dict.fromkeys(forbidden, INSUFFICIENT_PRIVILEGE)
    assert DraftReview.objects.count() == 2


def test_the_database_refuses_incomplete_or_duplicate_decisions(reviewers):
    draft, reviewer = make_draft("acme"), reviewers["acme-reviewer"]
    make_review(draft, reviewer)
    refused = {
        "blank tenant": lambda: make_review(draft, reviewer, tenant_id=""),
        "reject without reason": lambda: make_review(draft, reviewer, decision="reject"),
        "unknown decision": lambda: make_review(draft, reviewer, decision="maybe"),
        "second approval": lambda: make_review(draft, reviewer),
    }
    # The same reviewer may approve again in a later round.
    assert sqlstate_of(lambda: make_review(draft, reviewer, round=2)) is None
    assert {what: sqlstate_of(write) for what, write in refused.items()} == {
        "blank tenant": CHECK_VIOLATION,
        "reject without reason": CHECK_VIOLATION,
        "unknown decision": CHECK_VIOLATION,
        "second approval": UNIQUE_VIOLATION,
    }


def test_the_deploy_check_covers_the_trail_table():
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE lynx_draft_reviews DISABLE ROW LEVEL SECURITY")
        errors = [(e.id, e.msg) for e in check_row_level_security()]
        transaction.set_rollback(True)
    assert errors == [("storage.E003", "Row level security is disabled on lynx_draft_reviews.")]


def test_the_check_waits_for_the_migration_that_secures_the_trail_table():
    """`migrate` runs the checks first: a database not yet upgraded must not be refused."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE lynx_draft_reviews DISABLE ROW LEVEL SECURITY")
            cursor.execute("DELETE FROM django_migrations WHERE app = 'storage' AND name >= '0006'")
        errors = check_row_level_security()
        transaction.set_rollback(True)
    assert errors == []


def test_the_group_migration_makes_exactly_the_groups_permissions(db):
    Group.objects.filter(name__in=GROUP_PERMISSIONS).delete()
    migration = importlib.import_module("storage.migrations.0007_reviewer_groups")
    state = MigrationLoader(connection).project_state(("storage", "0007_reviewer_groups"))
    for _ in range(2):  # idempotent
        migration.create_groups(state.apps, schema_editor=None)
    held = {
        group.name: set(group.permissions.values_list("codename", flat=True))
        for group in Group.objects.filter(name__in=GROUP_PERMISSIONS)
    }
    assert held == {
        REVIEWERS: {
            "view_draft",
            "view_execution",
            "view_settlementintent",
            "view_draftreview",
            "review_draft",
        },
        AUDITORS: {
            "view_draft",
            "view_execution",
            "view_settlementintent",
            "view_auditevent",
            "view_draftreview",
        },
    }
    assert Permission.objects.get(codename="review_draft").name == "Can approve or reject drafts"

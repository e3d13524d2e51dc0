"""What the database and model validation refuse, with the messages a user would read."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from storage.choices import ExecutionStatus
from storage.models import Draft, Execution
from tests.conftest import make_draft, make_execution
from tests.db_errors import sqlstate_of

pytestmark = pytest.mark.django_db

UNIQUE_VIOLATION = "23505"
CHECK_VIOLATION = "23514"


def test_a_second_succeeded_execution_is_rejected_by_the_database():
    draft = make_draft("acme")
    make_execution(draft, status=ExecutionStatus.SUCCEEDED)
    duplicate = pytest.raises(IntegrityError, match="idx_lynx_executions_draft_tool_unique")
    with duplicate, transaction.atomic():
        make_execution(draft, status=ExecutionStatus.SUCCEEDED)
    assert draft.executions.count() == 1


def test_a_second_succeeded_execution_is_rejected_by_model_validation():
    draft = make_draft("acme")
    make_execution(draft, status=ExecutionStatus.SUCCEEDED)
    duplicate = Execution(
        draft=draft, tenant_id="acme", tool_id="docs.publish", actor_id="a", status="succeeded"
    )
    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()
    assert error.value.messages == ["This draft already has a succeeded execution of this tool."]


@pytest.mark.parametrize("status", ["started", "failed", "denied"])
def test_unsuccessful_duplicates_are_allowed(status):
    draft = make_draft("acme")
    make_execution(draft, status=ExecutionStatus.SUCCEEDED)
    make_execution(draft, status=status)
    make_execution(draft, status=status)
    # Another tool, or another draft, may succeed too.
    make_execution(draft, status=ExecutionStatus.SUCCEEDED, tool_id="workflow.run")
    make_execution(make_draft("acme"), status=ExecutionStatus.SUCCEEDED)
    assert Execution.objects.count() == 5


@pytest.mark.parametrize(
    ("fields", "constraint", "message"),
    [
        ({"status": "bogus"}, "lynx_drafts_status_check", "Value 'bogus' is not a valid choice."),
        ({"risk_level": "extreme"}, "lynx_drafts_risk_level_check", "Value 'extreme' is not"),
        ({"draft_type": "memo"}, "lynx_drafts_draft_type_check", "Value 'memo' is not"),
        ({"tenant_id": ""}, "lynx_drafts_tenant_id_not_blank", "This field cannot be blank."),
    ],
)
def test_invalid_values_are_rejected_by_database_and_validation(fields, constraint, message):
    values = {
        "tenant_id": "acme",
        "draft_type": "docs",
        "payload": {},
        "risk_level": "low",
        "created_by": "lynx-agent",
        "source_context": {},
    }
    draft = Draft(**(values | fields))
    with pytest.raises(ValidationError) as error:
        draft.full_clean()
    assert any(m.startswith(message) for m in error.value.messages), error.value.messages
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        draft.save()
    assert sqlstate_of(draft.save) == CHECK_VIOLATION
    assert not Draft.objects.exists()


def test_a_failing_multi_row_write_leaves_nothing_behind():
    with pytest.raises(IntegrityError), transaction.atomic():
        draft = make_draft("acme")
        make_execution(draft, status="exploded")
    assert not Draft.objects.exists()
    assert not Execution.objects.exists()


def test_deleting_a_draft_cascades_to_its_executions_in_the_database():
    draft, other = make_draft("acme"), make_draft("acme")
    make_execution(draft)
    make_execution(draft, status="failed")
    kept = make_execution(other)
    draft.delete()
    assert list(Execution.objects.values_list("pk", flat=True)) == [kept.pk]


def test_database_defaults_apply_to_rows_written_without_django():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO lynx_drafts (tenant_id, draft_type, payload, risk_level, created_by, "
            "source_context) VALUES ('acme', 'docs', '{}', 'low', 'lynx', '{}') RETURNING draft_id"
        )
        (draft_id,) = cursor.fetchone()
    draft = Draft.objects.get(pk=draft_id)
    assert (draft.status, draft.recommended_approvers, draft.request_id) == ("draft", [], None)
    assert draft.created_at is not None
    execution = make_execution(draft)
    execution.refresh_from_db()
    assert (execution.status, execution.result_payload, execution.source_context) == (
        "started",
        {},
        {},
    )

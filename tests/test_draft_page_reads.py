"""A draft's page reads its trail and executions with the draft, as JSON turned back into
rows: the same values the ORM reads."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from storage.models import Draft, Execution
from storage.review import selectors
from storage.tenancy import tenant_context
from tests.conftest import make_draft, make_execution, make_review

pytestmark = pytest.mark.django_db


def test_the_draft_pages_trail_and_executions_are_the_rows_the_orm_reads(reviewers):
    """Read as JSON with the draft, each value is what the ORM gives: times, ids, exact
    amounts, JSON of every kind, the reviewer's name."""
    draft = make_draft(
        "acme",
        draft_type="vpm_payment",
        payload={"amount": "0.10", "n": 0.1, "big": 12345678901234567890, "s": "x"},
    )
    earlier = timezone.now() - timedelta(hours=1)
    make_review(
        draft,
        reviewers["acme-reviewer2"],
        amount=Decimal("1250.10"),
        currency="EUR",
        created_at=earlier,
    )
    make_review(draft, reviewers["acme-auditor"], decision="reject", reason="no")
    make_execution(draft, result_payload="a JSON string", created_at=earlier)
    make_execution(draft, tool_id="vpm.pay", result_payload={"ok": True, "at": [1, 2.5]})
    with tenant_context("acme"):
        read = selectors.with_page_sections(drafts=Draft.objects.filter(pk=draft.pk)).get()
        trail = selectors.page_trail(draft=read)
        executions = selectors.page_executions(draft=read)
        assert [vars_of(r) for r in trail] == [
            vars_of(r) for r in selectors.reviews_by_draft(drafts=[draft])[draft.pk]
        ]
        assert [r.reviewer.username for r in trail] == ["acme-auditor", "acme-reviewer2"]
        assert [vars_of(e) for e in executions] == [
            vars_of(e) for e in Execution.objects.filter(draft=draft).order_by("-created_at")
        ]


def vars_of(row) -> dict:
    return {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields}

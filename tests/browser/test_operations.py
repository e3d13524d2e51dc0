"""Auditors follow the dashboard to a run timeline and export; operators settle; tenants apart."""

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from storage.models import AuditEvent, SettlementIntent
from tests.conftest import make_draft, make_execution

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff(tenants, make_user):
    return {
        "auditor": make_user("acme-auditor", tenant=tenants["acme"], groups=("Auditors",)),
        "operator": make_user(
            "acme-operator", tenant=tenants["acme"], groups=("Settlement operators",)
        ),
    }


@pytest.fixture
def failed_run(tenants):
    now = timezone.now()
    draft = make_draft("acme", request_id="req-7")
    execution = make_execution(
        draft,
        status="failed",
        request_id="req-7",
        error_message="Upstream timed out after 30 s",
        source_context={"run_id": "run-7"},
        created_at=now - timedelta(minutes=5),
    )
    make_execution(draft, status="succeeded", tool_id="docs.render")
    for seconds, event_type, status in [
        (0, "run_start", "started"),
        (2, "tool_call", "failed"),
        (3, "run_failure", "failed"),
    ]:
        AuditEvent.objects.create(
            run_id="run-7",
            tenant_id="acme",
            event_type=event_type,
            status=status,
            tool_id="docs.publish",
            input_data={"request_id": "req-7", "draft_id": str(draft.pk)},
            error_message="Upstream timed out" if status == "failed" else None,
            created_at=now - timedelta(minutes=5) + timedelta(seconds=seconds),
        )
    return execution


def test_an_auditor_goes_from_the_dashboard_to_a_run_timeline_and_exports(
    page, login, screenshot, staff, failed_run
):
    login("acme-auditor")
    screenshot("dashboard-as-acme-auditor")
    failed = page.locator("#executions-last-day li", has_text="Failed")
    assert failed.locator(".count").inner_text() == "1"
    failed.locator("a.count").click()
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == 1
    screenshot("failed-executions")

    page.locator("#result_list tbody tr a").first.click()
    page.wait_for_selector("text=Upstream timed out after 30 s")
    screenshot("failed-execution")
    page.click("a.run-link")
    page.wait_for_selector("#run-events")
    assert page.locator("#run-events tbody tr").count() == 3
    assert "3.0 s" in page.inner_text("#run-duration")
    page.locator("#run-events details summary", has_text="Input").first.click()
    screenshot("run-timeline")

    page.go_back()
    page.go_back()
    with page.expect_download() as download:
        page.click("#export-csv")
    header, *rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert header[0] == "execution_id"
    assert [row[0] for row in rows] == [str(failed_run.pk)]


def test_an_operator_settles_a_manual_intent_and_an_auditor_cannot(page, login, screenshot, staff):
    SettlementIntent.objects.create(payment_id="pay-acme-0042", tenant_id="acme", provider="manual")
    login("acme-operator")
    for action, note in [("processing", "Sent by hand"), ("completed", "Bank confirmed")]:
        page.goto("/admin/storage/settlementintent/pay-acme-0042/change/")
        page.click(f"button[data-action=move_to_{action}]")
        page.fill("textarea[name=note]", note)
        screenshot(f"settle-confirm-{action}")
        page.click(f"input[value='Yes, move to {action}']")
        page.wait_for_selector(".messagelist .success")
    intent = SettlementIntent.objects.get(pk="pay-acme-0042")
    assert intent.settlement_status == "completed"
    assert [n["note"] for n in intent.metadata["notes"]] == ["Sent by hand", "Bank confirmed"]
    page.goto("/admin/storage/settlementintent/pay-acme-0042/change/")
    assert "Bank confirmed" in page.inner_text("pre.json")
    screenshot("settled-intent")

    page.context.clear_cookies()
    login("acme-auditor")
    page.goto("/admin/storage/settlementintent/pay-acme-0042/change/")
    assert page.locator(".settle-button").count() == 0
    page.goto("/admin/storage/settlementintent/")
    assert page.locator("select[name=action] option[value^=move_to]").count() == 0


def test_a_globex_execution_is_not_found_for_an_acme_auditor(page, login, staff, tenants):
    globex_execution = make_execution(make_draft("globex"), status="failed")
    login("acme-auditor")
    response = page.goto(f"/admin/storage/execution/{globex_execution.pk}/change/")
    assert response.status == 404

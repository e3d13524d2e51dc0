"""CSV export of filtered lists: permission, filters, tenant isolation, constant memory."""

import csv
import gc
import io
from datetime import UTC, datetime, timedelta

import psutil
import pytest
from django.db import connection

from storage.models import AuditEvent, Draft, Execution
from tests.conftest import make_draft, make_execution

pytestmark = pytest.mark.django_db

MB = 2**20


@pytest.fixture
def auditor(tenants, make_user):
    return make_user("acme-auditor", tenant=tenants["acme"], groups=("Auditors",))


def exported(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_auditors_export_the_filtered_list(client, auditor, rows):
    client.force_login(auditor)
    listing = client.get("/admin/storage/execution/?status__exact=failed")
    assert 'id="export-csv"' in listing.text
    export_url = listing.context["export_url"]
    assert export_url == "/admin/storage/execution/export/?status__exact=failed"
    header, *lines = exported(client.get(export_url))
    assert header[:3] == ["execution_id", "draft_id", "tool_id"]
    assert {line[0] for line in lines} == {str(pk) for pk in rows["acme"][Execution]}
    assert exported(client.get("/admin/storage/execution/export/?status__exact=denied")) == [header]


def test_drafts_export_too(client, auditor, rows):
    client.force_login(auditor)
    _, *lines = exported(client.get("/admin/storage/draft/export/"))
    assert {line[0] for line in lines} == {str(pk) for pk in rows["acme"][Draft]}


def test_export_needs_its_own_permission(client, viewers, rows):
    client.force_login(viewers["acme"])
    assert 'id="export-csv"' not in client.get("/admin/storage/auditevent/").text
    assert client.get("/admin/storage/auditevent/export/").status_code == 403


def test_the_stream_reads_as_the_rls_role_whatever_the_queryset(client, auditor, rows, monkeypatch):
    """The response is streamed after the request's transaction: the stream needs its own.

    With the explicit tenant filter sabotaged, RLS alone must still keep globex out.
    """
    monkeypatch.setattr(
        "storage.admin.base.tenant_rows", lambda model, tenant_id: model.objects.all()
    )
    client.force_login(auditor)
    _, *lines = exported(client.get("/admin/storage/auditevent/export/"))
    assert {line[0] for line in lines} == {str(pk) for pk in rows["acme"][AuditEvent]}


@pytest.mark.parametrize(
    "run_id", ['=HYPERLINK("http://evil")', "  =1+1", "+1", "-1", "@SUM(A1)", "\n=1"]
)
def test_cells_that_a_spreadsheet_would_run_are_defused(client, auditor, tenants, run_id):
    AuditEvent.objects.create(
        run_id=run_id, tenant_id="acme", event_type="refusal", input_data={"prompt": "=1+1"}
    )
    client.force_login(auditor)
    _, line = exported(client.get("/admin/storage/auditevent/export/"))
    assert line[1] == f"'{run_id}"
    assert line[6] == '{"prompt": "=1+1"}'


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("A=1", "A=1"),  # from "A" on, nothing is looked at
        ("@A", "'@A"),  # the formula start just before "A"
        ("Zürich", "Zürich"),
        ("ü=1", "ü=1"),
        ("?=1", "?=1"),  # before "A", not a formula
        ("1+1", "1+1"),
        ("  x", "  x"),
        ("  -x", "'  -x"),
        ("", ""),
    ],
)
def test_only_cells_that_start_a_formula_are_changed(client, auditor, tenants, value, cell):
    AuditEvent.objects.create(
        run_id="run", tool_id=value, tenant_id="acme", event_type="refusal", input_data=value
    )
    client.force_login(auditor)
    _, line = exported(client.get("/admin/storage/auditevent/export/"))
    assert (line[3], line[6]) == (cell, cell)


def test_exporting_100000_rows_takes_constant_memory(client, auditor, tenants):
    """Holding 100,000 rows would take well over 50 MB; streaming them must not grow at all.

    Memory is the process's resident size, sampled while the stream is read
    (tracemalloc would make the test five times slower).
    """
    draft = make_draft("acme")
    client.force_login(auditor)
    process = psutil.Process()

    def export_growth(total: int) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO lynx_executions (draft_id, tool_id, tenant_id, actor_id, status, "
                "request_id, result_payload) "
                "SELECT %s, 'docs.publish', 'acme', 'lynx-agent', 'failed', 'req-' || n, "
                "jsonb_build_object('n', n, 'text', repeat('x', 200)) "
                "FROM generate_series(1, %s) n",
                [draft.pk, total - Execution.objects.count()],
            )
        response = client.get("/admin/storage/execution/export/")
        gc.collect()
        before = peak = process.memory_info().rss
        lines = 0
        for chunk in response.streaming_content:
            lines += chunk.count(b"\n")
            peak = max(peak, process.memory_info().rss)
        assert lines == total + 1
        return peak - before

    small, large = export_growth(10_000), export_growth(100_000)
    assert large < small + 10 * MB, f"10k rows grew {small // MB} MB, 100k rows {large // MB} MB"


def test_cells_read_as_python_wrote_them(client, auditor, tenants):
    """Written by PostgreSQL now, the lines are what Python's csv module wrote before: ISO
    times in UTC (no fraction on a whole second), NULL and empty text as empty cells,
    commas, quotes and newlines quoted, bare JSON strings and booleans, CRLF line ends."""
    draft = make_draft("acme")
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    execution = make_execution(
        draft,
        actor_id="-agent",
        status="failed",
        result_payload="=1+1",
        created_at=moment,
        completed_at=moment + timedelta(microseconds=120),
        error_message='a, "b"\nc',
        rollback_instructions=True,
        request_id="",
        source_context=None,
    )
    client.force_login(auditor)
    response = client.get("/admin/storage/execution/export/")
    assert b"".join(response.streaming_content).decode() == (
        "execution_id,draft_id,tool_id,tenant_id,actor_id,status,result_payload,created_at,"
        "completed_at,error_message,rollback_instructions,request_id,source_context\r\n"
        f"{execution.pk},{draft.pk},docs.publish,acme,'-agent,failed,'=1+1,"
        "2026-01-02T03:04:05+00:00,2026-01-02T03:04:05.000120+00:00,"
        '"a, ""b""\nc",True,,\r\n'
    )


def test_a_list_without_rows_exports_its_header(client, auditor, tenants):
    client.force_login(auditor)
    assert exported(client.get("/admin/storage/settlementintent/export/")) == [
        [
            "payment_id",
            "settlement_status",
            "provider",
            "tenant_id",
            "created_at",
            "updated_at",
            "metadata",
        ]
    ]


def test_json_cells_are_the_databases_own_text(client, auditor, tenants):
    """Keys in PostgreSQL's jsonb order (shorter keys first), as psql and Supabase show them."""
    AuditEvent.objects.create(
        run_id="r", tenant_id="acme", event_type="refusal", input_data={"amount": 1, "to": "x"}
    )
    client.force_login(auditor)
    _, line = exported(client.get("/admin/storage/auditevent/export/"))
    assert line[6] == '{"to": "x", "amount": 1}'

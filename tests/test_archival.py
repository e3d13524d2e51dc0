"""archive_audit_events: moves old events, keeps recent ones, survives being killed mid-run."""

import os
import signal
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from storage.models import ArchivedAuditEvent, AuditEvent
from tests.catalog import database_url

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
OLD = {"acme": 1500, "globex": 700}
RECENT = 40


@pytest.fixture
def events(tenants) -> set:
    """Old events in two tenants and recent ones, committed for a subprocess to see."""
    with connection.cursor() as cursor:
        for tenant_id, count in OLD.items():
            cursor.execute(
                "INSERT INTO lynx_audit_events (run_id, tenant_id, event_type, created_at) "
                "SELECT 'old-' || (n / 10), %s, 'tool_call', "
                "now() - interval '100 days' - n * interval '1 minute' "
                "FROM generate_series(1, %s) n",
                [tenant_id, count],
            )
        cursor.execute(
            "INSERT INTO lynx_audit_events (run_id, tenant_id, event_type, created_at) "
            "SELECT 'new', 'acme', 'run_start', now() - interval '89 days' "
            "FROM generate_series(1, %s)",
            [RECENT],
        )
    return set(AuditEvent.objects.values_list("pk", flat=True))


def ids(model) -> set:
    return set(model.objects.values_list("pk", flat=True))


def assert_nothing_lost_or_duplicated(original: set) -> tuple[set, set]:
    live, archived = ids(AuditEvent), ids(ArchivedAuditEvent)
    assert not live & archived, "an event is in both tables"
    assert live | archived == original, "an event was lost"
    return live, archived


def run_until_killed(*args: str, after_lines: int) -> None:
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(connection.settings_dict["NAME"]),
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "archive_audit_events", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(after_lines):
            assert process.stdout.readline(), "the command ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL
    finally:
        process.kill()
        process.stdout.close()


def test_a_killed_run_loses_and_duplicates_nothing_and_a_rerun_finishes(events):
    run_until_killed("--batch-size", "50", "--pause", "0.01", after_lines=6)
    _, archived = assert_nothing_lost_or_duplicated(events)
    assert 0 < len(archived) < sum(OLD.values())
    # Killed again with a shorter pause: more likely in the middle of a statement.
    run_until_killed("--batch-size", "10", "--pause", "0.002", after_lines=4)
    assert_nothing_lost_or_duplicated(events)

    out = StringIO()
    call_command("archive_audit_events", "--batch-size", "200", stdout=out)
    live, archived = assert_nothing_lost_or_duplicated(events)
    assert len(archived) == sum(OLD.values())
    assert set(AuditEvent.objects.values_list("run_id", flat=True)) == {"new"}
    assert len(live) == RECENT
    assert "Done:" in out.getvalue()
    assert ArchivedAuditEvent.objects.filter(tenant_id="globex").count() == OLD["globex"]


def test_dry_run_says_what_would_move_and_moves_nothing(events):
    out = StringIO()
    call_command("archive_audit_events", "--dry-run", stdout=out)
    assert "acme: 1500 would move" in out.getvalue()
    assert "globex: 700 would move" in out.getvalue()
    assert "Done: 2200 events would move" in out.getvalue()
    assert ids(AuditEvent) == events and not ids(ArchivedAuditEvent)


def test_the_retention_period_comes_from_the_setting(events, settings):
    settings.LYNX_AUDIT_RETENTION_DAYS = 80
    out = StringIO()
    call_command("archive_audit_events", "--dry-run", stdout=out)
    assert "acme: 1540 would move" in out.getvalue()


def test_archived_events_stay_in_their_tenant_and_their_run(events, client, viewers):
    call_command("archive_audit_events", stdout=StringIO())
    client.force_login(viewers["globex"])
    listed = client.get("/admin/storage/archivedauditevent/?q=old-1")
    assert {e.tenant_id for e in listed.context["cl"].result_list} == {"globex"}
    timeline = client.get("/admin/storage/auditevent/run/?run_id=old-1").context["timeline"]
    assert len(timeline.steps) == 10 and all(step.archived for step in timeline.steps)


def test_a_bad_option_is_a_clear_error():
    result = subprocess.run(
        [sys.executable, "manage.py", "archive_audit_events", "--older-than", "-1"],
        cwd=ROOT,
        env=os.environ | {"DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "--older-than: must be at least 0" in result.stderr


def test_an_event_already_in_the_archive_stops_the_batch_and_loses_nothing(events):
    """A copy restored by hand must not make the live event vanish without its archive row."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO lynx_audit_events_archive SELECT * FROM lynx_audit_events "
            "WHERE tenant_id = 'acme' ORDER BY created_at LIMIT 1"
        )
    archived_before = ids(ArchivedAuditEvent)
    with pytest.raises(CommandError, match="1 of acme's audit events are already in the archive"):
        call_command("archive_audit_events", "--batch-size", "100", stdout=StringIO())
    assert ids(AuditEvent) == events
    assert ids(ArchivedAuditEvent) == archived_before  # acme comes first: nothing moved

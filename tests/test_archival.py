"""archive_audit_events: moves old events, keeps recent ones, survives being killed mid-batch."""

import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from storage.audit.services import archive_audit_events_batch
from storage.models import ArchivedAuditEvent, AuditEvent
from tests.catalog import connect, database_url

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
OLD = {"acme": 1500, "globex": 700}
RECENT = 40
BATCH = 50
BATCHES = ("--batch-size", str(BATCH), "--pause", "0.05")
# Unique per test run: other databases on the same server may run this test at the same time.
COMMAND_APPLICATION = f"archive-kill-test-{os.getpid()}"


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
    in_both, lost = len(live & archived), len(original - live - archived)
    assert in_both == 0, f"{in_both} events are in both tables"
    assert lost == 0, f"{lost} events were lost"
    assert live | archived == original
    return live, archived


def start_archiving(*args: str) -> subprocess.Popen:
    """The command in its own process, as cron runs it, named so its backend can be found."""
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(connection.settings_dict["NAME"]),
        "PGAPPNAME": COMMAND_APPLICATION,  # libpq sets application_name from it
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "archive_audit_events", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def read_progress(process: subprocess.Popen, batches: int) -> None:
    """Read the command's output until it reports `batches` batches moved."""
    while batches:
        line = process.stdout.readline()
        assert line, "the command ended before it could be killed"
        batches -= line.endswith(" moved\n")


def waiting_backend(process: subprocess.Popen) -> int:
    """The pid of the command's backend once its statement waits for a lock the test holds."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = %s AND wait_event_type = 'Lock'",
                [COMMAND_APPLICATION],
            )
            row = cursor.fetchone()
        if row:
            return row[0]
        time.sleep(0.01)
    pytest.fail("the command's batch never waited for the test's lock")


def kill_inside_a_batch(block: str, *args: str, after_batches: int = 0) -> None:
    """Hold `block` in a transaction of the test's own, after `after_batches` batches moved,
    so that the next batch's statement is known to be in flight, waiting for it; then kill
    the command and its connection (pg_terminate_backend: what a crash, a restart or a
    dropped connection does to a running statement), and release the block."""
    with connect(connection.settings_dict["NAME"]) as blocker:
        blocker.execute("BEGIN")
        if not after_batches:
            blocker.execute(block)
        process = start_archiving(*args)
        try:
            read_progress(process, after_batches)
            if after_batches:
                blocker.execute(block)
            pid = waiting_backend(process)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
                assert cursor.fetchone() == (True,)
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        finally:
            process.kill()
            process.stdout.close()
            blocker.execute("ROLLBACK")


def test_a_run_killed_inside_a_batch_loses_and_duplicates_nothing_and_a_rerun_finishes(events):
    """Three kills, each while a batch's statement is in flight, waiting for a lock the test
    holds, at different points of the batch. A batch that commits its select, insert and
    delete separately leaves events in both tables (killed before its delete) or in neither
    (killed before its insert)."""
    # Writes to the live table wait: the kill lands where the batch deletes.
    kill_inside_a_batch("LOCK TABLE lynx_audit_events IN SHARE MODE", *BATCHES, after_batches=3)
    _, archived = assert_nothing_lost_or_duplicated(events)
    assert 3 * BATCH <= len(archived) < sum(OLD.values())

    # Writes to the archive wait: the kill lands where the batch inserts.
    kill_inside_a_batch(
        "LOCK TABLE lynx_audit_events_archive IN SHARE MODE", *BATCHES, after_batches=2
    )
    _, archived = assert_nothing_lost_or_duplicated(events)

    # An uncommitted copy of an event 7 rows into the 4th batch: that batch has deleted
    # (and archived some of) its events when it waits for the copy. None of it may stay.
    kill_inside_a_batch(
        "INSERT INTO lynx_audit_events_archive SELECT * FROM lynx_audit_events "
        f"WHERE tenant_id = 'acme' ORDER BY created_at OFFSET {3 * BATCH + 7} LIMIT 1",
        *BATCHES,
    )
    _, after_three_batches = assert_nothing_lost_or_duplicated(events)
    assert len(after_three_batches) == len(archived) + 3 * BATCH

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


def test_it_prints_each_tenants_estimate_then_its_progress_in_batches_of_5000(tenants):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO lynx_audit_events (run_id, tenant_id, event_type, created_at) "
            "SELECT 'old', 'acme', 'tool_call', now() - interval '100 days' "
            "FROM generate_series(1, 5100)"
        )
    out = StringIO()
    call_command("archive_audit_events", stdout=out)
    header, estimate, *progress = out.getvalue().splitlines()
    assert re.fullmatch(r"  acme: about \d+ to move", estimate), estimate
    assert progress == [
        "  acme: 5000 moved",
        "  acme: 5100 moved",
        "Done: 5100 events moved to the archive.",
    ]


def test_older_than_overrides_the_retention_setting(events):
    out = StringIO()
    call_command("archive_audit_events", "--older-than", "80", "--dry-run", stdout=out)
    assert "acme: 1540 would move" in out.getvalue()


def test_pause_waits_after_each_full_batch(events, monkeypatch):
    waits = []
    monkeypatch.setattr("storage.management.commands.archive_audit_events.time.sleep", waits.append)
    call_command(
        "archive_audit_events", "--batch-size", "500", "--pause", "0.25", stdout=StringIO()
    )
    assert waits == [0.25] * 4  # acme: 3 full batches of 1500 events; globex: 1 of 700


def test_a_second_run_skips_the_events_the_first_is_moving(events):
    """Two runs share the work: what another run has locked is skipped, never waited for."""
    other = psycopg.connect(database_url(connection.settings_dict["NAME"]))
    try:
        locked = {
            event_id
            for (event_id,) in other.execute(
                "SELECT event_id FROM lynx_audit_events WHERE tenant_id = 'acme' "
                "ORDER BY created_at LIMIT 100 FOR UPDATE"
            )
        }
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")  # a run that waits fails, not hangs
        moved = archive_audit_events_batch(
            tenant_id="acme", older_than=timezone.now() - timedelta(days=90), batch_size=100
        )
    finally:
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert moved == 100
    archived = ids(ArchivedAuditEvent)
    assert len(archived) == 100 and not archived & locked
    assert_nothing_lost_or_duplicated(events)

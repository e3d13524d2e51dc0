"""Every list's rows are the markup Django's admin writes for them, byte for byte, only faster;
moments read the same as Django's formatter writes them."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.templatetags.admin_list import results
from django.utils import formats, timezone

from storage.admin.list_rows import rendered_rows
from storage.choices import EventType, ExecutionStatus
from storage.models import AuditEvent, SettlementIntent
from storage.moments import format_moment
from storage.tenancy import tenant_context
from tests.conftest import HOSTILE, make_draft, make_execution, make_hostile_payment, make_review

pytestmark = pytest.mark.django_db

LISTS = [
    ("acme-reviewer", "/admin/storage/draft/"),
    ("acme-auditor", "/admin/storage/draft/?status=all&risk_level__exact=low"),
    ("acme-auditor", "/admin/storage/draftreview/"),
    ("acme-auditor", "/admin/storage/execution/?status__exact=failed"),
    ("acme-auditor", "/admin/storage/auditevent/"),
    ("acme-operator", "/admin/storage/settlementintent/"),
]


@pytest.fixture
def people(reviewers, make_user, tenants):
    return {
        **reviewers,
        "acme-operator": make_user(
            "acme-operator", tenant=tenants["acme"], perms=("view_settlementintent",)
        ),
    }


@pytest.fixture
def awkward_rows(people):
    """Values that test the rendering: markup, blanks, no values, keys that need quoting."""
    payment = make_hostile_payment("acme", request_id="   ")
    make_review(payment, people["acme-reviewer2"], reason=HOSTILE)
    make_draft("acme", created_by="", request_id=None)
    make_execution(payment, status=ExecutionStatus.FAILED, tool_id=HOSTILE, request_id="")
    AuditEvent.objects.create(
        run_id=HOSTILE, tenant_id="acme", event_type=EventType.REFUSAL, tool_id=""
    )
    AuditEvent.objects.create(run_id="", tenant_id="acme", event_type=EventType.RUN_START)
    SettlementIntent.objects.create(payment_id='pay/_:?#&<"x">%', tenant_id="acme")
    SettlementIntent.objects.create(
        payment_id="pay-plain", tenant_id="acme", provider="manual", metadata={"payee": HOSTILE}
    )


@pytest.mark.parametrize(("username", "url"), LISTS)
def test_rows_are_the_markup_djangos_admin_writes(client, people, awkward_rows, username, url):
    client.force_login(people[username])
    response = client.get(url)
    changelist = response.context["cl"]
    assert changelist.result_list, "nothing listed: the comparison would prove nothing"

    with tenant_context("acme"):
        django_rows = ["".join(str(cell) for cell in row) for row in results(changelist)]
        ours = [str(row[0]) for row in rendered_rows(changelist)]

    assert ours == django_rows
    assert all(row in response.text for row in ours)


def test_links_keep_the_lists_filters(client, people, awkward_rows):
    client.force_login(people["acme-auditor"])
    response = client.get("/admin/storage/execution/?status__exact=failed")
    assert "/change/?_changelist_filters=status__exact%3Dfailed" in response.text


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 25, 9, 50, 12, 999999, tzinfo=UTC),
        datetime(987, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # the night Europe/Paris moves its clocks
    ],
)
@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/St_Johns"])
def test_moments_read_as_djangos_formatter_writes_them(moment, zone):
    with timezone.override(ZoneInfo(zone)):
        expected = formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")
        assert format_moment(moment) == expected
        assert format_moment(moment, zone=ZoneInfo(zone)) == expected
    assert format_moment(None) == "–"

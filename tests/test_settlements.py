"""Manual settlement: queued -> processing -> completed|failed, with a note, by operators only."""

import re
import threading

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import connections
from django.test import Client
from django.utils.html import escape

from storage.actions import ActionRefused
from storage.models import SettlementIntent
from storage.settlement import services
from storage.tenancy import tenant_context
from tests.db_errors import sqlstate_of
from tests.pages import messages_of

pytestmark = pytest.mark.django_db(transaction=True)

LIST = "/admin/storage/settlementintent/"


@pytest.fixture
def people(tenants, make_user):
    return {
        "operator": make_user(
            "acme-operator", tenant=tenants["acme"], groups=("Settlement operators",)
        ),
        "auditor": make_user("acme-auditor", tenant=tenants["acme"], groups=("Auditors",)),
        "globex-operator": make_user(
            "globex-operator", tenant=tenants["globex"], groups=("Settlement operators",)
        ),
    }


@pytest.fixture
def intents(tenants):
    def make(payment_id, tenant_id="acme", **fields):
        return SettlementIntent.objects.create(payment_id=payment_id, tenant_id=tenant_id, **fields)

    return {
        "manual": make("pay-manual", provider="manual"),
        "bank": make("pay-bank", provider="bank_x"),
        "globex": make("pay-globex", tenant_id="globex", provider="manual"),
    }


def move(user, payment_id, to_status, note="checked with the bank") -> str:
    """What became of the intent, in words ("" if it was not found).

    The service opens the user's tenant context itself, as from a shell or a command.
    """
    outcomes = services.move_settlements(
        user=user, payment_ids=[payment_id], to_status=to_status, note=note
    )
    return outcomes[0].effect if outcomes else ""


def test_an_operator_moves_a_manual_intent_to_completed_with_notes(people, intents):
    operator = people["operator"]
    before = SettlementIntent.objects.get(pk="pay-manual").updated_at
    move(operator, "pay-manual", "processing", note="sent by hand")
    move(operator, "pay-manual", "completed", note="bank confirmed")
    intent = SettlementIntent.objects.get(pk="pay-manual")
    assert intent.settlement_status == "completed"
    assert intent.updated_at > before
    notes = intent.metadata["notes"]
    assert [(n["from"], n["to"], n["note"], n["by"]) for n in notes] == [
        ("queued", "processing", "sent by hand", "acme-operator"),
        ("processing", "completed", "bank confirmed", "acme-operator"),
    ]
    assert notes[-1]["at"] == intent.updated_at.isoformat()
    assert [
        (log.user, log.object_id, log.action_flag, log.get_change_message())
        for log in LogEntry.objects.order_by("pk")
    ] == [
        (operator, "pay-manual", CHANGE, "Moved from queued to processing: sent by hand"),
        (operator, "pay-manual", CHANGE, "Moved from processing to completed: bank confirmed"),
    ]


@pytest.mark.parametrize(
    ("payment_id", "steps", "message"),
    [
        ("pay-manual", ["completed"], "skipped: it is queued: it cannot move to completed"),
        ("pay-manual", ["processing", "queued"], "skipped: it is processing: it cannot move to"),
        ("pay-manual", ["processing", "failed", "processing"], "skipped: it is failed"),
        ("pay-bank", ["processing"], "skipped: it is settled by Bank X, not by hand"),
        ("pay-globex", ["processing"], ""),  # another tenant's: not found
    ],
)
def test_only_the_allowed_moves_of_manual_intents_of_ones_tenant(
    people, intents, payment_id, steps, message
):
    *allowed, refused = steps
    for status in allowed:
        assert move(people["operator"], payment_id, status) == f"moved to {status}"
    before = SettlementIntent.objects.get(pk=payment_id)
    assert move(people["operator"], payment_id, refused).startswith(message)
    after = SettlementIntent.objects.get(pk=payment_id)
    assert (after.settlement_status, after.metadata) == (before.settlement_status, before.metadata)


@pytest.mark.parametrize(
    ("metadata", "kept"),
    [(None, []), ({"notes": None, "ref": 1}, []), ({"notes": [{"note": "old"}]}, ["old"])],
)
def test_notes_are_appended_to_what_lynx_wrote(people, intents, metadata, kept):
    SettlementIntent.objects.filter(pk="pay-manual").update(metadata=metadata)
    move(people["operator"], "pay-manual", "processing", note="new")
    saved = SettlementIntent.objects.get(pk="pay-manual").metadata
    assert [n["note"] for n in saved["notes"]] == [*kept, "new"]
    assert saved.get("ref") == (metadata or {}).get("ref")


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"notes": "legacy text"}, "skipped: its metadata.notes is not a list"),
        (["a", "list"], "skipped: its metadata is not a JSON object"),
    ],
)
def test_metadata_it_cannot_extend_is_refused_and_left_alone(people, intents, metadata, message):
    SettlementIntent.objects.filter(pk="pay-manual").update(metadata=metadata)
    assert move(people["operator"], "pay-manual", "processing").startswith(message)
    intent = SettlementIntent.objects.get(pk="pay-manual")
    assert (intent.settlement_status, intent.metadata) == ("queued", metadata)


def test_a_note_and_the_permission_are_required(people, intents):
    with pytest.raises(ActionRefused, match="A note is required"):
        move(people["operator"], "pay-manual", "processing", note="   ")
    with pytest.raises(ActionRefused, match="You may not settle"):
        move(people["auditor"], "pay-manual", "processing")
    too_many = [f"pay-{n}" for n in range(101)]
    with pytest.raises(ActionRefused, match="Choose at most 100 intents at a time."):
        services.move_settlements(
            user=people["operator"], payment_ids=too_many, to_status="processing", note="x"
        )
    assert SettlementIntent.objects.get(pk="pay-manual").settlement_status == "queued"


def test_two_operators_at_once_move_an_intent_only_once(people, intents):
    """The second waits for the first's row lock, then sees `processing` and is refused."""
    operator = people["operator"]
    move(operator, "pay-manual", "processing")
    outcomes, first_has_lock, release = [], threading.Event(), threading.Event()

    def racer(to_status: str, hold: bool) -> None:
        try:
            with tenant_context("acme"):
                effect = move(operator, "pay-manual", to_status, note=to_status)
                if hold:
                    first_has_lock.set()
                    release.wait(5)
            outcomes.append(to_status if effect == f"moved to {to_status}" else "refused")
        finally:
            connections.close_all()

    first = threading.Thread(target=racer, args=("completed", True))
    first.start()
    assert first_has_lock.wait(5)
    second = threading.Thread(target=racer, args=("failed", False))
    second.start()
    second.join(0.5)
    assert second.is_alive(), "the second mover did not wait for the lock"
    release.set()
    first.join(5)
    second.join(5)
    assert sorted(outcomes) == ["completed", "refused"]  # the final status says who won
    intent = SettlementIntent.objects.get(pk="pay-manual")
    assert intent.settlement_status == "completed"
    assert [n["to"] for n in intent.metadata["notes"]] == ["processing", "completed"]


def test_the_web_role_may_update_only_the_three_settlement_columns(intents):
    with tenant_context("acme"):
        rows = SettlementIntent.objects.filter(pk="pay-manual")
        assert sqlstate_of(lambda: rows.update(provider="none")) == "42501"
        assert sqlstate_of(lambda: rows.update(payment_id="x")) == "42501"
        assert sqlstate_of(lambda: rows.update(metadata={}, settlement_status="failed")) is None
        # Another tenant's intent is invisible: nothing to update.
        assert SettlementIntent.objects.filter(pk="pay-globex").update(metadata={}) == 0


def post_action(client: Client, action: str, payment_id: str, **extra):
    return client.post(LIST, {"action": action, "_selected_action": payment_id, **extra})


def test_the_admin_asks_for_a_note_on_a_confirmation_page_then_moves(client, people, intents):
    client.force_login(people["operator"])
    detail = client.get(f"{LIST}pay-manual/change/")
    assert 'data-action="move_to_processing"' in detail.text
    confirmation = post_action(client, "move_to_processing", "pay-manual")
    assert confirmation.status_code == 200
    assert "Yes, move to processing" in confirmation.text
    assert "This field is required" not in confirmation.text  # asked, not yet answered
    assert confirmation.templates[0].name == "admin/storage/action_confirmation.html"
    assert SettlementIntent.objects.get(pk="pay-manual").settlement_status == "queued"
    no_note = post_action(client, "move_to_processing", "pay-manual", post="yes", note="")
    assert "This field is required" in no_note.text
    done = post_action(client, "move_to_processing", "pay-manual", post="yes", note="wired")
    assert done.status_code == 302
    assert SettlementIntent.objects.get(pk="pay-manual").settlement_status == "processing"
    assert messages_of(client.get(LIST)) == ["pay-manual: moved to processing."]


def test_the_intent_page_offers_only_the_moves_allowed_now(client, people, intents):
    client.force_login(people["operator"])

    def offered(payment_id: str) -> list[str]:
        return re.findall(r'data-action="(\w+)"', client.get(f"{LIST}{payment_id}/change/").text)

    assert offered("pay-manual") == ["move_to_processing"]
    assert offered("pay-bank") == []
    move(people["operator"], "pay-manual", "processing")
    assert offered("pay-manual") == ["move_to_completed", "move_to_failed"]
    move(people["operator"], "pay-manual", "failed")
    assert offered("pay-manual") == []


def test_refused_moves_are_reported_and_change_nothing(client, people, intents):
    client.force_login(people["operator"])
    response = post_action(client, "move_to_completed", "pay-bank", post="yes", note="x")
    assert response.status_code == 302
    assert messages_of(client.get(LIST)) == [
        "pay-bank: skipped: it is settled by Bank X, not by hand."
    ]
    assert SettlementIntent.objects.get(pk="pay-bank").settlement_status == "queued"


def test_a_forged_post_by_an_auditor_changes_nothing(client, people, intents):
    client.force_login(people["auditor"])
    detail = client.get(f"{LIST}pay-manual/change/")
    assert detail.status_code == 200 and "settle-button" not in detail.text
    assert "move_to_processing" not in client.get(LIST).text
    post_action(client, "move_to_processing", "pay-manual", post="yes", note="forged")
    assert SettlementIntent.objects.get(pk="pay-manual").settlement_status == "queued"


def test_the_actions_need_a_csrf_token(people, intents):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["operator"])
    response = post_action(client, "move_to_processing", "pay-manual", post="yes", note="x")
    assert response.status_code == 403
    assert SettlementIntent.objects.get(pk="pay-manual").settlement_status == "queued"


def test_the_list_shows_the_start_of_the_metadata(client, people, tenants):
    """Whole when short; its first 59 characters and an ellipsis when longer."""
    SettlementIntent.objects.create(payment_id="pay-short", tenant_id="acme", metadata={"a": 1})
    long = {"note": "é" * 40 + "<b>" + "x" * 40}
    SettlementIntent.objects.create(payment_id="pay-long", tenant_id="acme", metadata=long)
    client.force_login(people["auditor"])

    page = client.get(LIST).text

    assert '<td class="field-summary">{&quot;a&quot;: 1}</td>' in page
    shown = '{"note": "' + "é" * 40 + "<b>" + "x" * 6 + "…"
    assert len(shown) == 60
    assert f'<td class="field-summary">{escape(shown)}</td>' in page

"""Within its tenant, a request writes only what its person may, in their own name (0029).

As gunicorn's web role (`web_process`), a request's own SQL (a SQL injection) tries the
writes the RLS role is granted; the database refuses those the services' checks would, and
the pages themselves still decide, move and edit as before.
"""

import pytest
from django.contrib.admin.models import CHANGE

from storage.models import ApprovalRule, SettlementIntent, User
from tests.conftest import fingerprint_of, make_draft
from tests.decisions import approve, confirmed_approval, recorded, status_of
from tests.web_login import INSUFFICIENT_PRIVILEGE, as_owner, inject, signed_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.urls")]

QUEUE = "/admin/storage/draft/"


@pytest.fixture
def people(reviewers, tenants, make_user) -> dict[str, User]:
    acme = tenants["acme"]
    return {
        **reviewers,
        "acme-operator": make_user("acme-operator", tenant=acme, groups=("Settlement operators",)),
        "acme-admin": make_user("acme-admin", tenant=acme, groups=("Tenant admins",)),
    }


@pytest.fixture
def work(people) -> dict:
    """A submitted draft (with the fingerprint its page shows), a manual intent, a rule."""
    draft = make_draft("acme")
    return {
        "draft": draft,
        "seen": fingerprint_of(draft),
        "intent": SettlementIntent.objects.create(
            payment_id="pay-1", tenant_id="acme", provider="manual"
        ),
        "rule": ApprovalRule.objects.create(tenant_id="acme", name="Everything", approvals=1),
    }


@pytest.mark.parametrize("username", ["acme-auditor", "acme-reviewer"])
def test_no_request_approves_a_draft_without_its_person_s_decision(
    people, work, web_process, username
):
    draft = work["draft"]
    assert inject(signed_in(username), approve(draft)) == {"sqlstate": INSUFFICIENT_PRIVILEGE}
    assert status_of(draft) == "submitted"


def test_a_decision_names_the_acting_reviewer_who_may_review(people, work, web_process):
    draft, reviewer = work["draft"], signed_in("acme-reviewer")
    in_another_name = recorded(draft, people["acme-reviewer2"])
    assert inject(reviewer, in_another_name) == {"sqlstate": INSUFFICIENT_PRIVILEGE}
    not_a_reviewer = recorded(draft, people["acme-auditor"])
    assert inject(signed_in("acme-auditor"), not_a_reviewer) == {"sqlstate": INSUFFICIENT_PRIVILEGE}
    # Their own decision first: the draft's status may then follow it, as the service does.
    own = f"{recorded(draft, people['acme-reviewer'])}; {approve(draft)}"
    assert inject(reviewer, own) == {"rows": [[1]]}
    assert status_of(draft) == "approved"


def test_only_an_operator_moves_an_intent(people, work, web_process):
    move = "UPDATE settlement_intents SET settlement_status = 'processing' RETURNING payment_id"
    assert inject(signed_in("acme-auditor"), move) == {"sqlstate": INSUFFICIENT_PRIVILEGE}
    assert inject(signed_in("acme-operator"), move) == {"rows": [["pay-1"]]}


def test_only_an_editor_of_rules_changes_them(people, work, web_process):
    rename = "UPDATE portal_approval_rules SET name = 'Nothing' RETURNING name"
    delete = "DELETE FROM portal_approval_rules RETURNING name"
    reviewer = signed_in("acme-reviewer")  # reads the rules, edits none
    assert inject(reviewer, "SELECT name FROM portal_approval_rules") == {"rows": [["Everything"]]}
    assert inject(reviewer, rename) == {"sqlstate": INSUFFICIENT_PRIVILEGE}
    assert inject(reviewer, delete) == {"rows": []}
    assert inject(signed_in("acme-admin"), rename) == {"rows": [["Nothing"]]}


def test_an_admin_log_entry_names_the_acting_person(people, work, web_process):
    def entry(user: User) -> str:
        return (
            "INSERT INTO django_admin_log (action_time, user_id, object_id, object_repr, "
            f"action_flag, change_message) VALUES (now(), {user.pk}, '1', 'x', {CHANGE}, '') "
            "RETURNING user_id"
        )

    auditor = signed_in("acme-auditor")
    reviewer = people["acme-reviewer"]
    assert inject(auditor, entry(reviewer)) == {"sqlstate": INSUFFICIENT_PRIVILEGE}
    assert inject(auditor, entry(people["acme-auditor"])) == {"rows": [[people["acme-auditor"].pk]]}


def test_the_pages_still_decide_move_and_edit_as_the_web_role(people, work, web_process):
    """The policies refuse nothing the services do: approve, move an intent, edit a rule."""
    draft = work["draft"]
    approved = signed_in("acme-reviewer").post(QUEUE, confirmed_approval(draft, work["seen"]))
    assert approved.status_code == 302
    assert status_of(draft) == "approved"
    moved = signed_in("acme-operator").post(
        "/admin/storage/settlementintent/",
        {
            "action": "move_to_processing",
            "_selected_action": "pay-1",
            "post": "yes",
            "note": "wired",
        },
    )
    assert moved.status_code == 302
    rule = work["rule"]
    edited = signed_in("acme-admin").post(
        f"/admin/storage/approvalrule/{rule.pk}/change/",
        {
            "name": "Everything, twice",
            "draft_type": "",
            "risk_level": "",
            "min_amount": "",
            "currency": "",
            "approvals": "2",
            "required_group": "",
        },
    )
    assert edited.status_code == 302
    assert as_owner(
        "SELECT s.settlement_status, r.name, r.approvals FROM settlement_intents s, "
        "portal_approval_rules r"
    ) == [("processing", "Everything, twice", 2)]
    logged = "SELECT u.username FROM django_admin_log l JOIN storage_user u ON u.id = l.user_id"
    assert sorted(name for [name] in as_owner(logged)) == [
        "acme-admin",
        "acme-operator",
        "acme-reviewer",
    ]

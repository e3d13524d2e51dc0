"""Editing approval rules in the admin: superusers pick a tenant, every change has a history."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from storage.actions import ActionRefused
from storage.models import ApprovalRule, ApprovalRuleChange
from storage.review import rule_editing
from storage.tenancy import tenant_context
from tests.db_errors import sqlstate_of
from tests.pages import messages_of

pytestmark = pytest.mark.django_db

RULES = "/admin/storage/approvalrule/"
HISTORY = "/admin/storage/approvalrulechange/"
CHOOSE = RULES + "tenant/"
LARGE_PAYMENTS = {
    "name": "Large payments",
    "draft_type": "vpm_payment",
    "risk_level": "",
    "min_amount": "100000",
    "currency": "eur",
    "approvals": "2",
    "required_group": "",
}


@pytest.fixture
def root(client, make_user):
    client.force_login(make_user("root", is_superuser=True))
    return client


def shown(response) -> list[str]:
    return [str(rule) for rule in response.context["cl"].result_list]


def test_a_superuser_picks_a_tenant_then_adds_changes_and_deletes_its_rules(root, tenants):
    ApprovalRule.objects.create(tenant_id="globex", name="Globex rule", approvals=1)
    response = root.get(RULES)
    assert shown(response) == []
    assert messages_of(response) == ["Choose the tenant whose approval rules you want to see."]
    assert 'href="/admin/storage/approvalrule/add/"' not in response.text

    response = root.post(CHOOSE, {"tenant": "acme"}, follow=True)
    assert messages_of(response) == ["You are working on the approval rules of Acme."]
    assert shown(response) == []  # globex's rule is not acme's

    senior = Group.objects.create(name="Senior reviewers")
    response = root.post(RULES + "add/", LARGE_PAYMENTS | {"required_group": senior.pk})
    assert response.status_code == 302
    rule = ApprovalRule.objects.get(tenant_id="acme")
    assert (rule.name, rule.min_amount, rule.currency, rule.required_group) == (
        "Large payments",
        Decimal("100000.00"),
        "EUR",
        senior,
    )
    root.post(f"{RULES}{rule.pk}/change/", LARGE_PAYMENTS | {"approvals": "3"})
    root.post(f"{RULES}{rule.pk}/delete/", {"post": "yes"})
    assert not ApprovalRule.objects.filter(tenant_id="acme").exists()

    changes = list(ApprovalRuleChange.objects.order_by("changed_at"))
    assert [(c.action, c.changed_by.username, c.tenant_id) for c in changes] == [
        ("added", "root", "acme"),
        ("changed", "root", "acme"),
        ("deleted", "root", "acme"),
    ]
    added, changed, deleted = changes
    assert added.before is None
    assert added.after == {
        "name": "Large payments",
        "draft_type": "vpm_payment",
        "risk_level": None,
        "min_amount": "100000.00",
        "currency": "EUR",
        "approvals": 2,
        "required_group": "Senior reviewers",
    }
    assert (changed.before["approvals"], changed.after["approvals"]) == (2, 3)
    assert (deleted.before["approvals"], deleted.after) == (3, None)
    history = root.get(HISTORY)
    assert len(history.context["cl"].result_list) == 3
    assert "&quot;approvals&quot;: 3" in history.text


def test_a_rule_the_database_would_refuse_is_a_form_error(root, tenants):
    root.post(CHOOSE, {"tenant": "acme"})
    response = root.post(RULES + "add/", LARGE_PAYMENTS | {"currency": ""})
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "An amount needs a three-letter currency, and only payment rules have one."
    ]
    response = root.post(RULES + "add/", LARGE_PAYMENTS | {"draft_type": "docs"})
    assert response.context["adminform"].form.non_field_errors() == [
        "An amount needs a three-letter currency, and only payment rules have one."
    ]
    response = root.post(RULES + "add/", LARGE_PAYMENTS | {"approvals": "11"})
    assert "A rule asks for 1 to 10 approvals." in response.text
    assert not ApprovalRule.objects.exists()
    assert not ApprovalRuleChange.objects.exists()


def test_choosing_a_tenant_takes_a_post_a_known_tenant_and_a_superuser(root, client, reviewers):
    assert root.get(CHOOSE).status_code == 405
    response = root.post(CHOOSE, {"tenant": "initech"}, follow=True)
    assert messages_of(response) == [
        "Choose one of the tenants listed.",
        "Choose the tenant whose approval rules you want to see.",
    ]
    client.force_login(reviewers["acme-reviewer"])
    assert client.post(CHOOSE, {"tenant": "globex"}).status_code == 403


def test_reviewers_read_their_tenants_rules_but_may_not_edit_them(client, reviewers):
    ApprovalRule.objects.create(tenant_id="acme", name="Acme rule", approvals=2)
    ApprovalRule.objects.create(tenant_id="globex", name="Globex rule", approvals=2)
    client.force_login(reviewers["acme-reviewer"])
    assert shown(client.get(RULES)) == ["Acme rule"]
    assert client.get(RULES + "add/").status_code == 403
    rule = ApprovalRule.objects.get(name="Acme rule")
    client.post(f"{RULES}{rule.pk}/change/", LARGE_PAYMENTS)
    assert ApprovalRule.objects.get(pk=rule.pk).name == "Acme rule"
    assert client.get(HISTORY).status_code == 403  # the history is for auditors and editors


def test_a_tenant_user_with_the_permission_edits_only_their_own_tenants_rules(
    client, tenants, make_user
):
    editor = make_user("acme-admin", tenant=tenants["acme"], perms=("edit_approval_rules",))
    client.force_login(editor)
    assert client.post(RULES + "add/", LARGE_PAYMENTS).status_code == 302
    assert ApprovalRule.objects.get().tenant_id == "acme"
    assert client.post(CHOOSE, {"tenant": "globex"}).status_code == 403


def test_the_service_refuses_an_editor_another_tenants_rules(tenants, make_user):
    """From a shell or a command as well: the permission covers one's own tenant only."""
    editor = make_user("acme-admin", tenant=tenants["acme"], perms=("edit_approval_rules",))
    rule = ApprovalRule(name="Globex rule", approvals=3)
    with pytest.raises(ActionRefused, match="You may not edit this tenant's approval rules."):
        rule_editing.save_rule(user=editor, tenant_id="globex", rule=rule)
    assert not ApprovalRule.objects.exists() and not ApprovalRuleChange.objects.exists()


def test_nobody_changes_or_deletes_the_history_in_the_admin(root, tenants, make_user):
    change = ApprovalRuleChange.objects.create(
        tenant_id="acme", rule_id="00000000-0000-0000-0000-000000000001", action="added",
        changed_by=make_user("author"), after={"name": "x"},
    )  # fmt: skip
    root.post(CHOOSE, {"tenant": "acme"})
    assert root.get(f"{HISTORY}{change.pk}/change/").status_code == 200  # to read it
    assert root.get(f"{HISTORY}{change.pk}/delete/").status_code == 403
    assert root.post(f"{HISTORY}{change.pk}/change/", {"after": "{}"}).status_code == 403
    assert ApprovalRuleChange.objects.get().after == {"name": "x"}


@pytest.mark.django_db(transaction=True)
def test_the_history_is_append_only_for_the_web_role(tenants, make_user):
    root = make_user("root", is_superuser=True)
    change = ApprovalRuleChange.objects.create(
        tenant_id="acme", rule_id="00000000-0000-0000-0000-000000000001", action="added",
        changed_by=root, after={"name": "x"},
    )  # fmt: skip
    with tenant_context("acme"):
        changes = ApprovalRuleChange.objects.filter(pk=change.pk)
        assert sqlstate_of(lambda: changes.update(after={"name": "y"})) == "42501"
        assert sqlstate_of(lambda: changes.delete()) == "42501"
    assert ApprovalRuleChange.objects.get().after == {"name": "x"}

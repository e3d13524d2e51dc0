"""The list pages' action bar is the markup Django's admin writes for it."""

import pytest
from django.contrib.admin import helpers
from django.test.html import parse_html

from storage.admin.action_form import ActionForm
from tests.conftest import HOSTILE

CHOICES = [("", "---------"), ("approve", HOSTILE), ("Later", [("x&y", "<i>x</i>")])]


def the_forms(choices, data=None) -> tuple[ActionForm, helpers.ActionForm]:
    ours, django = ActionForm(data, auto_id=None), helpers.ActionForm(data, auto_id=None)
    ours.fields["action"].choices = django.fields["action"].choices = choices
    return ours, django


@pytest.mark.parametrize("data", [None, {"action": "x&y", "select_across": "1"}])
def test_the_widgets_write_djangos_markup(data):
    ours, django = the_forms(CHOICES, data)
    for name in ("action", "select_across"):
        assert parse_html(str(ours[name])) == parse_html(str(django[name])), name
    assert HOSTILE not in str(ours["action"])
    assert "<optgroup" in str(ours["action"])


@pytest.mark.django_db
def test_a_list_page_shows_the_action_bar(client, tenants, make_user):
    operator = make_user(
        "acme-operator",
        tenant=tenants["acme"],
        perms=("view_settlementintent", "settle_intent"),
    )
    client.force_login(operator)
    response = client.get("/admin/storage/settlementintent/")
    shown = response.context["action_form"]
    assert isinstance(shown, ActionForm)
    ours, django = the_forms(shown.fields["action"].choices)
    assert len(ours.fields["action"].choices) > 1
    assert str(shown["action"]) in response.text
    assert parse_html(str(ours["action"])) == parse_html(str(django["action"]))

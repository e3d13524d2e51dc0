"""The operations groups: made by migration 0013 and by tests, from one definition."""

import pytest
from django.contrib.auth.models import Group, Permission

from storage.groups import GROUP_PERMISSIONS, ensure_groups

pytestmark = pytest.mark.django_db


def permissions_of(name: str) -> set[str]:
    return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))


def test_ensure_groups_is_idempotent_and_keeps_what_others_gave():
    auditors, _ = Group.objects.get_or_create(name="Auditors")
    auditors.permissions.add(Permission.objects.get(codename="change_tenant"))
    ensure_groups()
    ensure_groups()
    assert permissions_of("Settlement operators") == {"view_settlementintent", "settle_intent"}
    assert permissions_of("Auditors") == {*GROUP_PERMISSIONS["Auditors"], "change_tenant"}
    assert Group.objects.filter(name__in=GROUP_PERMISSIONS).count() == 2

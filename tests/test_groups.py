"""The groups: made by the latest group migration and by tests, from one definition."""

import importlib

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from storage.roles import GROUP_PERMISSIONS, ensure_groups

pytestmark = pytest.mark.django_db


def held() -> dict[str, set[str]]:
    return {
        group.name: set(group.permissions.values_list("codename", flat=True))
        for group in Group.objects.filter(name__in=GROUP_PERMISSIONS)
    }


def test_ensure_groups_is_idempotent_and_gives_exactly_the_definition():
    auditors, _ = Group.objects.get_or_create(name="Auditors")
    auditors.permissions.add(Permission.objects.get(codename="review_draft"))
    ensure_groups()
    ensure_groups()
    assert held() == {name: set(codenames) for name, codenames in GROUP_PERMISSIONS.items()}
    assert "review_draft" not in held()["Auditors"]
    assert held()["Settlement operators"] == {"view_settlementintent", "settle_intent"}


def test_the_newest_group_migration_makes_the_groups_as_defined():
    Group.objects.filter(name__in=GROUP_PERMISSIONS).delete()
    migration = importlib.import_module("storage.migrations.0017_tenant_admins_group")
    state = MigrationLoader(connection).project_state(("storage", "0017_tenant_admins_group"))
    migration.create_groups(state.apps, schema_editor=None)
    assert held() == {name: set(codenames) for name, codenames in GROUP_PERMISSIONS.items()}

"""The signed-in user is loaded with exactly the permissions Django's ModelBackend would give."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group

from storage.people.backend import PortalUserBackend, group_ids
from storage.roles import AUDITORS, REVIEWERS
from tests.conftest import force_generic_plans

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tenants, groups, make_user):
    acme = tenants["acme"]
    return {
        "reviewer": make_user("r", tenant=acme, groups=(REVIEWERS,), perms=("export_rows",)),
        "both": make_user("b", tenant=acme, groups=(REVIEWERS, AUDITORS)),
        "nobody": make_user("n", tenant=acme),
        "root": make_user("root", is_superuser=True),
        "gone": make_user("gone", tenant=acme, groups=(REVIEWERS,), is_active=False),
    }


@pytest.mark.parametrize("name", ["reviewer", "both", "nobody", "root"])
def test_permissions_and_groups_are_those_django_reads_in_three_queries(people, name):
    user = PortalUserBackend().get_user(people[name].pk)
    expected = ModelBackend().get_all_permissions(people[name])

    assert user.get_all_permissions() == expected
    assert expected or name == "nobody"
    assert group_ids(user=user) == set(people[name].groups.values_list("pk", flat=True))


def test_the_kept_plans_answer_for_every_user_in_turn(people):
    """portal_user_access keeps its plans for the session, and PostgreSQL may switch to one
    plan for any argument (a generic plan, forced here): users in turn, a superuser among
    them, still get their own permissions and groups."""
    force_generic_plans()
    for name in ["reviewer", "root", "nobody", "both"] * 2:
        user = PortalUserBackend().get_user(people[name].pk)
        assert user.get_all_permissions() == ModelBackend().get_all_permissions(people[name])
        assert group_ids(user=user) == set(people[name].groups.values_list("pk", flat=True))


def test_one_query_answers_every_permission_check(people, django_assert_num_queries):
    reviewers = Group.objects.get(name=REVIEWERS).pk
    with django_assert_num_queries(1):
        user = PortalUserBackend().get_user(people["reviewer"].pk)
        assert user.has_perm("storage.review_draft") and user.has_perm("storage.export_rows")
        assert not user.has_perm("storage.settle_intent")
        assert user.has_module_perms("storage")
        assert group_ids(user=user) == {reviewers}


@pytest.mark.parametrize("user_id", ["gone", 10**12, "not-a-number"])
def test_inactive_missing_and_malformed_ids_sign_nobody_in(people, user_id):
    key = people[user_id].pk if user_id == "gone" else user_id
    assert PortalUserBackend().get_user(key) is None

"""People management: superusers manage every account, tenant admins their tenant's."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.test import Client

from storage.models import Tenant, User
from storage.roles import AUDITORS, REVIEWERS, TENANT_ADMINS
from storage.tenancy import tenant_context
from tests.conftest import make_draft, make_review

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_superuser_adds_a_tenant_and_assigns_a_user_to_it(client, make_user):
    client.force_login(make_user("root", is_superuser=True))
    response = client.post(
        "/admin/storage/tenant/add/", {"tenant_id": "initech", "name": "Initech"}
    )
    assert response.status_code == 302, response.text
    user = make_user("peter")
    change = client.get(f"/admin/storage/user/{user.pk}/change/")
    form = change.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data |= {"tenant": "initech", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}
    data.pop("last_login", None)
    response = client.post(f"/admin/storage/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert User.objects.get(pk=user.pk).tenant_id == "initech"
    assert Tenant.objects.get(pk="initech").name == "Initech"
    assert LogEntry.objects.filter(object_repr="peter").exists()


def test_a_tenant_id_cannot_be_renamed_once_rows_may_carry_it(client, tenants, make_user):
    client.force_login(make_user("root", is_superuser=True))
    client.post("/admin/storage/tenant/acme/change/", {"tenant_id": "acme2", "name": "Acme Inc"})
    assert list(Tenant.objects.filter(pk__startswith="acme").values_list("pk", "name")) == [
        ("acme", "Acme Inc")
    ]


# Tenant admins: the people of their own tenant, nothing more.

USERS = "/admin/storage/user/"


@pytest.fixture
def staff(tenants, make_user, groups):
    acme, globex = tenants["acme"], tenants["globex"]
    return {
        "admin": make_user("acme-admin", tenant=acme, groups=(TENANT_ADMINS,)),
        "reviewer": make_user("acme-reviewer", tenant=acme, groups=(REVIEWERS,)),
        "globex": make_user("globex-reviewer", tenant=globex, groups=(REVIEWERS,)),
        "acme-root": make_user("acme-root", tenant=acme, is_superuser=True),
        "root": make_user("root", is_superuser=True),
    }


def listed(client) -> set[str]:
    return {u.username for u in client.get(USERS).context["cl"].result_list}


def change_data(client, user, **changes) -> dict:
    form = client.get(f"{USERS}{user.pk}/change/").context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.pop("password", None)
    for name in ("date_joined", "last_login"):
        data.pop(name, None)
    return data | changes


def test_a_tenant_admin_lists_only_the_people_of_their_tenant(client, staff):
    client.force_login(staff["admin"])
    assert listed(client) == {"acme-admin", "acme-reviewer"}
    client.force_login(staff["root"])
    assert listed(client) == {u.username for u in staff.values()}


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("page", ["change/", "password/", "history/", "delete/"])
def test_every_user_url_of_another_tenant_is_not_found(client, staff, page, method):
    client.force_login(staff["admin"])
    for outsider in (staff["globex"], staff["acme-root"], staff["root"]):
        data = {"password1": "Another-pass-123", "password2": "Another-pass-123", "post": "yes"}
        response = getattr(client, method)(f"{USERS}{outsider.pk}/{page}", data)
        # 403 where a tenant admin may not do this to anyone (delete), else not found.
        assert response.status_code in (302, 403 if page == "delete/" else 404, 404), outsider
        if response.status_code == 302:  # Django sends a missing object back to the list
            assert response.url == "/admin/"
    assert User.objects.get(pk=staff["globex"].pk).check_password("pw")


def test_a_tenant_admin_cannot_grant_superuser_permissions_groups_or_tenants(client, staff):
    client.force_login(staff["admin"])
    reviewer = staff["reviewer"]
    other_group = Group.objects.create(name="Platform staff")  # grants more than the portal's
    other_group.permissions.add(Permission.objects.get(codename="change_tenant"))
    harmless = Group.objects.create(name="Senior reviewers")  # grants nothing: assignable
    data = change_data(
        client,
        reviewer,
        is_superuser="on",
        tenant="globex",
        user_permissions=[Permission.objects.get(codename="change_tenant").pk],
    )
    assert client.post(f"{USERS}{reviewer.pk}/change/", data).status_code == 302
    reviewer.refresh_from_db()
    assert (reviewer.is_superuser, reviewer.tenant_id) == (False, "acme")
    assert not reviewer.user_permissions.exists()
    response = client.post(
        f"{USERS}{reviewer.pk}/change/", change_data(client, reviewer, groups=[other_group.pk])
    )
    assert response.status_code == 200
    assert "Select a valid choice" in str(response.context["adminform"].form.errors)
    assert not reviewer.groups.filter(pk=other_group.pk).exists()
    data = change_data(client, reviewer, groups=[harmless.pk])
    assert client.post(f"{USERS}{reviewer.pk}/change/", data).status_code == 302
    assert list(reviewer.groups.values_list("name", flat=True)) == ["Senior reviewers"]
    for url in ("/admin/auth/group/add/", "/admin/storage/tenant/add/", "/admin/storage/tenant/"):
        assert client.get(url).status_code == 403, url


def test_a_tenant_admin_creates_deactivates_and_resets_in_their_tenant(client, staff):
    client.force_login(staff["admin"])
    password = "Fresh-pass-4711"
    response = client.post(
        f"{USERS}add/",
        {
            "username": "acme-new",
            "usable_password": "true",
            "password1": password,
            "password2": password,
            "tenant": "globex",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    new = User.objects.get(username="acme-new")
    assert (new.tenant_id, new.is_staff, new.is_superuser) == ("acme", True, False)
    reviewers = Group.objects.get(name=REVIEWERS)
    data = change_data(client, new, groups=[reviewers.pk])
    assert client.post(f"{USERS}{new.pk}/change/", data).status_code == 302
    assert list(new.groups.values_list("name", flat=True)) == [REVIEWERS]
    again = "Second-pass-0815"
    response = client.post(
        f"{USERS}{new.pk}/password/",
        {"password1": again, "password2": again, "usable_password": "true"},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=new.pk).check_password(again)
    data = change_data(client, new)
    data.pop("is_active")
    assert client.post(f"{USERS}{new.pk}/change/", data).status_code == 302
    assert not User.objects.get(pk=new.pk).is_active
    assert client.post(f"{USERS}{new.pk}/delete/", {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=new.pk).exists()


def test_changing_someones_groups_ends_their_other_sessions_not_mine(client, staff):
    theirs = Client()
    theirs.force_login(staff["reviewer"])
    assert theirs.get("/admin/").status_code == 200
    client.force_login(staff["admin"])
    auditors = Group.objects.get(name=AUDITORS)
    reviewer = staff["reviewer"]
    client.post(
        f"{USERS}{reviewer.pk}/change/", change_data(client, reviewer, groups=[auditors.pk])
    )
    assert theirs.get("/admin/").status_code == 302  # signed out
    admins = Group.objects.get(name=TENANT_ADMINS)
    me = staff["admin"]
    client.post(f"{USERS}{me.pk}/change/", change_data(client, me, groups=[admins.pk, auditors.pk]))
    assert client.get("/admin/").status_code == 200  # still signed in


def test_deleting_a_user_with_a_history_is_refused_with_advice_and_keeps_the_trail(client, staff):
    globex_draft = make_draft("globex", payload={"title": "Globex merger"})
    reviewer = staff["reviewer"]
    with tenant_context("globex"):  # a trace in another tenant than the deleting request's
        LogEntry.objects.log_actions(user_id=reviewer.pk, queryset=[globex_draft], action_flag=2)
    client.force_login(staff["root"])
    page = client.get(f"{USERS}{reviewer.pk}/delete/")
    assert page.status_code == 200
    assert "Deactivate it instead" in page.text
    assert str(globex_draft) not in page.text
    assert client.post(f"{USERS}{reviewer.pk}/delete/", {"post": "yes"}).status_code == 200
    response = client.post(
        USERS, {"action": "delete_selected", "_selected_action": [reviewer.pk], "post": "yes"}
    )
    assert response.status_code == 200
    assert User.objects.filter(pk=reviewer.pk).exists()
    assert LogEntry.objects.filter(user_id=reviewer.pk).count() == 1
    unused = User.objects.create_user("acme-unused", tenant_id="acme")
    assert client.post(f"{USERS}{unused.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not User.objects.filter(pk=unused.pk).exists()


def test_a_superuser_cannot_delete_their_own_account_and_is_told_why(client, staff):
    """Django logs a deletion in the deleter's name: deleting oneself was a 500 at commit."""
    root = staff["root"]
    client.force_login(root)
    page = client.post(f"{USERS}{root.pk}/delete/", {"post": "yes"})
    listed = client.post(
        USERS, {"action": "delete_selected", "_selected_action": [root.pk], "post": "yes"}
    )
    assert (page.status_code, listed.status_code) == (200, 200)
    assert "is your own account: another superuser may delete it." in page.text
    assert "is your own account" in listed.text
    assert User.objects.filter(pk=root.pk).exists()


def test_a_users_tenant_with_a_history_cannot_be_changed_by_anyone(client, staff):
    reviewer = staff["reviewer"]
    make_review(make_draft("acme"), reviewer)
    client.force_login(staff["root"])
    data = change_data(client, reviewer, tenant="globex")
    response = client.post(f"{USERS}{reviewer.pk}/change/", data)
    assert response.status_code == 200
    assert "the tenant cannot change" in str(response.context["adminform"].form.errors)
    assert User.objects.get(pk=reviewer.pk).tenant_id == "acme"

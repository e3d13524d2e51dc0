"""Superusers manage tenants and users in the admin, through the RLS role's grants."""

import pytest
from django.contrib.admin.models import LogEntry

from storage.models import Tenant, User

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

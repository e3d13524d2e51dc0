"""A tenant user signs in and sees their tenant's rows, and only those."""

import pytest

from storage.models import Draft

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_tenant_user_signs_in_and_sees_only_their_drafts(page, login, screenshot, rows, viewers):
    login("acme-viewer")
    assert "Tenant: acme" in page.inner_text("#header")
    page.goto("/admin/storage/draft/")
    shown = page.locator("#result_list tbody tr").count()
    assert shown == len(rows["acme"][Draft])
    screenshot("drafts-as-acme")


def test_a_user_without_tenant_is_told_why_the_lists_are_empty(page, login, rows, make_user):
    make_user("root", is_superuser=True)
    login("root")
    page.goto("/admin/storage/draft/")
    assert page.locator("#no-tenant-banner").is_visible()
    assert page.locator("#result_list").count() == 0

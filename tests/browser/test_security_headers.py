"""Every kind of admin page runs under the Content-Security-Policy with no violation.

The `page` fixture fails any browser test whose pages break the policy or raise a script
error; this test visits the pages no other browser test opens, as the people who see them.
"""

import pytest

from storage.models import AuditEvent
from storage.roles import REVIEWERS, TENANT_ADMINS
from tests.conftest import make_draft

pytestmark = pytest.mark.django_db(transaction=True)


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response.status < 400, (url, response.status)
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "camera=()" in response.headers["permissions-policy"]


def test_people_pages_for_a_superuser_and_a_tenant_admin(page, login, tenants, make_user):
    make_user("root", is_superuser=True)
    admin = make_user("acme-admin", tenant=tenants["acme"], groups=(TENANT_ADMINS,))
    login("root")
    for url in (
        "/admin/",
        "/admin/storage/user/",
        "/admin/storage/user/add/",
        f"/admin/storage/user/{admin.pk}/change/",  # filter_horizontal's script
        f"/admin/storage/user/{admin.pk}/password/",
        f"/admin/storage/user/{admin.pk}/history/",
        f"/admin/storage/user/{admin.pk}/delete/",
        "/admin/auth/group/add/",
        "/admin/storage/tenant/acme/change/",
        "/admin/password_change/",
    ):
        visit(page, url)
    page.goto("/admin/storage/user/")
    page.check("#result_list tbody input.action-select >> nth=0")  # actions.js runs
    page.select_option("select[name=action]", "delete_selected")
    page.click("button[name=index]")
    page.wait_for_load_state()
    assert "delete-selected-confirmation" in page.get_attribute("body", "class"), page.content()


def test_review_and_audit_pages_for_a_reviewer(page, login, tenants, make_user):
    make_user("acme-reviewer", tenant=tenants["acme"], groups=(REVIEWERS, "Auditors"))
    draft = make_draft("acme")
    AuditEvent.objects.create(run_id="run-1", tenant_id="acme", event_type="refusal")
    login("acme-reviewer")
    for url in (
        "/admin/",  # the dashboard and its chart
        "/admin/storage/draft/?created_at_from=2020-01-01",  # typed filters
        f"/admin/storage/draft/{draft.pk}/change/",
        "/admin/storage/auditevent/run/?run_id=run-1",
        "/admin/storage/draftreview/",
    ):
        visit(page, url)
    page.goto(f"/admin/storage/draft/{draft.pk}/change/")
    page.click("#decision-buttons button >> nth=0")
    page.wait_for_selector("#action-outcomes")


def test_the_lockout_page(page, tenants, make_user, settings):
    make_user("ann", tenant=tenants["acme"])
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.goto("/admin/login/")
        page.fill("#id_username", "ann")
        page.fill("#id_password", "wrong")
        page.click("input[type=submit]")
    assert "Too many failed sign-ins" in page.inner_text("#lockout-message")


def test_the_check_has_teeth(page, browser_problems):
    """An inline style under the portal's policy is caught, and would fail the test."""
    page.goto("/admin/login/")
    page.evaluate("""document.body.insertAdjacentHTML("beforeend", '<p style="color:red">x</p>')""")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<style>p{}</style>')")
    page.wait_for_timeout(200)
    violations = browser_problems + page.evaluate("window.__cspViolations")
    assert any("style-src" in v for v in violations), violations
    browser_problems.clear()
    page.evaluate("window.__cspViolations = []")

"""Change forms' fieldsets are the markup Django's admin writes for them: read-only ones
written in Python, editable ones by Django's own template."""

import pytest
from django.template import Context, Template
from django.test.html import parse_html

from storage.choices import EventType, ExecutionStatus
from storage.models import AuditEvent, SettlementIntent
from storage.tenancy import tenant_context
from tests.conftest import HOSTILE, make_execution, make_hostile_payment, make_review

pytestmark = pytest.mark.django_db

DJANGO = Template(
    "{% for fieldset in adminform %}"
    '{% include "admin/includes/fieldset.html" with heading_level=2 prefix="fieldset" '
    "id_prefix=0 id_suffix=forloop.counter0 %}{% endfor %}"
)
OURS = Template("{% load lynx_admin %}{% read_only_fieldsets adminform %}")


@pytest.fixture
def pages(reviewers, make_user, tenants):
    """A page of each kind, with values that test the rendering, and who opens it."""
    payment = make_hostile_payment("acme", request_id="", source_context={"note": HOSTILE})
    review = make_review(payment, reviewers["acme-reviewer2"], reason=HOSTILE)
    execution = make_execution(payment, status=ExecutionStatus.FAILED, tool_id=HOSTILE)
    event = AuditEvent.objects.create(
        run_id=HOSTILE, tenant_id="acme", event_type=EventType.REFUSAL, tool_id=""
    )
    intent = SettlementIntent.objects.create(
        payment_id="pay-1", tenant_id="acme", metadata={"payee": HOSTILE}
    )
    operator = make_user("acme-operator", tenant=tenants["acme"], perms=("view_settlementintent",))
    tenant_admin = make_user("acme-admin", tenant=tenants["acme"], groups=("Tenant admins",))
    root = make_user("root", is_superuser=True)
    return [
        (reviewers["acme-reviewer"], f"/admin/storage/draft/{payment.pk}/change/"),
        (reviewers["acme-auditor"], f"/admin/storage/draftreview/{review.pk}/change/"),
        (reviewers["acme-auditor"], f"/admin/storage/execution/{execution.pk}/change/"),
        (reviewers["acme-auditor"], f"/admin/storage/auditevent/{event.pk}/change/"),
        (operator, f"/admin/storage/settlementintent/{intent.pk}/change/"),
        # Editable fieldsets, which keep Django's template, beside read-only ones.
        (tenant_admin, f"/admin/storage/user/{reviewers['acme-reviewer'].pk}/change/"),
        (root, f"/admin/storage/user/{reviewers['acme-reviewer'].pk}/change/"),
    ]


def test_fieldsets_are_the_markup_djangos_admin_writes(client, pages):
    help_texts = 0
    for person, url in pages:
        client.force_login(person)
        response = client.get(url)
        assert response.status_code == 200, url
        context = Context({"adminform": response.context["adminform"]})
        with tenant_context(person.tenant_id or ""):
            ours, django = OURS.render(context), DJANGO.render(context)
        assert parse_html(ours) == parse_html(django), url
        assert "<fieldset" in ours, url
        help_texts += ours.count('<div class="help">')
        assert "<b>" not in ours and "<b>" not in response.text, url
    assert help_texts >= 2  # the trail's reason and fingerprint: help texts are compared too


def test_read_only_fields_are_not_rendered_by_djangos_template(client, pages):
    """The change pages of the spec's rows do not go through admin/includes/fieldset.html."""
    person, url = pages[0]
    client.force_login(person)
    response = client.get(url)
    assert "admin/includes/fieldset.html" not in [t.name for t in response.templates]
    assert 'class="form-row field-payment"' in response.text
    person, url = pages[-1]
    client.force_login(person)
    assert "admin/includes/fieldset.html" in [t.name for t in client.get(url).templates]


@pytest.mark.urls("tests.bench_urls")
def test_only_the_portals_admins_render_its_row_pages(client, pages):
    """The benchmark's yardstick is Django's own change form: another admin site of the
    project showing the same rows renders Django's templates, not the portal's."""
    person, url = pages[0]  # the draft page
    client.force_login(person)
    portal = [t.name for t in client.get(url).templates]
    assert portal[0] == "admin/storage/draft/draft_page.html"
    stock = client.get(url.replace("/admin/", "/bench-admin/"))
    assert stock.status_code == 200
    names = [t.name for t in stock.templates]
    assert names[0] == "admin/change_form.html"
    assert "admin/includes/fieldset.html" in names
    assert not [name for name in names if name.startswith("admin/storage/")]
    assert 'id="decision-panel"' not in stock.text

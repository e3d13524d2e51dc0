"""Template helpers of the portal's admin pages: escaped JSON, badges, moments, list rows,
read-only fieldsets, the dashboard."""

from django import template

from storage.admin import dashboard as dashboard_module
from storage.admin import display
from storage.admin.list_rows import result_list_context
from storage.admin.read_only_fields import read_only_fieldsets as render_read_only_fieldsets
from storage.moments import format_moment

register = template.Library()
register.filter("pretty_json", display.pretty_json)
register.filter("duration", display.duration)
register.filter("run_url", display.run_url)
register.filter("moment", format_moment)
register.filter("status_badge", display.status_badge)
register.filter("decision_badge", display.decision_badge)


@register.inclusion_tag("admin/storage/dashboard.html", takes_context=True)
def dashboard(context) -> dict:
    return dashboard_module.dashboard_context(context["request"])


@register.inclusion_tag("admin/change_list_results.html")
def list_rows(cl) -> dict:
    """Django's `result_list`, with rows rendered by storage.admin.list_rows."""
    return result_list_context(cl)


@register.simple_tag(takes_context=True)
def read_only_fieldsets(context, adminform):
    """Django's `field_sets` block; read-only fieldsets come from storage.admin.read_only_fields."""
    return render_read_only_fieldsets(adminform=adminform, context=context)

"""Audit events, live and archived: every run, tool call and refusal, append-only."""

from django.contrib import admin
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path

from storage.admin.base import TenantRowsAdmin, short_id
from storage.admin.display import json_display, run_link, status_badge
from storage.admin.filters import DateRangeFilter, ExactValueFilter
from storage.audit.selectors import run_timeline
from storage.models import ArchivedAuditEvent, AuditEvent


class AuditEventColumnsAdmin(TenantRowsAdmin):
    list_display = [short_id, "event_type", status_badge, "tool_id", "run", "created_at"]
    list_filter = [
        "event_type",
        "status",
        ("tool_id", ExactValueFilter),
        ("created_at", DateRangeFilter),
    ]
    search_fields = ["=run_id", "=event_id"]
    search_help_text = "An exact run id or event id."
    fields = [
        "event_id",
        "event_type",
        status_badge,
        "tool_id",
        "run",
        "created_at",
        "error_message",
        json_display("input_data", "input data"),
        json_display("output_data", "output data"),
    ]
    readonly_fields = fields

    @admin.display(description="run", ordering="run_id")
    def run(self, obj):
        return run_link(obj.run_id)


@admin.register(AuditEvent)
class AuditEventAdmin(AuditEventColumnsAdmin):
    def get_urls(self):
        view = self.admin_site.admin_view(self.run_timeline_view)
        return [
            # A query parameter, not a path segment: a run id is any text Lynx AI wrote.
            path("run/", view, name="storage_auditevent_run"),
            *super().get_urls(),
        ]

    def run_timeline_view(self, request):
        """One run's events, live and archived, in order, with the executions they touched."""
        run_id = request.GET.get("run_id", "")
        if not (run_id and self.has_view_permission(request)):
            raise Http404("No such run.")
        timeline = run_timeline(tenant_id=request.tenant_id, run_id=run_id)
        if timeline is None:
            raise Http404("No audit events for this run.")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Run {run_id}",
            "timeline": timeline,
        }
        return TemplateResponse(request, "admin/storage/auditevent/run_timeline.html", context)


@admin.register(ArchivedAuditEvent)
class ArchivedAuditEventAdmin(AuditEventColumnsAdmin):
    """Events past retention, moved by `archive_audit_events`; still part of their run."""

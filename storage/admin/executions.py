"""Executions: evidence of what Lynx AI ran, read-only for everyone."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from storage.admin.base import TenantRowsAdmin, short_id
from storage.admin.display import draft_link, duration, json_display, run_link, status_badge
from storage.admin.filters import DateRangeFilter, ExactValueFilter
from storage.audit.selectors import with_audit_runs
from storage.models import Execution

COLUMNS = [
    status_badge,
    "tool_id",
    draft_link,
    "actor_id",
    "created_at",
    "completed_at",
    "took",
    "request_id",
]


@admin.register(Execution)
class ExecutionAdmin(TenantRowsAdmin):
    list_display = [short_id, *COLUMNS]
    list_filter = [
        "status",
        ("tool_id", ExactValueFilter),
        ("created_at", DateRangeFilter),
    ]
    search_fields = ["=execution_id", "=draft_id", "=request_id"]
    search_help_text = "An exact execution id, draft id or request id."
    fields = [
        "execution_id",
        *COLUMNS,
        "runs",
        "error_message",
        json_display("result_payload", "result payload"),
        json_display("rollback_instructions", "rollback instructions"),
        json_display("source_context", "source context"),
    ]
    readonly_fields = fields

    def with_page_reads(self, rows):
        return with_audit_runs(executions=rows)

    @admin.display(description="duration")
    def took(self, obj: Execution) -> str:
        return duration(obj.completed_at - obj.created_at if obj.completed_at else None)

    @admin.display(description="audit runs")
    def runs(self, obj: Execution):
        runs = sorted(obj.audit_runs)
        if not runs:
            return format_html('<span class="quiet">{}</span>', "no audit events recorded")
        return format_html_join(", ", "{}", ((run_link(run),) for run in runs))

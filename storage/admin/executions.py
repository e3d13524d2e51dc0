"""Executions: evidence of what Lynx AI ran, read-only for everyone."""

from django.contrib import admin

from storage.admin.base import TenantRowsAdmin, short_id
from storage.models import Execution


@admin.register(Execution)
class ExecutionAdmin(TenantRowsAdmin):
    list_display = [
        short_id,
        "tool_id",
        "status",
        "draft_id",
        "actor_id",
        "created_at",
        "completed_at",
        "request_id",
    ]
    list_filter = ["status"]

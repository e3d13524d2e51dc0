"""Audit events: every run, tool call and refusal, append-only."""

from django.contrib import admin

from storage.admin.base import TenantRowsAdmin
from storage.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(TenantRowsAdmin):
    list_display = ["event_type", "status", "tool_id", "run_id", "created_at"]
    list_filter = ["event_type"]

"""The yardstick: Django's admin as a new user would write it, one plain ModelAdmin a model.

Mounted at /bench-admin/ only when the benchmark app is installed, behind the portal's
own middleware (so the same request transaction, role and tenant); each admin scopes
its rows to the request's tenant in get_queryset, as the design asks of every list.
Nothing here is tuned: what the portal does beyond this is what the benchmark measures.
"""

from django.contrib import admin

from storage.models import AuditEvent, Draft, Execution, SettlementIntent

site = admin.AdminSite(name="bench_admin")


class TenantScoped(admin.ModelAdmin):
    def get_queryset(self, request):
        return super().get_queryset(request).filter(tenant_id=request.tenant_id)


@admin.register(Draft, site=site)
class DraftAdmin(TenantScoped):
    list_display = ["draft_id", "draft_type", "status", "risk_level", "created_by", "created_at"]
    list_filter = ["status", "risk_level", "draft_type"]
    search_fields = ["request_id", "created_by"]


@admin.register(Execution, site=site)
class ExecutionAdmin(TenantScoped):
    list_display = ["execution_id", "tool_id", "status", "actor_id", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["request_id", "tool_id"]


@admin.register(SettlementIntent, site=site)
class SettlementIntentAdmin(TenantScoped):
    list_display = ["payment_id", "settlement_status", "provider", "created_at", "updated_at"]
    list_filter = ["settlement_status", "provider"]
    search_fields = ["payment_id"]


@admin.register(AuditEvent, site=site)
class AuditEventAdmin(TenantScoped):
    list_display = ["event_id", "event_type", "status", "tool_id", "run_id", "created_at"]
    list_filter = ["event_type", "status", "created_at"]
    search_fields = ["run_id", "tool_id"]

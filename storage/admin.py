"""The admin is the portal's user interface. Spec rows come from Lynx AI: read-only here."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import Http404

from storage import selectors
from storage.models import AuditEvent, Draft, Execution, SettlementIntent, Tenant, User

admin.site.site_header = "Lynx Portal"
admin.site.site_title = "Lynx Portal"
admin.site.index_title = "Operations"


class TenantRowsAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included, and scoped to the request's tenant."""

    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request):
        return selectors.tenant_rows(self.model, tenant_id=request.tenant_id)

    def get_object(self, request, object_id, from_field=None):
        """Another tenant's row, a deleted one and a malformed id all look the same: 404."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with this id.")
        return obj

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.display(description="ID")
def short_id(obj) -> str:
    return str(obj.pk)[:8]


@admin.register(Draft)
class DraftAdmin(TenantRowsAdmin):
    list_display = [
        short_id,
        "draft_type",
        "status",
        "risk_level",
        "created_by",
        "created_at",
        "request_id",
    ]
    list_filter = ["status", "risk_level", "draft_type"]


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


@admin.register(SettlementIntent)
class SettlementIntentAdmin(TenantRowsAdmin):
    list_display = ["payment_id", "settlement_status", "provider", "created_at", "updated_at"]
    list_filter = ["settlement_status", "provider"]


@admin.register(AuditEvent)
class AuditEventAdmin(TenantRowsAdmin):
    list_display = ["event_type", "status", "tool_id", "run_id", "created_at"]
    list_filter = ["event_type"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["tenant_id", "name"]
    search_fields = ["tenant_id", "name"]

    def get_readonly_fields(self, request, obj=None):
        # The id is what Lynx AI's rows carry: renaming it would orphan them.
        return ["tenant_id"] if obj else []


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [*DjangoUserAdmin.list_display, "tenant"]
    list_filter = [*DjangoUserAdmin.list_filter, "tenant"]
    list_select_related = ["tenant"]
    fieldsets = [*DjangoUserAdmin.fieldsets, ("Tenant", {"fields": ["tenant"]})]
    add_fieldsets = [*DjangoUserAdmin.add_fieldsets, ("Tenant", {"fields": ["tenant"]})]

"""Shared admin behaviour for the spec's tenant tables."""

from django.contrib import admin
from django.http import Http404

from storage import selectors


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

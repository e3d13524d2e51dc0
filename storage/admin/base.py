"""Shared admin behaviour for the spec's tenant tables."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404

from storage.admin.action_form import ActionForm
from storage.admin.export import CsvExportMixin
from storage.admin.hardening import HardenedAdmin
from storage.admin.paginator import EstimatedCountPaginator
from storage.rows import parse_uuid, tenant_rows


class ReadOnly:
    """Nobody adds, changes or deletes these rows in the admin, superusers included: their
    pages are read-only fieldsets, written in Python (storage/admin/read_only_fields.py).

    The page templates are named here rather than found under Django's names
    (admin/storage/change_form.html): any other admin site of the project, the benchmark's
    default admin included, would pick those up for the same models.
    """

    change_form_template = "admin/storage/read_only_change_form.html"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class TenantRowsAdmin(ReadOnly, HardenedAdmin, CsvExportMixin, admin.ModelAdmin):
    """Read-only for everyone, superusers included, scoped to the request's tenant, and fast
    on tens of millions of rows: estimated counts, no facet counts, exact searches only."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    # Sorting tens of millions of rows by a column without a (tenant_id, column)
    # index means sorting them all: only the creation time, which has one, is offered.
    sortable_by = ["created_at"]
    paginator = EstimatedCountPaginator
    list_per_page = 50
    # Rows rendered by storage.admin.list_rows: Django's markup, a fraction of its time.
    change_list_template = "admin/storage/tenant_rows_change_list.html"
    action_form = ActionForm

    def get_queryset(self, request):
        """The tenant's rows; on a row's own pages, annotated by `with_page_reads`."""
        rows = tenant_rows(self.model, tenant_id=request.tenant_id)
        if request.resolver_match and request.resolver_match.url_name.endswith("_changelist"):
            return rows
        return self.with_page_reads(rows)

    def with_page_reads(self, rows: models.QuerySet) -> models.QuerySet:
        """What a row's page shows besides the row, read by the row's own statement."""
        return rows

    def get_object(self, request, object_id, from_field=None):
        """Another tenant's row, a deleted one and a malformed id all look the same: 404."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with this id.")
        return obj

    def changelist_view(self, request, extra_context=None):
        # Django ignores an action the person may not take; a forged one is refused outright.
        if request.method == "POST":
            allowed = self.get_actions(request)
            if any(name and name not in allowed for name in request.POST.getlist("action")):
                raise PermissionDenied("You may not take this action.")
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        """Exact matches on `=` search fields only, so that the indexes serve.

        A term that cannot be a UUID is not compared with UUID columns (which would
        fail); if no column can hold it, the result is empty and the person is told.
        """
        fields = self.get_search_fields(request)
        term = search_term.strip()
        if not term or not all(f.startswith("=") for f in fields):
            return super().get_search_results(request, queryset, search_term)
        as_uuid = parse_uuid(value=term)
        matches = Q()
        for name in (f.removeprefix("=") for f in fields):
            field = self.model._meta.get_field(name)
            is_uuid = isinstance(getattr(field, "target_field", field), models.UUIDField)
            if not is_uuid or as_uuid:
                matches |= Q(**{name: as_uuid if is_uuid else term})
        if not matches:
            messages.warning(request, f"“{term}” is not an id: search takes a whole id.")
            return queryset.none(), False
        return queryset.filter(matches), False


@admin.display(description="ID")
def short_id(obj) -> str:
    return str(obj.pk)[:8]

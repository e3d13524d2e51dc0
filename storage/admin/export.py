"""CSV export of a list as the person filtered and searched it, streamed in constant memory."""

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone

from storage.roles import EXPORT_PERMISSION
from storage.rows import export_rows

ROWS_PER_CHUNK = 500
# A spreadsheet runs a cell that starts with one of these as a formula, even
# after leading blanks.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


class CsvExportMixin:
    """Adds `<changelist>/export/` and its button, for people with `storage.export_rows`."""

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm(EXPORT_PERMISSION)

    def export_columns(self) -> list[str]:
        return [field.attname for field in self.opts.concrete_fields]

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        view = self.admin_site.admin_view(self.export_view)
        return [path("export/", view, name=name), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra = dict(extra_context or {})
        if self.has_export_permission(request):
            url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_export")
            extra["export_url"] = f"{url}?{request.GET.urlencode()}"
        return super().changelist_view(request, extra)

    def export_view(self, request):
        if not (self.has_view_permission(request) and self.has_export_permission(request)):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            messages.error(request, "These filters cannot be exported: they are not valid.")
            return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        columns = self.export_columns()
        rows = export_rows(
            queryset=changelist.queryset, columns=columns, tenant_id=request.tenant_id
        )
        response = StreamingHttpResponse(csv_chunks(columns, rows), content_type="text/csv")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        filename = f"{self.opts.verbose_name_plural.replace(' ', '-')}-{stamp}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class _Echo:
    """A file that hands back what is written, so csv.writer formats one row at a time."""

    def write(self, value: str) -> str:
        return value


def csv_chunks(columns: list[str], rows: Iterable[tuple]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    chunk = []
    for row in rows:
        chunk.append(writer.writerow([csv_cell(value) for value in row]))
        if len(chunk) == ROWS_PER_CHUNK:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return f"'{value}"
    return value

"""CSV export of a list as the person filtered and searched it, streamed in constant memory."""

from itertools import chain

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone

from storage.roles import EXPORT_PERMISSION
from storage.rows import copy_csv_lines

PLAIN_TEXT_KINDS = {
    "UUIDField",
    "DecimalField",
    "IntegerField",
    "PositiveIntegerField",
    "BigIntegerField",
    "AutoField",
    "BigAutoField",
}
# A spreadsheet runs a cell that starts with one of these as a formula, even
# after leading blanks.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# A cell from this character on (byte order) starts with neither those nor a blank.
FIRST_PLAIN = "A"
assert max((*FORMULA_STARTS, " ")) < FIRST_PLAIN


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
        chunks = [",".join(columns).encode() + b"\r\n"]
        if not changelist.queryset.query.is_empty():
            select, params = export_select(changelist.queryset, columns)
            lines = copy_csv_lines(
                select=select, params=params, tenant_id=request.tenant_id, user_id=request.user.pk
            )
            chunks = chain(chunks, lines)
        response = StreamingHttpResponse(chunks, content_type="text/csv")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        filename = f"{self.opts.verbose_name_plural.replace(' ', '-')}-{stamp}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def export_select(queryset: QuerySet, columns: list[str]) -> tuple[str, tuple]:
    """A SELECT of the queryset's rows, in its order, each value as the export writes it.

    PostgreSQL formats the values: text a spreadsheet would run as a formula gets a
    leading quote, times are ISO 8601 in UTC (as Python's `isoformat()`), JSON is
    the database's own text of it (a JSON string, number or boolean its bare value),
    arrays are JSON, and NULL and empty text are an empty cell.
    """
    inner, params = queryset.values_list(*columns).query.sql_with_params()
    fields = {field.attname: field for field in queryset.model._meta.concrete_fields}
    cells = ", ".join(
        _cell(fields[name], connection.ops.quote_name(fields[name].column)) for name in columns
    )
    return f"SELECT {cells} FROM ({inner}) AS export_rows", params


def _cell(field, column: str) -> str:
    kind = getattr(field, "target_field", field).get_internal_type()
    if kind in ("TextField", "CharField"):
        return _defused(column)
    if kind == "DateTimeField":
        # One to_char, then what Python's isoformat() leaves out: a zero fraction.
        iso = f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
        return f"replace({iso}, '.000000', '') || '+00:00'"
    if kind == "JSONField":
        bare = _defused(f"({column} #>> '{{}}')")
        return (
            f"CASE jsonb_typeof({column}) WHEN 'string' THEN {bare} "
            f"WHEN 'boolean' THEN CASE WHEN {column} = 'true' THEN 'True' ELSE 'False' END "
            f"WHEN 'null' THEN NULL ELSE {column}::text END"
        )
    if kind == "ArrayField":
        return f"to_jsonb({column})::text"
    if kind == "BooleanField":
        return f"CASE WHEN {column} THEN 'True' WHEN NOT {column} THEN 'False' END"
    if kind in PLAIN_TEXT_KINDS:
        return f"{column}::text"
    raise ValueError(f"No CSV format for {kind} ({field.name})")


def _defused(text: str) -> str:
    # Most cells (letters, non-ASCII text) skip the regular expression, whose cost grows with
    # the text's length: every character a formula, or the blanks before it, starts with
    # sorts before "A" byte by byte (COLLATE "C"). The expression: in PostgreSQL, half the
    # cost of ltrim() and left().
    starts = "".join(f"\\x{ord(start):02x}" for start in FORMULA_STARTS)
    quote = "''''"
    return (
        f"CASE WHEN {text} COLLATE \"C\" >= '{FIRST_PLAIN}' THEN {text} "
        f"WHEN {text} ~ '^ *[{starts}]' THEN {quote} || {text} ELSE NULLIF({text}, '') END"
    )

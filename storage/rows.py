"""Reads every domain shares: a tenant's rows, ids people type, counts and exports of big lists.

RLS already hides other tenants' rows; the explicit `tenant_id` filter is
defence in depth, and it lets the planner use the spec's `(tenant_id, ...)`
indexes.
"""

import json
from collections.abc import Iterator, Sequence
from decimal import Decimal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Expression, IntegerField, JSONField, Model, QuerySet

from storage.tenancy import tenant_context

EXPORT_CHUNK_ROWS = 1000


def tenant_rows(model: type[Model], *, tenant_id: str) -> QuerySet:
    """All of `model`'s rows of one tenant; none at all without a tenant."""
    if not tenant_id:
        return model.objects.none()
    return model.objects.filter(tenant_id=tenant_id)


class OnRow(Expression):
    """SQL about the query's own row, `{row}` standing for that row's table or alias.

    Written out rather than built from ORM subqueries, whose compiling cost more than the
    query itself on every page; resolved against the alias of the query it ends up in, so
    that it still means the same row inside a subquery.
    """

    def __init__(self, template: str, output_field, params: Sequence = ()) -> None:
        super().__init__(output_field=output_field)
        self.template, self.params = template, list(params)

    def as_sql(self, compiler, connection):
        row = compiler.quote_name_unless_alias(compiler.query.base_table)
        return self.template.format(row=row), self.params


def parse_json_rows(*, found: str) -> list | dict:
    """JSON that rows were read as (`json_agg(row_to_json(row))`), decimals exact, for
    `rows_from_dicts`."""
    return json.loads(found, parse_float=Decimal)


def rows_from_dicts(*, model: type[Model], found: list[dict]) -> list[Model]:
    """Rows another statement read as JSON (`parse_json_rows`), as the ORM makes them: each
    column through its field (times, ids), decimal columns exact, JSON columns with the
    floats Django's own JSON decoding gives. Keys that are no column are left to the caller."""
    fields = model._meta.concrete_fields
    names = [field.attname for field in fields]
    return [
        model.from_db(None, names, [_from_json(field, row[field.column]) for field in fields])
        for row in found
    ]


def _from_json(field, value):
    return _floats(value) if isinstance(field, JSONField) else field.to_python(value)


def _floats(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return [_floats(item) for item in value]
    if isinstance(value, dict):
        return {key: _floats(item) for key, item in value.items()}
    return value


def parse_uuid(*, value) -> UUID | None:
    """`value` as a UUID, or None when it is not one (ids in URLs and forms are untrusted)."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value).strip())
    except ValueError:
        return None


def parse_key(*, model: type[Model], value):
    """`value` as a primary key of `model`, or None when it cannot be one.

    The one check of ids that arrive from outside (URLs, forms, filters): a UUID
    that is no UUID, a number PostgreSQL's bigint cannot hold, or text with a
    NUL would otherwise fail in the query, not here.
    """
    field = model._meta.pk
    try:
        key = field.to_python(value)
    except (ValidationError, ValueError, TypeError):
        return None
    if isinstance(field, IntegerField):
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        return key if low <= key <= high else None
    if isinstance(key, str) and "\x00" in key:
        return None
    return key


def estimated_count(*, queryset: QuerySet) -> int:
    """The planner's row estimate for the queryset: costs a plan, never a scan."""
    return list_count(queryset=queryset, exact_below=0, exact_cost_below=0)[0]


def list_count(
    *, queryset: QuerySet, exact_below: int, exact_cost_below: float
) -> tuple[int, int | None]:
    """The planner's estimate of the queryset's rows and, when it is under `exact_below` and
    the planner prices reading them under `exact_cost_below`, its rows counted up to
    `exact_below`: one statement (`portal_list_count`, migration 0034).

    The query is counted without its ordering and on its key alone: sorting every row only to
    count them is what PostgreSQL would do otherwise, where the count alone reads just an index.
    """
    if queryset.query.is_empty():
        return 0, 0
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM portal_list_count(%s, %s, %s)",
            [connection.ops.compose_sql(sql, params), exact_below, exact_cost_below],
        )
        return cursor.fetchone()


SEEK_WINDOW = 100


def seek_page(*, queryset: QuerySet, offset: int, limit: int) -> QuerySet | list | None:
    """Rows `offset` to `offset + limit` of a queryset ordered by a NOT NULL column, then its key.

    `OFFSET` fetches every row before the page from the table. Here the column's value
    at `offset`, and how many rows just before it share that value, come from the column
    alone (an index-only scan of its `(tenant_id, column)` index); the page is then the
    rows from that value on, past those ties, as a query not yet read (a list may annotate
    the page's rows, as the review lists do). None when the ordering is not of that shape, or
    when more than `SEEK_WINDOW` rows share the value (then `OFFSET` it is).
    """
    query = queryset.query
    if len(query.order_by) != 2 or query.distinct or offset < SEEK_WINDOW:
        return None
    first, tie = query.order_by
    if not (isinstance(first, str) and isinstance(tie, str)):
        return None
    name, opts = first.removeprefix("-"), queryset.model._meta
    field = next((f for f in opts.concrete_fields if f.name == name), None)
    if field is None or field.null or tie.removeprefix("-") not in ("pk", opts.pk.name):
        return None
    descending = first.startswith("-")
    window = queryset.order_by(first).values(name)[offset - SEEK_WINDOW : offset + 1]
    head, params = window.query.sql_with_params()
    column = connection.ops.quote_name(field.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH head AS ({head}) SELECT edge, "
            f"(SELECT count(*) FROM head WHERE {column} = edge), (SELECT count(*) FROM head) "
            f"FROM (SELECT {'min' if descending else 'max'}({column}) AS edge FROM head) AS b",
            params,
        )
        edge, ties, seen = cursor.fetchone()
    if seen <= SEEK_WINDOW:
        return []  # the list ends before the page
    if ties == seen:
        return None
    start = queryset.filter(**{f"{name}__{'lte' if descending else 'gte'}": edge})
    return start[ties - 1 : ties - 1 + limit]


def copy_csv_lines(*, select: str, params, tenant_id: str, user_id: int) -> Iterator[bytes]:
    """The rows of `select` as CSV lines ending in CRLF, written by PostgreSQL's `COPY`.

    COPY formats the rows in the database, hundreds of thousands a second, where a
    Python loop over model values manages tens of thousands; only one chunk of
    lines is ever held. A streamed response is consumed after the request's
    transaction has ended, so the rows are read in a tenant context of their own, acting for
    the user who asked: as the RLS role, whatever the query's filters.
    """
    statement = f"COPY ({select}) TO STDOUT WITH (FORMAT csv)"
    with (
        tenant_context(tenant_id, acting_user=user_id),
        connection.cursor() as cursor,
        cursor.cursor.copy(statement, params) as copy,
    ):
        lines = []
        # libpq hands over one row at a time, ending in the only newline that is
        # no part of a value: a spreadsheet's CRLF replaces it.
        for row in copy:
            lines.append(row[:-1])
            if len(lines) == EXPORT_CHUNK_ROWS:
                yield b"\r\n".join(lines) + b"\r\n"
                lines = []
        if lines:
            yield b"\r\n".join(lines) + b"\r\n"

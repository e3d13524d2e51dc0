"""A list page's rows, rendered by one function per column, built once per page.

Django's admin finds out for every cell what the column is (`lookup_field`), how to show
its value (`display_for_field`), and reverses the row's URL: most of a 50-row page's
Python time. Here each column's renderer is chosen once, the change URL is a prefix and
the quoted key, and the markup is what Django's `items_for_result` writes, byte for byte
(tests/test_list_rows.py compares them). Lists Django renders differently (editable
lists, popups) keep Django's rendering.
"""

from collections.abc import Callable
from datetime import date, time

from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    _coerce_field_name,
    result_headers,
    result_hidden_fields,
    results,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    lookup_field,
)
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import EMPTY_VALUES
from django.db import models
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from storage.admin.display import PLACEHOLDER, escaped, url_around_key, url_key
from storage.moments import format_moment

Cell = Callable[[object], str]


def result_list_context(cl) -> dict:
    """The context of admin/change_list_results.html, as Django's `result_list` tag gives it."""
    headers = list(result_headers(cl))
    fast = not (cl.formset or cl.is_popup)
    return {
        "cl": cl,
        "result_hidden_fields": [] if fast else list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": rendered_rows(cl) if fast else list(results(cl)),
    }


def rendered_rows(cl) -> list[ResultList]:
    """Each row as one cell holding the whole row's markup (the template joins the cells)."""
    cells = _row_renderers(cl)
    return [
        ResultList(None, [SafeString("".join([cell(obj) for cell in cells]))])
        for obj in cl.result_list
    ]


def _row_renderers(cl) -> list[Cell]:
    renderers = []
    first = True
    for index, name in enumerate(cl.list_display):
        is_link = cl.list_display_links is not None and (
            (first and not cl.list_display_links) or name in cl.list_display_links
        )
        if name == "action_checkbox":
            renderers.append(_checkbox())
            continue
        value_of = _value_renderer(cl, name, is_link)
        css = f"field-{_coerce_field_name(name, index)}"
        if is_link:
            renderers.append(_linked(value_of, css, "th" if first else "td", _change_url(cl)))
            first = False
        else:
            renderers.append(_plain(value_of, css))
    return renderers


def _plain(value_of, css: str) -> Cell:
    def cell(obj) -> str:
        text, nowrap = value_of(obj)
        return f'<td class="{css}{" nowrap" if nowrap else ""}">{escaped(text)}</td>'

    return cell


def _linked(value_of, css: str, tag: str, url_of: Callable[[object], str]) -> Cell:
    def cell(obj) -> str:
        text, nowrap = value_of(obj)
        return (
            f'<{tag} class="{css}{" nowrap" if nowrap else ""}"><a href="{url_of(obj)}">'
            f"{escaped(text)}</a></{tag}>"
        )

    return cell


def _checkbox() -> Cell:
    label = gettext("Select this object for an action - {}")

    def cell(obj) -> str:
        return (
            '<td class="action-checkbox"><input type="checkbox" name="_selected_action" '
            f'value="{escaped(obj.pk)}" class="action-select" '
            f'aria-label="{label.format(escaped(obj))}"></td>'
        )

    return cell


def _change_url(cl) -> Callable[[object], str]:
    """The row's change page, with the list's filters preserved: `cl.url_for_result`
    and `add_preserved_filters` for one row, reused for every row."""
    opts = cl.opts
    before, after = url_around_key(
        f"admin:{opts.app_label}_{opts.model_name}_change",
        current_app=cl.model_admin.admin_site.name,
    )
    sample = f"{before}{PLACEHOLDER}{after}"
    filters = {"preserved_filters": cl.preserved_filters, "opts": opts}
    query = add_preserved_filters(filters, sample).removeprefix(sample)
    before, after = escaped(before), escaped(after + query)
    pk_attname = cl.pk_attname

    def url_of(obj) -> str:
        return f"{before}{escaped(url_key(getattr(obj, pk_attname)))}{after}"

    return url_of


def _value_renderer(cl, name, is_link: bool) -> Callable[[object], tuple[object, bool]]:
    """The function from a row to (what the cell shows, whether it keeps on one line)."""
    empty = cl.model_admin.get_empty_value_display()
    field = _model_field(cl.model, name)
    if field is not None and not field.auto_created:
        return _field_value(field, empty, is_link)
    function = None
    if callable(name):
        function = name
    elif field is None and name != "__str__" and hasattr(cl.model_admin, name):
        function = getattr(cl.model_admin, name)
    if function is not None and not getattr(function, "boolean", False):
        return _computed_value(function, getattr(function, "empty_value_display", empty))

    def django_value(obj):  # anything else: exactly as Django does it, cell by cell
        _, attr, value = lookup_field(name, obj, cl.model_admin)
        shown = display_for_value(
            "" if isinstance(value, str) and not value.strip() else value,
            getattr(attr, "empty_value_display", empty),
            getattr(attr, "boolean", False),
        )
        return shown, isinstance(value, date | time)

    return django_value


def _model_field(model, name):
    """The model field a column shows, as Django's `lookup_field` finds it, or None."""
    if callable(name):
        return None
    try:
        return _get_non_gfk_field(model._meta, name)
    except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
        return None


def _computed_value(function, empty):
    def value_of(obj):
        value = function(obj)
        if isinstance(value, str):
            return (value if value.strip() else empty), False
        if value in EMPTY_VALUES:
            return empty, False
        return display_for_value(value, empty), isinstance(value, date | time)

    return value_of


def _field_value(field, empty, is_link: bool):
    attname = field.attname
    nowrap = isinstance(field, models.DateField | models.TimeField | models.ForeignKey)
    if isinstance(field.remote_field, models.ManyToOneRel):
        name = field.name

        def related(obj):
            value = getattr(obj, name)
            return (empty if value is None else value), True

        return related
    if field.flatchoices:
        labels = dict(field.flatchoices)

        def choice(obj):
            value = getattr(obj, attname)
            if isinstance(value, str) and not value.strip():
                value = ""
            return labels.get(value, empty), nowrap

        return choice
    if isinstance(field, models.DateTimeField):
        zone = timezone.get_current_timezone()

        def moment(obj):
            value = getattr(obj, attname)
            return (empty if value is None else format_moment(value, zone=zone)), True

        return moment
    if isinstance(field, models.TextField | models.CharField | models.UUIDField) and not isinstance(
        field, models.URLField
    ):

        def text(obj):
            value = getattr(obj, attname)
            if value is None or (isinstance(value, str) and not value.strip()):
                return empty, False
            return str(value), False

        return text

    def other(obj):
        value = getattr(obj, attname)
        value = "" if isinstance(value, str) and not value.strip() else value
        return display_for_field(value, field, empty, avoid_link=is_link), nowrap

    return other

"""A view-only change form's fieldsets, written in Python rather than by the template.

Nobody edits the spec's rows in the admin, so their pages show every field read-only.
Django's admin/includes/fieldset.html spends about 2 ms of CPU per page resolving, for each
field, a dozen template variables that are the same for every read-only field. Here the
markup is the same (tests/test_read_only_fields.py compares it with Django's as HTML),
each field's content still comes from Django's `AdminReadonlyField.contents()`, and a
fieldset holding an editable field keeps Django's template.
"""

from django.contrib.admin.helpers import AdminReadonlyField, Fieldline, Fieldset
from django.utils.html import conditional_escape as escape
from django.utils.html import format_html
from django.utils.safestring import SafeString


def read_only_fieldsets(*, adminform, context) -> SafeString:
    """Every fieldset of `adminform`, as change_form.html's `field_sets` block writes them."""
    parts = []
    for index, fieldset in enumerate(adminform):
        lines = list(fieldset)
        fields = [list(line) for line in lines]
        if all(isinstance(field, AdminReadonlyField) for line in fields for field in line):
            parts.append(_fieldset(fieldset, index, zip(lines, fields, strict=True)))
        else:
            parts.append(_django_fieldset(fieldset, index, context))
    return SafeString("".join(parts))


def _fieldset(fieldset: Fieldset, index: int, lines) -> str:
    heading_id = f"fieldset-0-{index}-heading"
    collapsible = fieldset.name and fieldset.is_collapsible
    out = [f'<fieldset class="module aligned {escape(fieldset.classes)}"']
    if fieldset.name:
        out.append(f' aria-labelledby="{heading_id}">')
        out.append("<details><summary>" if collapsible else "")
        out.append(f'<h2 id="{heading_id}" class="fieldset-heading">{escape(fieldset.name)}</h2>')
        out.append("</summary>" if collapsible else "")
    else:
        out.append(">")
    if fieldset.description:
        out.append(f'<div class="description">{fieldset.description}</div>')
    out += [_line(line, fields) for line, fields in lines]
    out.append("</details></fieldset>" if collapsible else "</fieldset>")
    return "".join(out)


def _line(line: Fieldline, fields: list[AdminReadonlyField]) -> str:
    single = len(fields) == 1
    names = "".join(f" field-{escape(f.field['name'])}" for f in fields if f.field["name"])
    hidden = "" if line.has_visible_field else " hidden"
    boxes = "".join(_field(field, single) for field in fields)
    if single:
        return f'<div class="form-row{hidden}{names}">{boxes}</div>'
    return (
        f'<div class="form-row{hidden}{names}">'
        f'<div class="flex-container form-multiline">{boxes}</div></div>'
    )


def _field(field: AdminReadonlyField, single: bool) -> str:
    name, hidden = field.field["name"], " hidden" if field.field["is_hidden"] else ""
    box = "" if single else " fieldBox" + (f" field-{escape(name)}" if name else "") + hidden
    help_text = field.field["help_text"]
    return format_html(
        '<div><div class="flex-container{}">{}<div class="readonly">{}</div></div>{}</div>',
        box,
        field.label_tag(),
        field.contents(),
        format_html('<div class="help{}"><div>{}</div></div>', hidden, SafeString(help_text))
        if help_text
        else "",
    )


def _django_fieldset(fieldset: Fieldset, index: int, context) -> str:
    template = context.template.engine.get_template("admin/includes/fieldset.html")
    with context.push(
        fieldset=fieldset, heading_level=2, prefix="fieldset", id_prefix=0, id_suffix=index
    ):
        return template.render(context)

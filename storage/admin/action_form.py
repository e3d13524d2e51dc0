"""The list pages' action bar, its two widgets written without templates.

Django renders every widget through its form renderer's templates (the select, each of its
options, each element's attributes): about 1 ms of CPU on every list page for one select
and one hidden input. These widgets write the same markup in Python
(tests/test_action_form.py compares it with Django's as HTML).
"""

from django import forms
from django.contrib.admin import helpers
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString


def _attributes(attrs: dict) -> SafeString:
    """django/forms/widgets/attrs.html: ` name="value"`, a bare name for True, none for False."""
    return SafeString(
        "".join(
            f" {conditional_escape(name)}"
            + ("" if value is True else f'="{conditional_escape(str(value))}"')
            for name, value in attrs.items()
            if value is not False
        )
    )


class PlainSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group_name, options, _ in widget["optgroups"]:
            markup = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((str(o["value"]), _attributes(o["attrs"]), o["label"]) for o in options),
            )
            groups.append(
                format_html('<optgroup label="{}">{}</optgroup>', group_name, markup)
                if group_name
                else markup
            )
        return format_html(
            '<select name="{}"{}>{}</select>',
            widget["name"],
            _attributes(widget["attrs"]),
            SafeString("".join(groups)),
        )


class PlainHiddenInput(forms.HiddenInput):
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        shown = "" if widget["value"] is None else format_html(' value="{}"', str(widget["value"]))
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            widget["type"],
            widget["name"],
            shown,
            _attributes(widget["attrs"]),
        )


class ActionForm(helpers.ActionForm):
    """Django's action form, with the widgets above."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, plain in {"action": PlainSelect, "select_across": PlainHiddenInput}.items():
            field = self.fields[name]
            widget = plain(attrs=field.widget.attrs)
            widget.is_required = field.widget.is_required
            widget.choices = getattr(field, "choices", ())
            field.widget = widget

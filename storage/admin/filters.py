"""List filters that stay on the spec's indexes: typed values instead of DISTINCT scans.

Django's date_hierarchy and its all-values filter run `SELECT DISTINCT` over the
whole tenant (design.md §3); these filters take what the person types instead,
and a value they cannot read becomes a message, never an error page.
"""

from datetime import date, datetime, time, timedelta

from django.contrib import admin, messages
from django.utils import timezone


class InputFilter(admin.FieldListFilter):
    """A filter the person types into; subclasses name the inputs and apply them."""

    template = "admin/storage/input_filter.html"
    inputs: dict[str, tuple[str, str]] = {}  # parameter suffix -> (label, placeholder)

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.field_path = field_path
        self.values = {
            name: params.pop(name)[-1].strip()
            for name in self.expected_parameters()
            if name in params
        }
        super().__init__(field, request, params, model, model_admin, field_path)
        self.used_parameters = {name: value for name, value in self.values.items() if value}

    def parameter(self, suffix: str) -> str:
        return f"{self.field_path}{suffix}"

    def expected_parameters(self) -> list[str]:
        return [self.parameter(suffix) for suffix in self.inputs]

    def has_output(self) -> bool:
        return True

    def choices(self, changelist):
        mine = set(self.expected_parameters())
        yield {
            "inputs": [
                (self.parameter(suffix), label, hint, self.values.get(self.parameter(suffix), ""))
                for suffix, (label, hint) in self.inputs.items()
            ],
            "hidden": [
                (name, value)
                for name, values in self.request.GET.lists()
                if name not in mine and name != "p"
                for value in values
            ],
            "clear_url": changelist.get_query_string(remove=list(mine)),
            "active": bool(self.used_parameters),
        }


class ExactValueFilter(InputFilter):
    """Rows whose column equals the typed value, through a (tenant_id, column) index."""

    inputs = {"": ("Exactly", "")}

    def queryset(self, request, queryset):
        value = self.used_parameters.get(self.field_path)
        return queryset.filter(**{self.field_path: value}) if value else queryset


class DateRangeFilter(InputFilter):
    """From and to (both inclusive) as dates, or as ISO date-times (then `to` is exclusive)."""

    inputs = {"_from": ("From", "YYYY-MM-DD"), "_to": ("To", "YYYY-MM-DD")}

    def queryset(self, request, queryset):
        start = self._bound(request, "_from")
        if start is not None:
            queryset = queryset.filter(**{f"{self.field_path}__gte": start})
        end = self._bound(request, "_to")
        if end is not None:
            queryset = queryset.filter(**{f"{self.field_path}__lt": end})
        return queryset

    def _bound(self, request, suffix: str) -> datetime | None:
        text = self.used_parameters.get(self.parameter(suffix))
        if not text:
            return None
        try:
            return parse_bound(text, end=suffix == "_to")
        except (ValueError, OverflowError):
            messages.error(
                request,
                f"“{text}” is not a date: use YYYY-MM-DD. The {self.title} "
                f"{'to' if suffix == '_to' else 'from'} date was ignored.",
            )
            return None


def parse_bound(text: str, *, end: bool) -> datetime:
    """A range bound: a date covers its whole day; a date-time is taken as it is."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        moment = datetime.fromisoformat(text)
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    if end:
        day += timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time.min))

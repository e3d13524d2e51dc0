"""How values are shown: untrusted ones escaped first and formatted second, never `mark_safe`.

Payloads are JSON that Lynx AI (and through it, anyone who talks to Lynx AI)
wrote: `format_html` escapes every value before it lands in markup.
"""

import json
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from storage.choices import ExecutionStatus, SettlementStatus

# The payment facts a reviewer checks first, when the payload has them.
PAYMENT_FACTS = [("amount", "Amount"), ("currency", "Currency"), ("payee", "Payee")]
# Statuses that need a person's attention are marked by a symbol too, not by colour alone.
BADGES = {
    ExecutionStatus.FAILED: "✖",
    ExecutionStatus.DENIED: "⛔",
    ExecutionStatus.SUCCEEDED: "✔",
    ExecutionStatus.STARTED: "…",
    SettlementStatus.QUEUED: "…",
    SettlementStatus.PROCESSING: "⟳",
    SettlementStatus.COMPLETED: "✔",
}


def pretty_json(value) -> SafeString:
    """Indented JSON in a <pre>; the text is escaped, so a payload cannot inject markup."""
    if value is None:
        return format_html('<span class="quiet">{}</span>', "none")
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return format_html('<pre class="json">{}</pre>', text)


def badge(kind: str, value: str | None, label: str) -> SafeString:
    """A badge that says what it means in text (and a symbol where one helps), never colour alone.

    `kind` (status, risk, decision, settlement) and `value` name its CSS class.
    """
    if not value:
        return format_html('<span class="quiet">{}</span>', "–")
    symbol = BADGES.get(value, "")
    return format_html(
        '<span class="badge badge-{}-{}">{}{}</span>',
        kind,
        value,
        f"{symbol} " if symbol else "",
        label,
    )


def duration(delta: timedelta | None) -> str:
    """A duration as a person reads it: 850 ms, 12.4 s, 3 min 5 s, 2 h 10 min."""
    if delta is None:
        return "–"
    seconds = delta.total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def admin_link(model_name: str, pk, text: str) -> SafeString:
    url = reverse(f"admin:storage_{model_name}_change", args=[pk])
    return format_html('<a href="{}">{}</a>', url, text)


def run_link(run_id: str) -> SafeString:
    """A link to the run's timeline; the spec allows an empty run id, which has none."""
    if not run_id:
        return format_html('<span class="quiet">{}</span>', "(no run id)")
    return format_html('<a href="{}" class="run-link">{}</a>', run_url(run_id), run_id)


def run_url(run_id: str) -> str:
    """The run's timeline, for any run id (newlines, slashes and all)."""
    return f"{reverse('admin:storage_auditevent_run')}?{urlencode({'run_id': run_id})}"


def badge_column(field: str, *, kind: str, description: str):
    """A column (or read-only field) that shows a choice field as its badge, sortable by it."""

    def show(obj) -> SafeString:
        value = getattr(obj, field)
        return badge(kind, value, getattr(obj, f"get_{field}_display")() if value else "")

    show.__name__ = f"{field}_badge"
    return admin.display(description=description, ordering=field)(show)


status_badge = badge_column("status", kind="status", description="status")


@admin.display(description="draft", ordering="draft_id")
def draft_link(obj) -> SafeString:
    """The row's draft by its short id, from the column alone: no join, no query per row."""
    return admin_link("draft", obj.draft_id, str(obj.draft_id)[:8])


def json_display(attribute: str, description: str):
    """A read-only admin field that shows a JSON column escaped and indented."""

    def show(obj) -> SafeString:
        return pretty_json(getattr(obj, attribute))

    show.__name__ = f"{attribute}_json"
    return admin.display(description=description)(show)


def payment_facts(payload) -> str:
    """Amount, currency and payee of a payment payload, those present; "" if none is."""
    if not isinstance(payload, dict):
        return ""
    facts = [
        (label, _as_text(payload[key]))
        for key, label in PAYMENT_FACTS
        if payload.get(key) not in (None, "")
    ]
    return format_html_join("", '<div class="payment-fact"><b>{}</b> {}</div>', facts)


def _as_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

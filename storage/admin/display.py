"""How values are shown: untrusted ones escaped first and formatted second, never `mark_safe`.

Payloads are JSON that Lynx AI (and through it, anyone who talks to Lynx AI)
wrote: `markup` (Django's `format_html`, for cells) escapes every value before it lands in
markup. Lists call these for every cell: what can be is computed once (badges, URL prefixes).
"""

import html
import json
from datetime import timedelta
from functools import lru_cache
from urllib.parse import quote as url_quote
from urllib.parse import quote_plus
from uuid import UUID

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.urls import get_script_prefix, reverse
from django.utils.safestring import SafeString

from storage.choices import ExecutionStatus, SettlementStatus
from storage.review.content import payment_terms

# Where a payee's account number may be, in the order they are looked for.
ACCOUNT_KEYS = ("iban", "account", "account_number")
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


def escaped(value) -> str:
    """Django's `conditional_escape`, without its checks for lazy strings on every cell."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def markup(template: str, *values) -> SafeString:
    """Django's `format_html`, for cells: each value escaped, then formatted into `template`."""
    return SafeString(template.format(*[escaped(value) for value in values]))


def pretty_json(value) -> SafeString:
    """Indented JSON in a <pre>; the text is escaped, so a payload cannot inject markup."""
    if value is None:
        return markup('<span class="quiet">{}</span>', "none")
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return markup('<pre class="json">{}</pre>', text)


@lru_cache(maxsize=1024)
def badge(kind: str, value: str | None, label: str) -> SafeString:
    """A badge that says what it means in text (and a symbol where one helps), never colour alone.

    `kind` (status, risk, decision, settlement) and `value` name its CSS class.
    """
    if not value:
        return markup('<span class="quiet">{}</span>', "–")
    symbol = BADGES.get(value, "")
    return markup(
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


PLACEHOLDER = "lynx-placeholder-key"
# What Django's reverse() leaves unquoted in a path (django.urls.resolvers).
PATH_SAFE = "!$&'()*+,;=/~:@"


def admin_link(model_name: str, pk, text: str) -> SafeString:
    return markup('<a href="{}">{}</a>', change_url(f"admin:storage_{model_name}_change", pk), text)


def change_url(view_name: str, pk, *, current_app: str | None = None) -> str:
    """`reverse(view_name, args=[quote(pk)])` without resolving the URL anew for every row."""
    before, after = url_around_key(view_name, current_app=current_app)
    return f"{before}{url_key(pk)}{after}"


def url_around_key(view_name: str, *, current_app: str | None = None) -> tuple[str, str]:
    """What `reverse(view_name, args=[key])` puts before and after the key."""
    return _url_around_key(view_name, current_app, get_script_prefix())


@lru_cache(maxsize=128)
def _url_around_key(view_name: str, current_app: str | None, script_prefix: str):
    url = reverse(view_name, args=[PLACEHOLDER], current_app=current_app)
    return tuple(url.split(PLACEHOLDER, 1))


def url_key(pk) -> str:
    """A primary key as the admin's URLs hold it: quoted by the admin, then for the path."""
    if isinstance(pk, UUID):
        return str(pk)  # hex digits and hyphens: nothing to quote
    return url_quote(str(quote(pk)), safe=PATH_SAFE)


def run_link(run_id: str) -> SafeString:
    """A link to the run's timeline; the spec allows an empty run id, which has none."""
    if not run_id:
        return markup('<span class="quiet">{}</span>', "(no run id)")
    return markup('<a href="{}" class="run-link">{}</a>', run_url(run_id), run_id)


def run_url(run_id: str) -> str:
    """The run's timeline, for any run id (newlines, slashes and all)."""
    # What urlencode({"run_id": run_id}) gives, without its dict walk: this runs once per row.
    return f"{_timeline_url(get_script_prefix())}?run_id={quote_plus(run_id)}"


@lru_cache(maxsize=8)
def _timeline_url(script_prefix: str) -> str:
    return reverse("admin:storage_auditevent_run")


def badge_column(field: str, *, kind: str, description: str):
    """A column (or read-only field) that shows a choice field as its badge, sortable by it."""

    def show(obj) -> SafeString:
        value = getattr(obj, field)
        return badge(kind, value, choice_label(type(obj), field, value) if value else "")

    show.__name__ = f"{field}_badge"
    return admin.display(description=description, ordering=field)(show)


def choice_label(model, field: str, value) -> str:
    """`obj.get_<field>_display()`, from the field's choices read once."""
    return str(_choice_labels(model, field).get(value, value))


@lru_cache(maxsize=64)
def _choice_labels(model, field: str) -> dict:
    return dict(model._meta.get_field(field).flatchoices)


status_badge = badge_column("status", kind="status", description="status")
decision_badge = badge_column("decision", kind="decision", description="decision")


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


def payment_summary(payload) -> SafeString:
    """Amount with thousands separators and currency, payee by name with a masked account.

    For a draft's payload or an intent's metadata; "" when it names neither an
    amount nor a payee. What cannot be read is shown as written, and said so.
    """
    if not isinstance(payload, dict) or not (payload.get("amount") or payload.get("payee")):
        return SafeString("")
    lines = []
    if payload.get("amount") not in (None, ""):
        lines.append(markup('<div class="payment-amount">{}</div>', _amount(payload)))
    if payload.get("payee"):
        lines.append(_payee(payload["payee"]))
    return SafeString("".join(lines))


def _amount(payload: dict) -> str:
    terms = payment_terms(payload=payload)
    if terms.amount is None:
        return f"{_as_text(payload['amount'])} (not a readable amount)"
    currency = terms.currency or _as_text(payload.get("currency") or "(no currency)")
    return f"{terms.amount:,f} {currency}"


def _payee(payee) -> SafeString:
    if not isinstance(payee, dict):
        return markup('<div class="payment-payee">{}</div>', _as_text(payee))
    account = next((payee[key] for key in ACCOUNT_KEYS if payee.get(key)), "")
    return markup(
        '<div class="payment-payee">{} <span class="account">{}</span></div>',
        _as_text(payee.get("name") or "(no name)"),
        masked(_as_text(account)) if account else "",
    )


def masked(account: str) -> str:
    """An account number as a reviewer compares it: its first and last four characters."""
    compact = "".join(account.split())
    if len(compact) <= 8:
        return f"•••• {compact[-4:]}"
    return f"{compact[:4]} •••• {compact[-4:]}"


def _as_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

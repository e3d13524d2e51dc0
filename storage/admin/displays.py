"""How rows look in the admin: labelled badges and escaped, indented JSON."""

import json

from django.utils.html import format_html, format_html_join

# The payment facts a reviewer checks first, when the payload has them.
PAYMENT_FACTS = [("amount", "Amount"), ("currency", "Currency"), ("payee", "Payee")]


def badge(kind: str, value: str, label: str) -> str:
    """A coloured badge that also says what it means in text: colour alone is not enough."""
    return format_html('<span class="badge badge-{}-{}">{}</span>', kind, value, label)


def pretty_json(value) -> str:
    """Indented JSON, HTML-escaped: payloads come from Lynx AI and may hold markup."""
    return format_html(
        '<pre class="json">{}</pre>', json.dumps(value, indent=2, ensure_ascii=False)
    )


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

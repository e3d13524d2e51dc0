"""What a reviewer decides on: a draft's content, its fingerprint, its payment terms, its changes.

The fingerprint is SHA-256 of the jsonb text of `[payload, source_context]`,
computed by PostgreSQL only (`ContentFingerprint`): jsonb's text is canonical
(keys sorted, whitespace normalised, numbers as written), and Python never
recomputes it, so the confirmation page, the decision, the trail and the
"changed after approval" filter all compare the same bytes.

Payloads are untrusted JSON: `payment_terms` reads an amount and a currency
the way the approval rules need them, or says why it cannot.
"""

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Func, TextField

AMOUNT_TEXT = re.compile(r"[0-9]+(\.[0-9]+)?")
CURRENCY_TEXT = re.compile(r"[A-Za-z]{3}")


class ContentFingerprint(Func):
    """The fingerprint of a row's payload and source context, as PostgreSQL computes it."""

    template = "encode(sha256(convert_to(jsonb_build_array(%(expressions)s)::text, 'UTF8')), 'hex')"
    output_field = TextField()

    def __init__(self, payload: str = "payload", source_context: str = "source_context") -> None:
        super().__init__(payload, source_context)

    @classmethod
    def of_row(cls, row: str) -> str:
        """The same, written out as SQL about the row `row` names: cheaper to compile."""
        return cls.template % {"expressions": f'{row}."payload", {row}."source_context"'}


@dataclass(frozen=True)
class PaymentTerms:
    """A payment's amount and currency as the rules read them; `problem` says why not."""

    amount: Decimal | None
    currency: str | None
    problem: str = ""


def payment_terms(*, payload) -> PaymentTerms:
    """The amount (a JSON number or a plain decimal string) and the three-letter currency."""
    payload = payload if isinstance(payload, dict) else {}
    amount, amount_problem = _amount(payload.get("amount"))
    currency, currency_problem = _currency(payload.get("currency"))
    return PaymentTerms(amount, currency, amount_problem or currency_problem)


def _amount(value) -> tuple[Decimal | None, str]:
    if value is None or value == "":
        return None, "the payment has no amount"
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str) and AMOUNT_TEXT.fullmatch(value.strip()):
        text = value.strip()
    else:
        return None, f"the amount {_quoted(value)} is not a number like 1234.50"
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        return None, f"the amount {_quoted(value)} is not a number like 1234.50"
    return amount, ""


def _currency(value) -> tuple[str | None, str]:
    if value is None or value == "":
        return None, "the payment has no currency"
    if isinstance(value, str) and CURRENCY_TEXT.fullmatch(value.strip()):
        return value.strip().upper(), ""
    return None, f"the currency {_quoted(value)} is not a three-letter code"


def _quoted(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return f"“{text[:40]}”"


@dataclass(frozen=True)
class ContentChange:
    """One value that differs between two versions of a draft's content."""

    path: str  # e.g. payload.payee.iban
    before: object  # MISSING when the value was added
    after: object  # MISSING when the value was removed

    @property
    def kind(self) -> str:
        if self.before is MISSING:
            return "added"
        return "removed" if self.after is MISSING else "changed"


MISSING = type("Missing", (), {"__repr__": lambda self: "(none)"})()


def content_changes(*, before: dict, after: dict) -> list[ContentChange]:
    """What differs between two versions, value by value, in path order: a readable diff."""
    changes: list[ContentChange] = []
    _compare("", before, after, changes)
    return sorted(changes, key=lambda change: change.path)


def _compare(path: str, before, after, changes: list[ContentChange]) -> None:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in before.keys() | after.keys():
            _compare(
                f"{path}.{key}" if path else str(key),
                before.get(key, MISSING),
                after.get(key, MISSING),
                changes,
            )
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            _compare(f"{path}[{index}]", old, new, changes)
    elif before != after or type(before) is not type(after):
        changes.append(ContentChange(path, before, after))

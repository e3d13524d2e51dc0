"""What the demo rows say: Lynx AI's tools per draft type, and realistic payloads.

Plain data and pure functions of a `random.Random`, so the generator's seed fixes them.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.choices import DraftType, ExecutionStatus

LYNX_AGENT = "lynx-agent"

SUCCEEDED = ExecutionStatus.SUCCEEDED.value
STARTED = ExecutionStatus.STARTED.value
FAILED = ExecutionStatus.FAILED.value
DENIED = ExecutionStatus.DENIED.value


@dataclass(frozen=True)
class Tools:
    """A draft type's tools: `check` validates, `act` does it once, `undo` rolls it back."""

    check: str
    act: str
    undo: str
    reference_key: str
    reference: str  # format string for what `act` returns, numbered per tenant


TOOLS = {
    DraftType.DOCS.value: Tools(
        "docs.render",
        "docs.publish",
        "docs.unpublish",
        "url",
        "https://docs.example.com/{tenant}/page-{n:04d}",
    ),
    DraftType.WORKFLOW.value: Tools(
        "workflow.validate",
        "workflow.run",
        "workflow.cancel",
        "workflow_run_id",
        "wf-{tenant}-{n:04d}",
    ),
    DraftType.VPM_PAYMENT.value: Tools(
        "payments.validate",
        "payments.submit",
        "payments.cancel",
        "payment_id",
        "pay-{tenant}-{n:04d}",
    ),
}
PAYMENTS = TOOLS[DraftType.VPM_PAYMENT.value]

# Weights of the drafts beyond the one-of-each-combination set.
DRAFT_TYPE_WEIGHTS = {"docs": 3, "workflow": 3, "vpm_payment": 4}
DRAFT_STATUS_WEIGHTS = {
    "draft": 10,
    "submitted": 25,
    "approved": 15,
    "rejected": 8,
    "cancelled": 5,
    "published": 15,
    "executed": 22,
}
# How far acting on an approved draft got: not tried, running, failed, failed then running.
IN_FLIGHT = ((), (STARTED,), (FAILED,), (FAILED, STARTED))

DOC_TITLES = (
    "Q3 release notes",
    "Incident review: payment gateway latency",
    "Onboarding guide for finance analysts",
    "Vendor security questionnaire answers",
    "Expense policy update",
    "Runbook: rotating API keys",
)
DOC_SPACES = ("Engineering", "Finance", "Operations", "Security")
WORKFLOWS = (
    ("invoice-approval", ["fetch_invoice", "match_po", "route_for_approval"]),
    ("vendor-onboarding", ["collect_documents", "kyc_check", "create_vendor"]),
    ("month-end-close", ["reconcile_accounts", "accrue_expenses", "lock_period"]),
    ("access-review", ["export_grants", "notify_owners"]),
)
PAYEES = (
    ("Initech GmbH", "DE89370400440532013000"),
    ("Umbrella Logistics Ltd", "GB29NWBK60161331926819"),
    ("Hooli Cloud Services", "NL91ABNA0417164300"),
    ("Stark Industrial Supply", "FR1420041010050500013M02606"),
    ("Wayne Facilities", "CH9300762011623852957"),
)
CURRENCIES = ("EUR", "USD", "GBP", "CHF")
FAILURES = (
    "Upstream timed out after 30 s",
    "Connection reset by peer",
    "Rate limited by provider (HTTP 429)",
    "Target rejected the request: validation failed",
)
DENIALS = (
    "Policy denied: the draft is not approved",
    "Policy denied: the actor may not run this tool",
    "Policy denied: amount above the actor's limit",
)
ERRORS = {FAILED: FAILURES, DENIED: DENIALS}
REFUSALS = (
    ("Pay 250,000 EUR to a new payee today", "Refused: the payee is not on the allow-list"),
    ("Publish the draft without review", "Refused: publishing needs an approved draft"),
    ("Delete last month's audit events", "Refused: audit events are append-only"),
    ("Move the budget to my personal account", "Refused: the request breaks payment policy"),
)
SETTLEMENT_FAILURES = ("Beneficiary bank rejected the transfer", "Insufficient funds")
# Shown as text by the portal, never run: the escaping can be checked by hand.
HOSTILE_BODY = "Please review <script>alert(1)</script> before Friday."


def payload(rng: random.Random, draft_type: str, created_at: datetime) -> dict:
    """What Lynx proposes in a draft of this type."""
    if draft_type == DraftType.DOCS:
        title = rng.choice(DOC_TITLES)
        return {
            "title": title,
            "space": rng.choice(DOC_SPACES),
            "body": f"# {title}\n\nDrafted by Lynx from the thread; please check the figures.",
            "labels": rng.sample(["draft", "external", "finance", "q3", "security"], 2),
        }
    if draft_type == DraftType.WORKFLOW:
        name, steps = rng.choice(WORKFLOWS)
        return {
            "workflow": name,
            "trigger": rng.choice(["manual", "schedule", "webhook"]),
            "steps": [{"action": step, "timeout_s": rng.choice([30, 60, 300])} for step in steps],
        }
    payee, iban = rng.choice(PAYEES)
    return {
        "amount": f"{rng.randint(25, 250_000)}.{rng.randint(0, 99):02d}",
        "currency": rng.choice(CURRENCIES),
        "payee": {"name": payee, "iban": iban},
        "reference": f"INV-{rng.randint(10_000, 99_999)}",
        "due_date": (created_at + timedelta(days=rng.choice([7, 14, 30]))).date().isoformat(),
    }


def source_context(rng: random.Random) -> dict:
    """Where the request for a draft came from."""
    channel = rng.choice(["slack", "email", "api"])
    if channel == "slack":
        return {"channel": channel, "channel_id": f"C0{rng.randint(10**7, 10**8 - 1)}"}
    if channel == "email":
        return {"channel": channel, "message_id": f"<{rng.getrandbits(48):x}@mail.example.com>"}
    return {"channel": channel, "client": rng.choice(["erp-sync", "billing-bot"])}


def request_context(request_id: str | None) -> dict:
    """What audit events say about the request of their run: nothing when it had none."""
    return {"request_id": request_id} if request_id else {}

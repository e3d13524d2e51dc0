"""Demo data for `make run`: two tenants, their users, and several hundred rows per tenant.

Every screen needs volume and every choice value in every tenant to be tried by hand, and
later tests need known actors (maker-checker, escaping, archival), so the data is realistic
rather than minimal. Loading is deterministic (uuid5 keys, fixed payment ids, a seeded
Random) and idempotent: rows that exist are left untouched, so a second load changes nothing.

It runs as the connecting (owner) role across tenants on purpose: the RLS role that requests
run as may not insert into the spec tables, and one load fills every tenant.

The rows link up the way Lynx AI's do: a draft's executions share its `request_id`; the
tries of one tool on one draft form an audit run whose events carry the `request_id`,
`draft_id` and `execution_id`; a succeeded `payments.submit` returns the `payment_id` of its
settlement intent. Audit runs older than 90 days refer to drafts archived since, for the
archival the spec asks for to find.
"""

import functools
import itertools
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group
from django.db import models, transaction
from django.utils import timezone

from storage.choices import (
    DraftStatus,
    DraftType,
    EventType,
    ExecutionStatus,
    Provider,
    RiskLevel,
    SettlementStatus,
)
from storage.models import AuditEvent, Draft, Execution, SettlementIntent, Tenant, User
from storage.roles import AUDITORS, REVIEWERS, SETTLEMENT_OPERATORS, ensure_groups

NAMESPACE = uuid.UUID("0c6f5a52-8d1e-4a7b-9a53-3f0e1b7c2d94")
SEED = "lynx-portal-demo"
TENANTS = {"acme": "Acme Corp", "globex": "Globex"}
ROLES = ("reviewer", "reviewer2", "auditor", "operator")
# The groups each demo role's users are in (storage/roles.py defines what they may do).
ROLE_GROUPS = {
    "reviewer": [REVIEWERS],
    "reviewer2": [REVIEWERS],
    "auditor": [AUDITORS],
    "operator": [SETTLEMENT_OPERATORS],
}
ADMIN = "admin"
USERNAMES = (*(f"{tenant}-{role}" for tenant in TENANTS for role in ROLES), ADMIN)
LYNX_AGENT = "lynx-agent"

DRAFTS = 120
SETTLEMENT_INTENTS = 60
REFUSAL_RUNS = 12
ARCHIVED_DRAFTS = 20
RECENT = timedelta(days=30)
# Runs of archived drafts are older than the spec's 90-day archival age, tries included.
ARCHIVED = timedelta(days=95)
TRIES_WITHIN = timedelta(days=2)

SUCCEEDED = ExecutionStatus.SUCCEEDED.value
STARTED = ExecutionStatus.STARTED.value
FAILED = ExecutionStatus.FAILED.value
DENIED = ExecutionStatus.DENIED.value


@dataclass(frozen=True)
class DemoSummary:
    """How many rows of each kind this load created (all zero when the data was there)."""

    tenants: int
    users: int
    drafts: int
    executions: int
    settlement_intents: int
    audit_events: int


@dataclass(frozen=True)
class _Tools:
    """A draft type's tools: `check` validates, `act` does it once, `undo` rolls it back."""

    check: str
    act: str
    undo: str
    reference_key: str
    reference: str  # format string for what `act` returns, numbered per tenant


TOOLS = {
    DraftType.DOCS.value: _Tools(
        "docs.render",
        "docs.publish",
        "docs.unpublish",
        "url",
        "https://docs.example.com/{tenant}/page-{n:04d}",
    ),
    DraftType.WORKFLOW.value: _Tools(
        "workflow.validate",
        "workflow.run",
        "workflow.cancel",
        "workflow_run_id",
        "wf-{tenant}-{n:04d}",
    ),
    DraftType.VPM_PAYMENT.value: _Tools(
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


def load_demo_data(*, password: str) -> DemoSummary:
    """Create whatever of the demo data is missing, in one transaction; see the module doc."""
    now = timezone.now()
    demos = [_TenantDemo(tenant, now) for tenant in TENANTS]
    with transaction.atomic():
        return DemoSummary(
            tenants=_insert(Tenant, [Tenant(tenant_id=t, name=n) for t, n in TENANTS.items()]),
            users=_ensure_users(password),
            drafts=_insert(Draft, [row for demo in demos for row in demo.drafts]),
            executions=_insert(Execution, [row for demo in demos for row in demo.executions]),
            settlement_intents=_insert(
                SettlementIntent, [row for demo in demos for row in demo.intents]
            ),
            audit_events=_insert(AuditEvent, [row for demo in demos for row in demo.events]),
        )


def _insert(model: type[models.Model], rows: list[models.Model]) -> int:
    """Insert the rows that are missing, leave the others untouched; return how many were new."""
    before = model._default_manager.count()
    model._default_manager.bulk_create(rows, ignore_conflicts=True)
    return model._default_manager.count() - before


def _ensure_users(password: str) -> int:
    """Create or repair the demo users and their groups, saving only what differs.

    Returns how many users were new.

    Password hashing is slow on purpose, so the password is hashed once (the demo users share
    the hash) and each distinct stored hash is checked once: a second load costs one check.
    """
    ensure_groups()
    groups = {group.name: group for group in Group.objects.all()}
    matches = functools.cache(lambda encoded: check_password(password, encoded))
    hashed = functools.cache(lambda: make_password(password))
    created = 0
    for username in USERNAMES:
        tenant, _, _ = username.partition("-")
        expected = {
            "email": f"{username}@example.com",
            "tenant_id": tenant if tenant in TENANTS else None,
            "is_staff": True,
            "is_superuser": username == ADMIN,
        }
        user = User.objects.filter(username=username).first() or User(username=username)
        changed = [field for field, value in expected.items() if getattr(user, field) != value]
        for field in changed:
            setattr(user, field, expected[field])
        if not matches(user.password):
            user.password = hashed()
            changed.append("password")
        if user._state.adding:
            user.save()
            created += 1
        elif changed:
            user.save(update_fields=changed)
        role = username.partition("-")[2]
        user.groups.add(*(groups[name] for name in ROLE_GROUPS.get(role, [])))
    return created


def _request_context(request_id: str | None) -> dict:
    """What audit events say about the request of their run: nothing when it had none."""
    return {"request_id": request_id} if request_id else {}


class _TenantDemo:
    """One tenant's rows, built in memory; the seed fixes every choice, `now` only the times."""

    def __init__(self, tenant: str, now: datetime) -> None:
        self.tenant = tenant
        self.now = now
        self.rng = random.Random(f"{SEED}/{tenant}")
        self.numbers = {
            kind: itertools.count(1) for kind in ("request", "run", "execution", "event")
        }
        self.references: Counter[str] = Counter()
        self.creators = (
            LYNX_AGENT,
            f"{tenant}-operator",
            f"{tenant}-reviewer",
            LYNX_AGENT,
            f"{tenant}-reviewer2",
        )
        self.drafts = self._drafts()
        self.executions: list[Execution] = []
        self.events: list[AuditEvent] = []
        for draft in self.drafts:
            executions, events = self._execution_runs(draft)
            self.executions += executions
            self.events += events
        self.intents = self._settlement_intents()
        for n in range(ARCHIVED_DRAFTS):
            self.events += self._archived_runs(n)
        for _ in range(REFUSAL_RUNS):
            self.events += self._refusal_run()

    # Keys, ids and times.

    def _uuid(self, kind: str, n: int) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"{self.tenant}/{kind}/{n}")

    def _next(self, kind: str) -> str:
        return f"{kind[:3]}-{self.tenant}-{next(self.numbers[kind]):04d}"

    def _request_id(self) -> str | None:
        """Most rows carry the request that made them; some come from jobs without one."""
        return self._next("request") if self.rng.random() < 0.8 else None

    def _recent(self) -> datetime:
        """A time in the last 30 days, denser towards now (a fifth in the last 24 hours)."""
        minimum = timedelta(hours=1)  # time for the draft's runs to finish
        return self.now - minimum - (RECENT - minimum) * self.rng.random() ** 2

    def _between(self, start: datetime, low: float, high: float) -> datetime:
        return start + (self.now - start) * self.rng.uniform(low, high)

    # Drafts.

    def _drafts(self) -> list[Draft]:
        """One draft of every (type, status, risk), the rest weighted like a busy tenant."""
        combinations = list(
            itertools.product(DraftType.values, DraftStatus.values, RiskLevel.values)
        )
        for _ in range(DRAFTS - len(combinations)):
            combinations.append(
                (
                    self._weighted(DRAFT_TYPE_WEIGHTS),
                    self._weighted(DRAFT_STATUS_WEIGHTS),
                    self.rng.choice(RiskLevel.values),
                )
            )
        drafts = [
            self._draft(n, *combination, self._recent())
            for n, combination in enumerate(combinations)
        ]
        hostile = next(
            d
            for d in drafts
            if d.draft_type == DraftType.DOCS and d.status == DraftStatus.SUBMITTED
        )
        hostile.payload["body"] = "Please review <script>alert(1)</script> before Friday."
        return drafts

    def _weighted(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _draft(
        self, n: int, draft_type: str, status: str, risk_level: str, created_at: datetime
    ) -> Draft:
        """Creators cycle so every status has drafts by Lynx, the operator and each reviewer."""
        approvers = [f"{self.tenant}-reviewer", f"{self.tenant}-reviewer2"]
        if risk_level == RiskLevel.HIGH:
            approvers.append(f"{self.tenant}-compliance")
        return Draft(
            draft_id=self._uuid("draft", n),
            tenant_id=self.tenant,
            draft_type=draft_type,
            payload=self._payload(draft_type, created_at),
            status=status,
            risk_level=risk_level,
            created_by=self.creators[n % len(self.creators)],
            created_at=created_at,
            source_context=self._source_context(),
            recommended_approvers=[] if status == DraftStatus.DRAFT else approvers,
            request_id=self._request_id(),
        )

    def _payload(self, draft_type: str, created_at: datetime) -> dict:
        rng = self.rng
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
                "steps": [
                    {"action": step, "timeout_s": rng.choice([30, 60, 300])} for step in steps
                ],
            }
        payee, iban = rng.choice(PAYEES)
        return {
            "amount": f"{rng.randint(25, 250_000)}.{rng.randint(0, 99):02d}",
            "currency": rng.choice(CURRENCIES),
            "payee": {"name": payee, "iban": iban},
            "reference": f"INV-{rng.randint(10_000, 99_999)}",
            "due_date": (created_at + timedelta(days=rng.choice([7, 14, 30]))).date().isoformat(),
        }

    def _source_context(self) -> dict:
        rng = self.rng
        channel = rng.choice(["slack", "email", "api"])
        if channel == "slack":
            return {"channel": channel, "channel_id": f"C0{rng.randint(10**7, 10**8 - 1)}"}
        if channel == "email":
            return {"channel": channel, "message_id": f"<{rng.getrandbits(48):x}@mail.example.com>"}
        return {"channel": channel, "client": rng.choice(["erp-sync", "billing-bot"])}

    # Executions and their audit runs.

    def _runs(self, status: str, tools: _Tools) -> list[tuple[str, list[str]]]:
        """The runs that tried a draft in this status, as (tool, outcomes of its tries).

        Lynx checks a draft before it submits it; acting comes later, retried until it
        succeeds, so each tool succeeds at most once per draft and only on its last try.
        """
        runs = [] if status == DraftStatus.DRAFT else [(tools.check, [SUCCEEDED])]
        if status in (DraftStatus.PUBLISHED, DraftStatus.EXECUTED):
            tries = [FAILED] * self.rng.choice([0, 0, 1, 2]) + [SUCCEEDED]
        elif status == DraftStatus.APPROVED:
            tries = list(self.rng.choice(IN_FLIGHT))
        else:
            tries = [DENIED] if self.rng.random() < 0.3 else []
        return [*runs, (tools.act, tries)] if tries else runs

    def _execution_runs(self, draft: Draft) -> tuple[list[Execution], list[AuditEvent]]:
        """The draft's executions and their audit runs: the check soon after drafting, the
        action later; a draft never tried has neither."""
        tools = TOOLS[draft.draft_type]
        window = min(self.now - draft.created_at, TRIES_WITHIN)
        executions, events = [], []
        for (tool_id, tries), (low, high) in zip(
            self._runs(draft.status, tools), [(0.05, 0.3), (0.4, 0.8)], strict=False
        ):
            run_id = self._next("run")
            at = draft.created_at + window * self.rng.uniform(low, high)
            run = []
            for status in tries:
                run.append(self._execution(draft, tools, tool_id, status, at, run_id))
                at = (run[-1].completed_at or at) + timedelta(seconds=self.rng.uniform(5, 30))
            executions += run
            events += self._tool_run(draft, run_id, run)
        return executions, events

    def _tool_run(self, draft: Draft, run_id: str, executions: list[Execution]) -> list[AuditEvent]:
        context = _request_context(draft.request_id)
        calls = [
            self._event(
                run_id,
                EventType.TOOL_CALL,
                execution.created_at,
                tool_id=execution.tool_id,
                status=execution.status,
                input_data={**context, "draft_id": str(draft.draft_id)},
                output_data={
                    "execution_id": str(execution.execution_id),
                    **execution.result_payload,
                },
                error_message=execution.error_message,
            )
            for execution in executions
        ]
        start_input = {**context, "draft_id": str(draft.draft_id), "draft_type": draft.draft_type}
        return self._run(run_id, start_input, calls)

    def _execution(
        self, draft: Draft, tools: _Tools, tool_id: str, status: str, start: datetime, run_id: str
    ) -> Execution:
        completed_at = start + timedelta(seconds=self.rng.uniform(0.5, 20))
        execution = Execution(
            execution_id=self._uuid("execution", next(self.numbers["execution"])),
            draft=draft,
            tool_id=tool_id,
            tenant_id=self.tenant,
            actor_id=self.rng.choice([LYNX_AGENT, LYNX_AGENT, f"{self.tenant}-operator"]),
            status=status,
            result_payload={},
            created_at=start,
            completed_at=None if status == STARTED else completed_at,
            error_message=self.rng.choice(ERRORS[status]) if status in ERRORS else None,
            request_id=draft.request_id,
            source_context={"run_id": run_id, "channel": draft.source_context["channel"]},
        )
        if status == SUCCEEDED and tool_id == tools.act:
            reference = self._reference(tools)
            execution.result_payload = {tools.reference_key: reference}
            execution.rollback_instructions = {
                "tool_id": tools.undo,
                "args": {tools.reference_key: reference},
            }
        elif status == SUCCEEDED:
            execution.result_payload = {"checks": ["schema", "policy"], "warnings": []}
        return execution

    def _reference(self, tools: _Tools) -> str:
        self.references[tools.act] += 1
        return tools.reference.format(tenant=self.tenant, n=self.references[tools.act])

    def _event(self, run_id: str, event_type: str, at: datetime, **fields) -> AuditEvent:
        return AuditEvent(
            event_id=self._uuid("event", next(self.numbers["event"])),
            run_id=run_id,
            tenant_id=self.tenant,
            event_type=event_type,
            created_at=at,
            **fields,
        )

    def _run(self, run_id: str, start_input: dict, calls: list[AuditEvent]) -> list[AuditEvent]:
        """run_start, the calls, and how the last call ended (nothing while it still runs)."""
        start = self._event(
            run_id,
            EventType.RUN_START,
            calls[0].created_at - timedelta(seconds=2),
            status=STARTED,
            input_data=start_input,
        )
        last = calls[-1]
        if last.status == STARTED:
            return [start, *calls]
        succeeded = last.status == SUCCEEDED
        end = self._event(
            run_id,
            EventType.RUN_SUCCESS if succeeded else EventType.RUN_FAILURE,
            last.created_at + timedelta(seconds=25),
            status=SUCCEEDED if succeeded else FAILED,
            output_data={"tool_calls": len(calls)},
            error_message=None if succeeded else last.error_message,
        )
        return [start, *calls, end]

    def _archived_runs(self, n: int) -> list[AuditEvent]:
        """Runs from long ago: their draft and executions are archived, so not loaded."""
        created_at = self.now - ARCHIVED - timedelta(days=self.rng.uniform(0, 90))
        draft = self._draft(
            DRAFTS + n,
            self._weighted(DRAFT_TYPE_WEIGHTS),
            self.rng.choice([DraftStatus.EXECUTED, DraftStatus.PUBLISHED, DraftStatus.SUBMITTED]),
            self.rng.choice(RiskLevel.values),
            created_at,
        )
        return self._execution_runs(draft)[1]

    def _refusal_run(self) -> list[AuditEvent]:
        run_id = self._next("run")
        prompt, reason = self.rng.choice(REFUSALS)
        start_input = {**_request_context(self._request_id()), "prompt": prompt}
        refusal = self._event(
            run_id,
            EventType.REFUSAL,
            self._recent(),
            tool_id=self.rng.choice([tools.act for tools in TOOLS.values()]),
            status=DENIED,
            input_data={"prompt": prompt},
            error_message=reason,
        )
        return self._run(run_id, start_input, [refusal])

    # Settlement intents.

    def _settlement_intents(self) -> list[SettlementIntent]:
        """One per submitted payment, then manual ones for other payment drafts.

        The first ones take every (status, provider) pair so that each tenant shows them all.
        """
        payments: list[tuple[str, Draft, Execution | None]] = [
            (execution.result_payload[PAYMENTS.reference_key], execution.draft, execution)
            for execution in self.executions
            if execution.tool_id == PAYMENTS.act and execution.status == SUCCEEDED
        ]
        payment_drafts = [d for d in self.drafts if d.draft_type == DraftType.VPM_PAYMENT]
        while len(payments) < SETTLEMENT_INTENTS:
            payments.append((self._reference(PAYMENTS), self.rng.choice(payment_drafts), None))
        states = list(itertools.product(SettlementStatus.values, Provider.values))
        states += [
            (self.rng.choice(SettlementStatus.values), self.rng.choice(Provider.values))
            for _ in range(len(payments) - len(states))
        ]
        return [
            self._settlement_intent(payment_id, draft, execution, status, provider)
            for (payment_id, draft, execution), (status, provider) in zip(
                payments, states, strict=True
            )
        ]

    def _settlement_intent(
        self,
        payment_id: str,
        draft: Draft,
        execution: Execution | None,
        status: str,
        provider: str,
    ) -> SettlementIntent:
        payload = draft.payload
        metadata = {
            "draft_id": str(draft.draft_id),
            "amount": payload["amount"],
            "currency": payload["currency"],
            "payee": payload["payee"]["name"],
            "reference": payload["reference"],
        }
        if execution:
            metadata["execution_id"] = str(execution.execution_id)
        if provider == Provider.BANK_X:
            metadata["bank_reference"] = f"BX{self.rng.randint(10**9, 10**10 - 1)}"
        if status == SettlementStatus.FAILED:
            metadata["failure_reason"] = self.rng.choice(SETTLEMENT_FAILURES)
        created_at = (
            execution.completed_at if execution else self._between(draft.created_at, 0.1, 0.5)
        )
        updated_at = self._between(created_at, 0, 0.5)
        return SettlementIntent(
            payment_id=payment_id,
            settlement_status=status,
            provider=provider,
            tenant_id=self.tenant,
            created_at=created_at,
            updated_at=created_at if status == SettlementStatus.QUEUED else updated_at,
            metadata=metadata,
        )

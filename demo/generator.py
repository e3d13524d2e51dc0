"""The demo rows of one tenant, built in memory: no database access, nothing saved.

Every screen needs volume and every choice value in every tenant to be tried by hand, and
later tests need known actors (maker-checker, escaping, archival), so the data is realistic
rather than minimal. It is deterministic: uuid5 keys, numbered ids and one `random.Random`
seeded per tenant fix every choice; `now` only places the times. Loading the same rows
again therefore changes nothing (demo.loader).

The rows link up the way Lynx AI's do: a draft's executions share its `request_id`; the
tries of one tool on one draft form an audit run whose events carry the `request_id`,
`draft_id` and `execution_id`; a succeeded `payments.submit` returns the `payment_id` of its
settlement intent. Audit runs older than 90 days refer to drafts archived since, for the
archival the spec asks for to find.
"""

import itertools
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from demo import content
from demo.accounts import tenant_username
from demo.content import DENIED, FAILED, LYNX_AGENT, PAYMENTS, STARTED, SUCCEEDED, TOOLS, Tools
from storage.choices import DraftStatus, DraftType, EventType, Provider, RiskLevel, SettlementStatus
from storage.models import AuditEvent, Draft, Execution, SettlementIntent

NAMESPACE = uuid.UUID("0c6f5a52-8d1e-4a7b-9a53-3f0e1b7c2d94")
SEED = "lynx-portal-demo"

DRAFTS = 120
SETTLEMENT_INTENTS = 60
REFUSAL_RUNS = 12
ARCHIVED_DRAFTS = 20
RECENT = timedelta(days=30)
# Runs of archived drafts are older than the spec's 90-day archival age, tries included.
ARCHIVED = timedelta(days=95)
TRIES_WITHIN = timedelta(days=2)


@dataclass(frozen=True)
class TenantRows:
    """One tenant's demo rows, unsaved, in the order they can be inserted."""

    drafts: list[Draft]
    executions: list[Execution]
    settlement_intents: list[SettlementIntent]
    audit_events: list[AuditEvent]


def generate_rows(tenant_id: str, *, now: datetime, seed: str = SEED) -> TenantRows:
    """The tenant's drafts, their executions and audit runs, settlement intents, refusals."""
    return _TenantGenerator(tenant_id, now=now, seed=seed).rows()


class _TenantGenerator:
    """Single use: the Random, the counters and the references advance as rows are made."""

    def __init__(self, tenant_id: str, *, now: datetime, seed: str) -> None:
        self.tenant = tenant_id
        self.now = now
        self.rng = random.Random(f"{seed}/{tenant_id}")
        self.numbers = {
            kind: itertools.count(1) for kind in ("request", "run", "execution", "event")
        }
        self.references: Counter[str] = Counter()
        # Creators cycle so every status has drafts by Lynx, the operator and each reviewer.
        self.creators = (
            LYNX_AGENT,
            tenant_username(tenant_id, "operator"),
            tenant_username(tenant_id, "reviewer"),
            LYNX_AGENT,
            tenant_username(tenant_id, "reviewer2"),
        )

    def rows(self) -> TenantRows:
        drafts = self._drafts()
        executions, events = [], []
        for draft in drafts:
            draft_executions, draft_events = self._execution_runs(draft)
            executions += draft_executions
            events += draft_events
        intents = self._settlement_intents(drafts, executions)
        for n in range(ARCHIVED_DRAFTS):
            events += self._archived_runs(n)
        for _ in range(REFUSAL_RUNS):
            events += self._refusal_run()
        return TenantRows(drafts, executions, intents, events)

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

    def _weighted(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    # Drafts.

    def _drafts(self) -> list[Draft]:
        """One draft of every (type, status, risk), the rest weighted like a busy tenant."""
        combinations = list(
            itertools.product(DraftType.values, DraftStatus.values, RiskLevel.values)
        )
        for _ in range(DRAFTS - len(combinations)):
            combinations.append(
                (
                    self._weighted(content.DRAFT_TYPE_WEIGHTS),
                    self._weighted(content.DRAFT_STATUS_WEIGHTS),
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
        hostile.payload["body"] = content.HOSTILE_BODY
        return drafts

    def _draft(
        self, n: int, draft_type: str, status: str, risk_level: str, created_at: datetime
    ) -> Draft:
        approvers = [
            tenant_username(self.tenant, "reviewer"),
            tenant_username(self.tenant, "reviewer2"),
        ]
        if risk_level == RiskLevel.HIGH:
            approvers.append(tenant_username(self.tenant, "compliance"))  # listed; no demo account
        return Draft(
            draft_id=self._uuid("draft", n),
            tenant_id=self.tenant,
            draft_type=draft_type,
            payload=content.payload(self.rng, draft_type, created_at),
            status=status,
            risk_level=risk_level,
            created_by=self.creators[n % len(self.creators)],
            created_at=created_at,
            source_context=content.source_context(self.rng),
            recommended_approvers=[] if status == DraftStatus.DRAFT else approvers,
            request_id=self._request_id(),
        )

    def _archived_runs(self, n: int) -> list[AuditEvent]:
        """Runs from long ago: their draft and executions are archived, so not returned."""
        created_at = self.now - ARCHIVED - timedelta(days=self.rng.uniform(0, 90))
        draft = self._draft(
            DRAFTS + n,
            self._weighted(content.DRAFT_TYPE_WEIGHTS),
            self.rng.choice([DraftStatus.EXECUTED, DraftStatus.PUBLISHED, DraftStatus.SUBMITTED]),
            self.rng.choice(RiskLevel.values),
            created_at,
        )
        return self._execution_runs(draft)[1]

    # Executions and their audit runs.

    def _runs(self, status: str, tools: Tools) -> list[tuple[str, list[str]]]:
        """The runs that tried a draft in this status, as (tool, outcomes of its tries).

        Lynx checks a draft before it submits it; acting comes later, retried until it
        succeeds, so each tool succeeds at most once per draft and only on its last try.
        """
        runs = [] if status == DraftStatus.DRAFT else [(tools.check, [SUCCEEDED])]
        if status in (DraftStatus.PUBLISHED, DraftStatus.EXECUTED):
            tries = [FAILED] * self.rng.choice([0, 0, 1, 2]) + [SUCCEEDED]
        elif status == DraftStatus.APPROVED:
            tries = list(self.rng.choice(content.IN_FLIGHT))
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

    def _execution(
        self, draft: Draft, tools: Tools, tool_id: str, status: str, start: datetime, run_id: str
    ) -> Execution:
        completed_at = start + timedelta(seconds=self.rng.uniform(0.5, 20))
        execution = Execution(
            execution_id=self._uuid("execution", next(self.numbers["execution"])),
            draft=draft,
            tool_id=tool_id,
            tenant_id=self.tenant,
            actor_id=self.rng.choice(
                [LYNX_AGENT, LYNX_AGENT, tenant_username(self.tenant, "operator")]
            ),
            status=status,
            result_payload={},
            created_at=start,
            completed_at=None if status == STARTED else completed_at,
            error_message=(
                self.rng.choice(content.ERRORS[status]) if status in content.ERRORS else None
            ),
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

    def _reference(self, tools: Tools) -> str:
        self.references[tools.act] += 1
        return tools.reference.format(tenant=self.tenant, n=self.references[tools.act])

    def _tool_run(self, draft: Draft, run_id: str, executions: list[Execution]) -> list[AuditEvent]:
        context = content.request_context(draft.request_id)
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

    def _refusal_run(self) -> list[AuditEvent]:
        run_id = self._next("run")
        prompt, reason = self.rng.choice(content.REFUSALS)
        start_input = {**content.request_context(self._request_id()), "prompt": prompt}
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

    # Settlement intents.

    def _settlement_intents(
        self, drafts: list[Draft], executions: list[Execution]
    ) -> list[SettlementIntent]:
        """One per submitted payment, then manual ones for other payment drafts.

        The first ones take every (status, provider) pair so that each tenant shows them all.
        """
        payments: list[tuple[str, Draft, Execution | None]] = [
            (execution.result_payload[PAYMENTS.reference_key], execution.draft, execution)
            for execution in executions
            if execution.tool_id == PAYMENTS.act and execution.status == SUCCEEDED
        ]
        payment_drafts = [d for d in drafts if d.draft_type == DraftType.VPM_PAYMENT]
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
            metadata["failure_reason"] = self.rng.choice(content.SETTLEMENT_FAILURES)
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

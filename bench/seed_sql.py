"""The benchmark workload as SQL: every row is generated inside PostgreSQL from its number.

Rows are numbered in time order (row n of N is created at `(n / N)` of the way through
the 185 days ending at the seed's start), so the tables are laid out as an append-only
log would lay them out, tenants interleaved. Each row's tenant, type, status and content
come from `hashint8extended(n, salt)`: the same number always gives the same row, and
an execution can name its draft (and that draft's tenant and type) by the draft's number
without a join. Tenants have Zipf sizes (weight 1/k): the largest holds about 20% of
every table, the median about 0.4%.
"""

from collections.abc import Mapping

from demo.content import DENIALS, DOC_TITLES, FAILURES

TENANTS = 100
DAYS = 185
SLOTS = 10_000
# Rows of each table at scale 1.
ROWS = {
    "lynx_drafts": 1_000_000,
    "lynx_executions": 2_000_000,
    "settlement_intents": 200_000,
    "lynx_audit_events": 10_000_000,
}
EVENTS_PER_RUN = 8
RECENT = 0.97  # drafts after this fraction of the period are still being reviewed


def tenant_id(rank: int) -> str:
    """Tenant 1 is the largest; ranks are zero-padded so that they sort by size."""
    return f"tenant-{rank:03d}"


def tenant_slots() -> list[int]:
    """SLOTS tenant ranks, rank k taking a share 1/k of them (Zipf), as an int[] to index."""
    weights = [1 / rank for rank in range(1, TENANTS + 1)]
    total = sum(weights)
    slots: list[int] = []
    for rank, weight in enumerate(weights, start=1):
        slots += [rank] * max(1, round(SLOTS * weight / total))
    return (slots + [TENANTS] * SLOTS)[:SLOTS]


def helper_functions(*, end_epoch: float) -> list[str]:
    """Session-local (pg_temp) SQL functions the inserts share; inlined by the planner."""
    slots = "{" + ",".join(map(str, tenant_slots())) + "}"
    return [
        "CREATE OR REPLACE FUNCTION pg_temp.pick(n bigint, salt bigint, m int) RETURNS int "
        "LANGUAGE sql IMMUTABLE AS $$ SELECT abs(hashint8extended(n, salt) % m)::int $$",
        "CREATE OR REPLACE FUNCTION pg_temp.tenant_of(n bigint, salt bigint) RETURNS text "
        "LANGUAGE sql IMMUTABLE AS $$ SELECT 'tenant-' || lpad("
        f"('{slots}'::int[])[1 + abs(hashint8extended(n, salt) % {SLOTS})]::text, 3, '0') $$",
        # Plain seconds: timestamptz - interval is only STABLE, which would stop inlining.
        "CREATE OR REPLACE FUNCTION pg_temp.at(n bigint, total bigint) RETURNS timestamptz "
        f"LANGUAGE sql IMMUTABLE AS $$ SELECT to_timestamp({end_epoch} "
        f"- {DAYS * 86400} * (1 - n::float8 / total)) $$",
        # 16 hex digits; cheaper than md5, which would cost more than the rest of a row.
        "CREATE OR REPLACE FUNCTION pg_temp.hex(n bigint, salt bigint) RETURNS text "
        "LANGUAGE sql IMMUTABLE AS $$ SELECT lpad(to_hex(hashint8extended(n, salt)), 16, '0') $$",
        "CREATE OR REPLACE FUNCTION pg_temp.draft_uuid(n bigint) RETURNS uuid "
        "LANGUAGE sql IMMUTABLE AS $$ SELECT (pg_temp.hex(n, 101) || pg_temp.hex(n, 102))::uuid $$",
        "CREATE OR REPLACE FUNCTION pg_temp.request_of(n bigint) RETURNS text "
        "LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN pg_temp.pick(n, 9, 10) < 9 "
        "THEN 'req-' || pg_temp.hex(n, 103) END $$",
        # 0-2 docs, 3-5 workflow, 6-9 payment: the family of the draft's tools.
        "CREATE OR REPLACE FUNCTION pg_temp.family(n bigint) RETURNS int "
        "LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN pg_temp.pick(n, 1, 10) < 3 THEN 0 "
        "WHEN pg_temp.pick(n, 1, 10) < 6 THEN 1 ELSE 2 END $$",
    ]


def weighted(hash_expr: str, weights: Mapping[str, int]) -> str:
    """A CASE giving each value its share of `hash_expr`'s range 0..sum(weights)-1."""
    whens, upto = [], 0
    items = list(weights.items())
    for value, weight in items[:-1]:
        upto += weight
        whens.append(f"WHEN {hash_expr} < {upto} THEN '{value}'")
    return f"CASE {' '.join(whens)} ELSE '{items[-1][0]}' END"


def text_array(values: list[str] | tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def choose(values: list[str] | tuple[str, ...], n: str, salt: int) -> str:
    """One of `values`, picked by row number expression `n`."""
    return f"({text_array(values)})[1 + pg_temp.pick({n}, {salt}, {len(values)})]"


TOOLS = (
    ("docs.render", "docs.publish", "docs.unpublish"),
    ("workflow.validate", "workflow.run", "workflow.cancel"),
    ("payments.validate", "payments.submit", "payments.cancel"),
)
OTHER_TOOLS = ("knowledge.search", "email.send", "crm.lookup")
ALL_TOOLS = tuple(tool for family in TOOLS for tool in family) + OTHER_TOOLS
PROMPTS = (
    "Draft the Q3 release notes from the engineering thread",
    "Pay the open Initech invoice before Friday",
    "Run the month-end close workflow for the EU entity",
    "Summarise the vendor security questionnaire answers",
    "Onboard the new logistics vendor and collect their documents",
)
LOREM = (
    "Drafted by Lynx from the thread; please check the figures before publishing. "
    "The numbers come from the finance export of last week and the notes of the review "
    "meeting. Open questions are marked in bold, and the owners of each section are "
    "listed at the end. "
) * 8
WORKFLOWS = ("invoice-approval", "vendor-onboarding", "month-end-close", "access-review")
PAYEES = ("Initech GmbH", "Umbrella Logistics Ltd", "Hooli Cloud Services", "Wayne Facilities")
DRAFT_STATUS_OLD = {
    "executed": 515,
    "published": 300,
    "rejected": 80,
    "cancelled": 50,
    "approved": 45,
    "submitted": 5,
    "draft": 5,
}
DRAFT_STATUS_RECENT = {"draft": 30, "submitted": 60, "approved": 10}


def drafts_insert() -> str:
    """Drafts %(lo)s..%(hi)s of %(total)s; the payload's shape follows the draft's type."""
    n = "n"
    recent = f"n >= {RECENT} * %(total)s"
    status = (
        f"CASE WHEN {recent} THEN {weighted('pg_temp.pick(n, 2, 100)', DRAFT_STATUS_RECENT)} "
        f"ELSE {weighted('pg_temp.pick(n, 2, 1000)', DRAFT_STATUS_OLD)} END"
    )
    title = choose(DOC_TITLES, n, 11)
    docs = (
        f"jsonb_build_object('title', {title}, 'space', "
        f"{choose(('Engineering', 'Finance', 'Operations', 'Security'), n, 12)}, "
        f"'body', '# ' || {title} || E'\\n\\n' "
        f"|| substr('{LOREM}', 1, 150 + pg_temp.pick(n, 13, 1200)), "
        f"'labels', jsonb_build_array({choose(('draft', 'external', 'finance'), n, 14)}, "
        f"{choose(('q3', 'security', 'ops'), n, 15)}))"
    )
    workflow = (
        "jsonb_build_object('workflow', "
        f"{choose(WORKFLOWS, n, 16)}, "
        f"'trigger', {choose(('manual', 'schedule', 'webhook'), n, 17)}, "
        "'steps', jsonb_build_array("
        "jsonb_build_object('action', 'fetch_invoice', 'timeout_s', 30), "
        "jsonb_build_object('action', 'match_po', 'timeout_s', 60), "
        "jsonb_build_object('action', 'route_for_approval', 'timeout_s', 300)))"
    )
    payment = (
        "jsonb_build_object('amount', (25 + pg_temp.pick(n, 18, 250000))::text || '.' || "
        "lpad(pg_temp.pick(n, 19, 100)::text, 2, '0'), "
        f"'currency', {choose(('EUR', 'EUR', 'USD', 'GBP', 'CHF'), n, 20)}, "
        "'payee', jsonb_build_object('name', "
        f"{choose(PAYEES, n, 21)}, "
        "'iban', 'DE89370400440532013000'), "
        "'reference', 'INV-' || (10000 + pg_temp.pick(n, 22, 90000)), "
        "'due_date', to_char(pg_temp.at(n, %(total)s) + interval '14 days', 'YYYY-MM-DD'))"
    )
    return f"""
        INSERT INTO lynx_drafts (draft_id, tenant_id, draft_type, payload, status, risk_level,
            created_by, created_at, source_context, recommended_approvers, request_id)
        SELECT pg_temp.draft_uuid(n), pg_temp.tenant_of(n, 1),
            (ARRAY['docs', 'workflow', 'vpm_payment'])[1 + pg_temp.family(n)],
            CASE pg_temp.family(n) WHEN 0 THEN {docs} WHEN 1 THEN {workflow} ELSE {payment} END,
            {status},
            {weighted("pg_temp.pick(n, 3, 100)", {"low": 50, "medium": 35, "high": 15})},
            'user-' || pg_temp.pick(n, 4, 40) || '@example.com',
            pg_temp.at(n, %(total)s),
            jsonb_build_object('channel', {choose(("slack", "email", "api"), n, 5)},
                'thread_id', 'C0' || (10000000 + pg_temp.pick(n, 8, 89999999))),
            CASE pg_temp.pick(n, 6, 4) WHEN 0 THEN ARRAY[]::text[]
                 WHEN 1 THEN ARRAY[pg_temp.tenant_of(n, 1) || '-reviewer']
                 WHEN 2 THEN ARRAY[pg_temp.tenant_of(n, 1) || '-reviewer2']
                 ELSE ARRAY[pg_temp.tenant_of(n, 1) || '-reviewer',
                            pg_temp.tenant_of(n, 1) || '-reviewer2'] END,
            pg_temp.request_of(n)
        FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) n
    """


def executions_insert() -> str:
    """Executions %(lo)s..%(hi)s: two per draft (d = e / 2), its check tool then its act tool.

    Distinct tools per draft keep the spec's exactly-once index (one succeeded execution
    per draft and tool) satisfied.
    """
    tool = (
        f"({text_array([t for family in TOOLS for t in family[:2]])})"
        "[1 + pg_temp.family(e / 2) * 2 + e %% 2]"
    )
    status = weighted(
        "pg_temp.pick(e, 31, 1000)",
        {"succeeded": 840, "failed": 90, "denied": 40, "started": 30},
    )
    return f"""
        INSERT INTO lynx_executions (draft_id, tool_id, tenant_id, actor_id, status,
            result_payload, created_at, completed_at, error_message, rollback_instructions,
            request_id, source_context)
        SELECT pg_temp.draft_uuid(e / 2), x.tool, pg_temp.tenant_of(e / 2, 1),
            {choose(("lynx-agent", "lynx-agent", "lynx-agent", "lynx-scheduler"), "e", 32)},
            x.status,
            CASE WHEN x.status <> 'succeeded' THEN '{{}}'::jsonb
                 WHEN e %% 2 = 0 THEN '{{"checks": ["schema", "policy"], "warnings": []}}'::jsonb
                 ELSE jsonb_build_object('reference', 'ref-' || pg_temp.hex(e, 104),
                      'duration_ms', pg_temp.pick(e, 33, 5000)) END,
            x.at,
            CASE WHEN x.status <> 'started'
                 THEN x.at + interval '1 second' * (1 + pg_temp.pick(e, 34, 30)) END,
            CASE x.status WHEN 'failed' THEN {choose(FAILURES, "e", 35)}
                          WHEN 'denied' THEN {choose(DENIALS, "e", 36)} END,
            CASE WHEN x.status = 'succeeded' AND e %% 2 = 1 THEN jsonb_build_object(
                'tool_id', ({text_array([f[2] for f in TOOLS])})[1 + pg_temp.family(e / 2)],
                'args', jsonb_build_object('reference', 'ref-' || pg_temp.hex(e, 104))) END,
            pg_temp.request_of(e / 2),
            jsonb_build_object('run_id', 'run-' || pg_temp.hex(e / 2, 105),
                'channel', {choose(("slack", "email", "api"), "e / 2", 5)})
        FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) e,
        LATERAL (SELECT {tool} AS tool, {status} AS status,
                 pg_temp.at(e / 2, %(total)s / 2)
                 + interval '1 minute' * (5 + pg_temp.pick(e, 37, 600)) AS at
                 OFFSET 0) x
    """


def intents_insert() -> str:
    """Settlement intents %(lo)s..%(hi)s of payments, mostly settled long ago."""
    status = weighted(
        "pg_temp.pick(i, 41, 1000)",
        {"completed": 850, "failed": 60, "processing": 40, "queued": 50},
    )
    return f"""
        INSERT INTO settlement_intents (payment_id, settlement_status, provider, tenant_id,
            created_at, updated_at, metadata)
        SELECT 'pay-' || pg_temp.hex(i, 106) || pg_temp.hex(i, 107), x.status,
            {weighted("pg_temp.pick(i, 42, 10)", {"bank_x": 6, "manual": 3, "none": 1})},
            pg_temp.tenant_of(i, 4), x.at,
            CASE WHEN x.status = 'queued' THEN x.at
                 ELSE x.at + interval '1 minute' * pg_temp.pick(i, 43, 600) END,
            jsonb_build_object('draft_id', pg_temp.draft_uuid(i + 1000000000),
                'amount', (25 + pg_temp.pick(i, 44, 250000))::text || '.00',
                'currency', {choose(("EUR", "EUR", "USD", "GBP", "CHF"), "i", 45)},
                'payee', {choose(PAYEES, "i", 46)},
                'reference', 'INV-' || (10000 + pg_temp.pick(i, 47, 90000)))
            || CASE WHEN x.status = 'failed' THEN jsonb_build_object('failure_reason',
                {choose(("Beneficiary bank rejected the transfer", "Insufficient funds"), "i", 48)})
                ELSE '{{}}'::jsonb END
        FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) i,
        LATERAL (SELECT {status} AS status, pg_temp.at(i, %(total)s) AS at OFFSET 0) x
    """


def audit_events_insert() -> str:
    """Audit events %(lo)s..%(hi)s: runs of eight (start, six steps, end), rare failures.

    About 2% of steps are refusals and one run in 250 fails: run_failure is the rare type.
    """
    kind = (
        f"CASE WHEN n %% {EVENTS_PER_RUN} = 0 THEN 'run_start' "
        f"WHEN n %% {EVENTS_PER_RUN} = {EVENTS_PER_RUN - 1} THEN "
        f"CASE WHEN pg_temp.pick(n / {EVENTS_PER_RUN}, 51, 250) = 0 THEN 'run_failure' "
        "ELSE 'run_success' END "
        "WHEN pg_temp.pick(n, 52, 50) = 0 THEN 'refusal' ELSE 'tool_call' END"
    )
    step_status = weighted(
        "pg_temp.pick(n, 53, 100)", {"succeeded": 90, "failed": 6, "denied": 2, "started": 2}
    )
    run = f"(n / {EVENTS_PER_RUN})"
    return f"""
        INSERT INTO lynx_audit_events (run_id, tenant_id, tool_id, event_type, status,
            input_data, output_data, error_message, created_at)
        SELECT 'run-' || pg_temp.hex({run}, 105), pg_temp.tenant_of({run}, 3),
            CASE WHEN x.kind IN ('tool_call', 'refusal') THEN {choose(ALL_TOOLS, "n", 54)} END,
            x.kind, x.status,
            CASE x.kind
                WHEN 'run_start' THEN jsonb_build_object('prompt', {choose(PROMPTS, run, 55)},
                    'channel', {choose(("slack", "email", "api"), run, 56)},
                    'request_id', pg_temp.request_of({run}))
                WHEN 'tool_call' THEN jsonb_build_object('draft_id', pg_temp.draft_uuid({run}),
                    'request_id', pg_temp.request_of({run}),
                    'args', jsonb_build_object('limit', 50, 'query', {choose(PROMPTS, "n", 57)}))
                WHEN 'refusal' THEN jsonb_build_object('prompt', {choose(PROMPTS, "n", 58)})
                ELSE jsonb_build_object('steps', 6) END,
            CASE WHEN x.kind = 'tool_call' AND x.status = 'succeeded' THEN jsonb_build_object(
                    'result', 'ok', 'items', pg_temp.pick(n, 59, 200),
                    'latency_ms', pg_temp.pick(n, 60, 3000))
                 WHEN x.kind = 'refusal' THEN jsonb_build_object('reason',
                    'Refused: the request breaks payment policy') END,
            CASE WHEN x.status = 'failed' THEN {choose(FAILURES, "n", 61)}
                 WHEN x.status = 'denied' THEN {choose(DENIALS, "n", 62)} END,
            pg_temp.at({run}, %(total)s / {EVENTS_PER_RUN})
                + interval '2 seconds' * (n %% {EVENTS_PER_RUN})
        FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) n,
        LATERAL (SELECT k.kind, CASE k.kind WHEN 'run_start' THEN 'started'
                    WHEN 'run_success' THEN 'succeeded' WHEN 'run_failure' THEN 'failed'
                    WHEN 'refusal' THEN 'denied' ELSE {step_status} END AS status
                 FROM (SELECT {kind} AS kind OFFSET 0) k OFFSET 0) x
    """


INSERTS = {
    "lynx_drafts": drafts_insert,
    "lynx_executions": executions_insert,
    "settlement_intents": intents_insert,
    "lynx_audit_events": audit_events_insert,
}

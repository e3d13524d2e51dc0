"""Every page the benchmark measures, in one table: portal URL, default-admin URL, SQL floor.

URLs are templates filled per tenant from `Facts` (ids and dates found in its rows), so
when a page moves, this table is the one place to change. The floor is the page's
essential SQL: the rows it shows and the least a count may cost (the planner's estimate,
which a list shows as "about N"), run as the RLS role with the tenant set
(bench/measure.py); `%(tenant)s` and the facts are its parameters.
"""

from dataclasses import dataclass
from enum import Enum

from storage.review.content import ContentFingerprint


class Kind(Enum):
    UNFILTERED = "unfiltered list"  # target: >= 3x faster than the default admin
    FILTERED = "filtered list"  # target: >= 10x faster than the default admin
    PAGE = "page"
    DECISION = "decision"
    EXPORT = "export"


@dataclass(frozen=True)
class Page:
    name: str
    role: str  # who opens it: reviewer, auditor or operator (bench/people.py)
    kind: Kind
    portal: str
    default: str | None = None  # the same page on the default admin, if it has one
    floor: tuple[str, ...] = ()


PAGE_SIZE = 50


def rows(table: str, where: str, order: str = "created_at DESC", offset: int | str = 0) -> str:
    return (
        f"SELECT * FROM {table} WHERE tenant_id = %(tenant)s {where} "
        f"ORDER BY {order} LIMIT {PAGE_SIZE} OFFSET {offset}"
    )


def estimated_count(table: str, where: str) -> str:
    """The cheapest honest count for "about N": the planner's estimate (one EXPLAIN)."""
    return f"EXPLAIN SELECT 1 FROM {table} WHERE tenant_id = %(tenant)s {where}"


def listing(table: str, where: str = "", order: str = "created_at DESC", offset: int | str = 0):
    return (rows(table, where, order, offset), estimated_count(table, where))


DRAFTS = "/admin/storage/draft/"
EXECUTIONS = "/admin/storage/execution/"
EVENTS = "/admin/storage/auditevent/"
B_DRAFTS = "/bench-admin/storage/draft/"
B_EXECUTIONS = "/bench-admin/storage/execution/"
B_EVENTS = "/bench-admin/storage/auditevent/"
SUBMITTED = "AND status = 'submitted'"
AWAITING = (
    "AND status = 'submitted' AND recommended_approvers && ARRAY[%(reviewer)s] "
    "AND lower(created_by) <> lower(%(reviewer)s)"
)
# No index serves it: its ~4% of a tenant's drafts lie among all of them (migration 0034).
TYPE_AND_RISK = "draft_type__exact=docs&risk_level__exact=high"
# A run start is never denied: no row, among a tenant's hundreds of thousands of run starts.
NEVER_DENIED = "event_type__exact=run_start&status__exact=denied"
# Drafts whose newest approval saw other content: what a user writes, every approved draft's
# content fingerprinted (storage.review.content) against its newest approval's.
CHANGED = (
    "AND draft_id IN (SELECT approval.draft_id FROM (SELECT DISTINCT ON (draft_id) draft_id, "
    "fingerprint FROM lynx_draft_reviews WHERE tenant_id = %(tenant)s AND decision = 'approve' "
    "ORDER BY draft_id, created_at DESC) approval JOIN lynx_drafts draft "
    "ON draft.tenant_id = %(tenant)s AND draft.draft_id = approval.draft_id "
    f"WHERE approval.fingerprint <> {ContentFingerprint.of_row('draft')})"
)
LAST_WEEK = "AND created_at >= %(week_ago)s"
RANGE = "AND created_at >= %(range_from)s AND created_at < %(range_to)s"

PAGES = (
    Page(
        "review queue",
        "reviewer",
        Kind.FILTERED,
        DRAFTS,
        B_DRAFTS + "?status__exact=submitted",
        listing("lynx_drafts", SUBMITTED, "created_at"),
    ),
    Page(
        "awaiting me",
        "reviewer",
        Kind.FILTERED,
        DRAFTS + "?awaiting=me",
        None,
        listing("lynx_drafts", AWAITING, "created_at"),
    ),
    Page(
        "search by request id",
        "reviewer",
        Kind.FILTERED,
        DRAFTS + "?q={request_id}",
        B_DRAFTS + "?q={request_id}",
        listing("lynx_drafts", "AND request_id = %(request_id)s"),
    ),
    Page(
        "drafts, all statuses",
        "auditor",
        Kind.UNFILTERED,
        DRAFTS + "?status=all",
        B_DRAFTS,
        listing("lynx_drafts"),
    ),
    Page(
        "drafts, a type and a risk",
        "auditor",
        Kind.FILTERED,
        DRAFTS + "?status=all&" + TYPE_AND_RISK,
        B_DRAFTS + "?" + TYPE_AND_RISK,
        listing("lynx_drafts", "AND draft_type = 'docs' AND risk_level = 'high'"),
    ),
    Page(
        "drafts changed after approval",
        "auditor",
        Kind.FILTERED,
        DRAFTS + "?status=all&changed=after_approval",
        None,
        listing("lynx_drafts", CHANGED),
    ),
    Page(
        "draft page",
        "reviewer",
        Kind.PAGE,
        DRAFTS + "{draft_id}/change/",
        B_DRAFTS + "{draft_id}/change/",
        (
            "SELECT * FROM lynx_drafts WHERE tenant_id = %(tenant)s AND draft_id = %(draft_id)s",
            "SELECT * FROM lynx_draft_reviews WHERE tenant_id = %(tenant)s "
            "AND draft_id = %(draft_id)s ORDER BY created_at DESC",
        ),
    ),
    Page(
        "decision trail",
        "auditor",
        Kind.UNFILTERED,
        "/admin/storage/draftreview/",
        None,
        listing("lynx_draft_reviews"),
    ),
    Page(
        "executions",
        "auditor",
        Kind.UNFILTERED,
        EXECUTIONS,
        B_EXECUTIONS,
        listing("lynx_executions"),
    ),
    Page(
        "executions, failed",
        "auditor",
        Kind.FILTERED,
        EXECUTIONS + "?status__exact=failed",
        B_EXECUTIONS + "?status__exact=failed",
        listing("lynx_executions", "AND status = 'failed'"),
    ),
    Page(
        "executions, date range",
        "auditor",
        Kind.FILTERED,
        EXECUTIONS + "?created_at_from={range_from_day}&created_at_to={range_last_day}",
        B_EXECUTIONS + "?created_at__gte={range_from_utc}&created_at__lt={range_to_utc}",
        listing("lynx_executions", RANGE),
    ),
    Page(
        "execution page",
        "auditor",
        Kind.PAGE,
        EXECUTIONS + "{execution_id}/change/",
        B_EXECUTIONS + "{execution_id}/change/",
        (
            "SELECT * FROM lynx_executions WHERE tenant_id = %(tenant)s "
            "AND execution_id = %(execution_id)s",
        ),
    ),
    Page(
        "audit events", "auditor", Kind.UNFILTERED, EVENTS, B_EVENTS, listing("lynx_audit_events")
    ),
    Page(
        "audit events, refusals",
        "auditor",
        Kind.FILTERED,
        EVENTS + "?event_type__exact=refusal",
        B_EVENTS + "?event_type__exact=refusal",
        listing("lynx_audit_events", "AND event_type = 'refusal'"),
    ),
    Page(
        "audit events, a rare type",
        "auditor",
        Kind.FILTERED,
        EVENTS + "?event_type__exact=run_failure",
        B_EVENTS + "?event_type__exact=run_failure",
        listing("lynx_audit_events", "AND event_type = 'run_failure'"),
    ),
    Page(
        "audit events, a type and a status it never has",
        "auditor",
        Kind.FILTERED,
        EVENTS + "?" + NEVER_DENIED,
        B_EVENTS + "?" + NEVER_DENIED,
        listing("lynx_audit_events", "AND event_type = 'run_start' AND status = 'denied'"),
    ),
    Page(
        "audit events, last 7 days",
        "auditor",
        Kind.FILTERED,
        EVENTS + "?created_at_from={week_ago_day}",
        B_EVENTS + "?created_at__gte={week_ago_utc}",
        listing("lynx_audit_events", LAST_WEEK),
    ),
    Page(
        "audit events, one tool",
        "auditor",
        Kind.FILTERED,
        EVENTS + "?tool_id=payments.submit",
        B_EVENTS + "?q=payments.submit",
        listing("lynx_audit_events", "AND tool_id = 'payments.submit'"),
    ),
    Page(
        "audit events, page 500",  # or the last page, for a tenant with fewer
        "auditor",
        Kind.UNFILTERED,
        EVENTS + "?p={deep_page}",
        B_EVENTS + "?p={deep_page}",
        listing("lynx_audit_events", offset="%(deep_offset)s"),
    ),
    Page(
        "run timeline",
        "auditor",
        Kind.PAGE,
        EVENTS + "run/?run_id={run_id}",
        B_EVENTS + "?q={run_id}",
        (
            "SELECT * FROM lynx_audit_events WHERE tenant_id = %(tenant)s "
            "AND run_id = %(run_id)s ORDER BY created_at",
        ),
    ),
    Page(
        "settlement intents",
        "operator",
        Kind.UNFILTERED,
        "/admin/storage/settlementintent/",
        "/bench-admin/storage/settlementintent/",
        listing("settlement_intents"),
    ),
    Page(
        "dashboard",
        "auditor",
        Kind.PAGE,
        "/admin/",
        "/bench-admin/",
        (
            # What an auditor's dashboard must read on a warm visit: an auditor has no queue
            # of their own (no "awaiting me"), and the chart's earlier days are cached, so
            # only the last 24 hours of executions (today's bar among them) are read.
            "SELECT risk_level, count(*), min(created_at) FROM lynx_drafts "
            f"WHERE tenant_id = %(tenant)s {SUBMITTED} GROUP BY 1",
            "SELECT created_at::date, status, count(*) FROM lynx_executions "
            "WHERE tenant_id = %(tenant)s AND created_at >= now() - interval '1 day' "
            "GROUP BY 1, 2",
            "SELECT count(*) FROM settlement_intents WHERE tenant_id = %(tenant)s "
            "AND settlement_status = 'processing' AND updated_at < now() - interval '1 hour'",
            rows(
                "lynx_audit_events",
                "AND event_type = 'refusal' AND created_at >= now() - interval '7 days'",
            ).replace("LIMIT 50", "LIMIT 5"),
        ),
    ),
)

# Measured apart (bench/measure.py), with their own floors.
APPROVE_50 = Page(
    "approve 50",
    "reviewer",
    Kind.DECISION,
    DRAFTS + "?status=all",
    None,
    (
        "UPDATE lynx_drafts SET status = 'approved' WHERE tenant_id = %(tenant)s "
        "AND draft_id = ANY(%(draft_ids)s::uuid[])",
    ),
)
CSV_EXPORT = Page(
    "CSV export",
    "auditor",
    Kind.EXPORT,
    EVENTS + "export/?created_at_from={export_from_day}",
    None,
    (
        "COPY (SELECT * FROM lynx_audit_events WHERE tenant_id = %(tenant)s "
        "AND created_at >= %(export_from)s ORDER BY created_at DESC) TO STDOUT WITH CSV HEADER",
    ),
)
ALL_PAGES = (*PAGES, APPROVE_50, CSV_EXPORT)

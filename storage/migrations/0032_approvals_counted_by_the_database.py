"""A decision enters the trail only as the reviewer workflow would record it.

Migration 0029 holds a decision to the acting reviewer's name and a draft's status to that
reviewer's newest decision, but took the decision's own content on trust: a reviewer's
injected SQL could record an approval that completes the draft (`to_status = 'approved'`)
when the approval rules ask for more approvers, or file it under an earlier round whose
approvals are not those of the draft's current content, then move the draft to match. Here a
restrictive policy, for the RLS role only, asks of every new decision what
storage.review.services does before writing one:

- the draft is submitted, and the decision copies it as it is now (status, type, risk,
  content, its fingerprint) at the statement's time;
- the reviewer did not create the draft (maker-checker);
- the round is the one storage.review.rounds gives;
- an approval leaves, for each group the approval rules (storage.review.rules) name and no
  approver of this round is in, one of the approvals still needed; it completes the draft
  only if this round's approvers, with it, are as many as the rules ask, with a member of
  each group they name.

The rules' count is PostgreSQL's here (`portal_required_approvals`), the explanation Python's;
tests/test_counted_approvals.py holds the two to the same answers. The default for high-risk
drafts, LYNX_HIGH_RISK_APPROVALS, is in `portal_high_risk_approvals()`, which every `migrate`
keeps equal to the setting (storage.review.high_risk). Owner logins stay trusted; Lynx AI's
roles see no change.
"""

from django.db import migrations

from storage.migration_operations import (
    create_functions,
    for_rls_role,
    only_the_rls_role_executes,
)
from storage.review import high_risk
from storage.review.content import ContentFingerprint

# Python's str.strip() whitespace (str.isspace()), for the payment terms' text: `\s` is
# [[:space:]], whose reach depends on the locale, and the rest are the Unicode spaces.
SPACE = r"[\s\x1c-\x1f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*"

FUNCTIONS = {
    # storage.review.content.payment_terms: NULLs where the rules cannot read the payment.
    "portal_payment_terms(payload jsonb, OUT amount numeric, OUT currency text)": f"""
        LANGUAGE sql IMMUTABLE SET search_path = public, pg_temp AS $$
            SELECT
                CASE jsonb_typeof(payload -> 'amount')
                    WHEN 'number' THEN CASE WHEN (payload ->> 'amount')::numeric >= 0
                        THEN (payload ->> 'amount')::numeric END
                    WHEN 'string' THEN substring(
                        payload ->> 'amount' FROM '^{SPACE}([0-9]+(?:\\.[0-9]+)?){SPACE}$'
                    )::numeric
                END,
                CASE WHEN jsonb_typeof(payload -> 'currency') = 'string' THEN upper(substring(
                    payload ->> 'currency' FROM '^{SPACE}([A-Za-z]{{3}}){SPACE}$'
                )) END
        $$""",
    # storage.review.rules.requirement_for: the approvals a draft needs, and the groups.
    "portal_required_approvals(for_tenant text, for_type text, for_risk text, for_payload jsonb,"
    " OUT approvals integer, OUT group_ids integer[])": """
        LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
            WITH matching AS (
                SELECT rule.min_amount, rule.currency, rule.approvals, rule.required_group_id
                FROM portal_approval_rules rule
                WHERE rule.tenant_id = for_tenant
                    AND coalesce(rule.draft_type, '') IN ('', for_type)
                    AND coalesce(rule.risk_level, '') IN ('', for_risk)
            ), terms AS (
                SELECT terms.amount, terms.currency,
                    terms.amount IS NULL OR terms.currency IS NULL OR terms.currency NOT IN (
                        SELECT rule.currency FROM matching rule WHERE rule.min_amount IS NOT NULL
                    ) AS unreadable
                FROM portal_payment_terms(for_payload) terms
            ), applied AS (
                SELECT rule.approvals, rule.required_group_id FROM matching rule, terms
                WHERE rule.min_amount IS NULL OR terms.unreadable
                    OR (rule.currency = terms.currency AND terms.amount >= rule.min_amount)
            )
            SELECT
                greatest(
                    CASE WHEN for_risk = 'high' THEN portal_high_risk_approvals() ELSE 1 END,
                    (SELECT max(rule.approvals) FROM applied rule)
                ),
                ARRAY(
                    SELECT DISTINCT rule.required_group_id FROM applied rule
                    WHERE rule.required_group_id IS NOT NULL
                )
        $$""",
    # storage.review.services: _refusal(), _outcome() and _trail_rows(), for one decision.
    "portal_decision_as_recorded(review lynx_draft_reviews)": f"""
        RETURNS boolean LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
            SELECT EXISTS (
                SELECT FROM lynx_drafts draft
                JOIN storage_user reviewer ON reviewer.id = review.reviewer_id
                CROSS JOIN LATERAL (
                    SELECT {ContentFingerprint.of_row("draft")} AS fingerprint
                ) content
                LEFT JOIN LATERAL (
                    SELECT last.round, last.to_status, last.fingerprint
                    FROM lynx_draft_reviews last
                    WHERE last.tenant_id = draft.tenant_id AND last.draft_id = draft.draft_id
                    ORDER BY last.created_at DESC LIMIT 1
                ) last ON true
                WHERE draft.tenant_id = review.tenant_id AND draft.draft_id = review.draft_id
                    AND draft.status = 'submitted'
                    AND (review.from_status, review.draft_type, review.risk_level,
                         review.payload, review.source_context, review.fingerprint,
                         review.created_at)
                        = (draft.status, draft.draft_type, draft.risk_level,
                           draft.payload, draft.source_context, content.fingerprint,
                           statement_timestamp())
                    AND lower(draft.created_by) IS DISTINCT FROM lower(reviewer.username)
                    AND lower(draft.created_by) IS DISTINCT FROM lower(nullif(reviewer.email, ''))
                    AND review.round = CASE
                        WHEN last.round IS NULL THEN 1
                        WHEN last.to_status <> 'submitted'
                            OR last.fingerprint <> content.fingerprint THEN last.round + 1
                        ELSE last.round
                    END
                    AND CASE review.decision
                        WHEN 'reject' THEN review.to_status = 'rejected'
                        ELSE review.to_status IN ('submitted', 'approved') AND EXISTS (
                            SELECT FROM portal_required_approvals(
                                draft.tenant_id, draft.draft_type, draft.risk_level, draft.payload
                            ) needed, LATERAL (
                                SELECT array_agg(approval.reviewer_id) AS ids FROM (
                                    SELECT trail.reviewer_id FROM lynx_draft_reviews trail
                                    WHERE trail.tenant_id = draft.tenant_id
                                        AND trail.draft_id = draft.draft_id
                                        AND trail.decision = 'approve'
                                        AND trail.round = review.round
                                    UNION SELECT review.reviewer_id
                                ) approval
                            ) approvers, LATERAL (
                                SELECT cardinality(ARRAY(
                                    SELECT unnest(needed.group_ids)
                                    EXCEPT SELECT membership.group_id
                                    FROM storage_user_groups membership
                                    WHERE membership.user_id = ANY (approvers.ids)
                                )) AS groups
                            ) missing
                            -- Progress.approval_refusal(): each group still missing needs one
                            -- of the approvals left; complete means none is missing.
                            WHERE missing.groups
                                    <= greatest(needed.approvals - cardinality(approvers.ids), 0)
                                AND (review.to_status = 'submitted' OR (
                                    cardinality(approvers.ids) >= needed.approvals
                                    AND missing.groups = 0
                                ))
                        )
                    END
            )
        $$""",
}

POLICY = '"Portal lynx_draft_reviews: as recorded (insert)"'


class Migration(migrations.Migration):
    dependencies = [("storage", "0031_sign_in_records_of_the_attempt")]

    operations = [
        high_risk.create_function(),
        *only_the_rls_role_executes(high_risk.SIGNATURE),
        *create_functions(FUNCTIONS),
        for_rls_role(
            f"CREATE POLICY {POLICY} ON lynx_draft_reviews AS RESTRICTIVE FOR INSERT TO {{role}} "
            "WITH CHECK ((SELECT portal_trusted_login()) "
            "OR portal_decision_as_recorded(lynx_draft_reviews))",
            f"DROP POLICY {POLICY} ON lynx_draft_reviews",
        ),
    ]

"""`portal_draft_sections` and `portal_tenant_rules`: reads of the draft page whose plans are kept.

PostgreSQL plans every statement a request sends, and the draft page's subqueries (its decision
trail with each reviewer's name and groups, its newest executions, the tenant's approval rules)
cost more to plan than to run. The statements of a PL/pgSQL function are planned once per
database session and their plans kept: on the server, so unlike prepared statements they work
through a transaction pooler (Supavisor's). `SELECT *` is expanded when a session first plans
them, and a table's change of columns replans them.

Each returns JSON text (`storage.rows.parse_json_rows` reads it): a tenant's rules in the
model's order, each with its group's name (the review queue reads them); a draft's trail,
newest first, each reviewer with their name and groups, its 50 newest executions and its
tenant's rules (the draft page reads them all with the draft, in one call). They run with
the caller's rights (SECURITY INVOKER: the RLS role, with the request's tenant), so they read
nothing the caller could not: another tenant's id finds nothing. As for `portal_list_count`,
only the RLS role may execute them.
"""

from django.db import migrations

from storage.migration_operations import only_the_rls_role_executes

SECTIONS = "portal_draft_sections(text, uuid)"
RULES = "portal_tenant_rules(text)"

CREATE_SECTIONS = """
CREATE FUNCTION portal_draft_sections(page_tenant text, page_draft uuid) RETURNS text
LANGUAGE plpgsql STABLE SECURITY INVOKER
AS $$
BEGIN
    RETURN json_build_object(
        'trail', (
            SELECT coalesce(json_agg(row_to_json(trail) ORDER BY trail.created_at DESC), '[]')
            FROM (
                SELECT trail.*, reviewer.username AS reviewer_username,
                    (SELECT array_agg(membership.group_id) FROM storage_user_groups membership
                     WHERE membership.user_id = trail.reviewer_id) AS reviewer_group_ids
                FROM lynx_draft_reviews trail
                LEFT JOIN storage_user reviewer ON reviewer.id = trail.reviewer_id
                WHERE trail.tenant_id = page_tenant AND trail.draft_id = page_draft
            ) trail
        ),
        'executions', (
            SELECT coalesce(json_agg(row_to_json(run) ORDER BY run.created_at DESC), '[]')
            FROM (
                SELECT * FROM lynx_executions run
                WHERE run.tenant_id = page_tenant AND run.draft_id = page_draft
                ORDER BY run.created_at DESC LIMIT 50
            ) run
        ),
        'rules', portal_tenant_rules(page_tenant)::json
    )::text;
END
$$
"""

CREATE_RULES = """
CREATE FUNCTION portal_tenant_rules(rules_tenant text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY INVOKER
AS $$
BEGIN
    RETURN (
        SELECT coalesce(
            json_agg(row_to_json(rule)
                     ORDER BY rule.draft_type, rule.risk_level, rule.currency, rule.min_amount),
            '[]')::text
        FROM (
            SELECT rule.*, grp.name AS group_name
            FROM portal_approval_rules rule
            LEFT JOIN auth_group grp ON grp.id = rule.required_group_id
            WHERE rule.tenant_id = rules_tenant
        ) rule
    );
END
$$
"""


class Migration(migrations.Migration):
    dependencies = [("storage", "0022_list_count_function")]

    operations = [
        migrations.RunSQL(CREATE_RULES, f"DROP FUNCTION {RULES}"),
        *only_the_rls_role_executes(RULES),
        migrations.RunSQL(CREATE_SECTIONS, f"DROP FUNCTION {SECTIONS}"),
        *only_the_rls_role_executes(SECTIONS),
    ]

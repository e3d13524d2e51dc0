"""Migration 0012 on a database with a decision trail: snapshots, rounds, and no key to drafts."""

import pytest
from django.db import connection

from tests.catalog import connect, database_url, scratch_database
from tests.subprocesses import manage

BEFORE = "0011_operations_groups"
PAYMENT = "22222222-2222-4222-8222-222222222222"
DOCS = "33333333-3333-4333-8333-333333333333"
FINGERPRINT = (
    "encode(sha256(convert_to(jsonb_build_array(payload, source_context)::text, 'UTF8')), 'hex')"
)

# Decided before the upgrade: a payment rejected, submitted again and approved; a document.
HISTORY = f"""
INSERT INTO portal_tenants (tenant_id, name) VALUES ('acme', 'Acme');
INSERT INTO storage_user (password, is_superuser, username, first_name, last_name, email,
                          is_staff, is_active, date_joined, tenant_id)
SELECT '!', false, name, '', '', '', true, true, now(), 'acme'
FROM unnest(ARRAY['ann', 'bob', 'cat']) name;
INSERT INTO lynx_drafts (draft_id, tenant_id, draft_type, payload, status, risk_level,
                         created_by, source_context)
VALUES ('{PAYMENT}', 'acme', 'vpm_payment', '{{"amount": "150000.50", "currency": "eur"}}',
        'approved', 'high', 'lynx', '{{"channel": "api"}}'),
       ('{DOCS}', 'acme', 'docs', '{{"title": "Notes", "pages": 1.50}}', 'approved', 'low',
        'lynx', '{{}}');
INSERT INTO lynx_draft_reviews (tenant_id, draft_id, reviewer_id, decision, reason,
                                from_status, to_status, created_at)
SELECT 'acme', d, (SELECT id FROM storage_user WHERE username = who), decision, reason,
       from_status, to_status, now() - make_interval(mins => minutes_ago)
FROM (VALUES
    ('{PAYMENT}'::uuid, 'ann', 'approve', '', 'submitted', 'submitted', 40),
    ('{PAYMENT}'::uuid, 'bob', 'reject', 'wrong payee', 'submitted', 'rejected', 30),
    ('{PAYMENT}'::uuid, 'cat', 'approve', '', 'submitted', 'submitted', 20),
    ('{PAYMENT}'::uuid, 'bob', 'approve', '', 'submitted', 'approved', 10),
    ('{DOCS}'::uuid, 'ann', 'approve', '', 'submitted', 'approved', 5)
) AS history (d, who, decision, reason, from_status, to_status, minutes_ago);
"""


@pytest.mark.django_db
def test_existing_decisions_get_their_snapshot_and_round_and_the_key_goes():
    with scratch_database("trail") as dbname:
        url = database_url(dbname)
        result = manage("migrate", "--no-input", "storage", BEFORE, DATABASE_URL=url)
        assert result.returncode == 0, result.stderr
        with connect(dbname) as conn:
            conn.execute(HISTORY)
        result = manage("migrate", "--no-input", DATABASE_URL=url)
        assert result.returncode == 0, result.stderr
        with connect(dbname) as conn:
            rows = conn.execute(
                f"""
                SELECT u.username, r.round, r.draft_type, r.risk_level, r.amount::text,
                       r.currency, r.fingerprint = (SELECT {FINGERPRINT} FROM lynx_drafts d
                                                    WHERE d.draft_id = r.draft_id),
                       r.payload::text
                FROM lynx_draft_reviews r JOIN storage_user u ON u.id = r.reviewer_id
                ORDER BY r.created_at
                """
            ).fetchall()
            conn.execute(f"DELETE FROM lynx_drafts WHERE draft_id = '{PAYMENT}'")
            assert conn.execute("SELECT count(*) FROM lynx_draft_reviews").fetchone() == (5,)
    payment = '{"amount": "150000.50", "currency": "eur"}'
    assert rows == [
        ("ann", 1, "vpm_payment", "high", "150000.50", "EUR", True, payment),
        ("bob", 1, "vpm_payment", "high", "150000.50", "EUR", True, payment),
        ("cat", 2, "vpm_payment", "high", "150000.50", "EUR", True, payment),
        ("bob", 2, "vpm_payment", "high", "150000.50", "EUR", True, payment),
        ("ann", 1, "docs", "low", None, None, True, '{"pages": 1.50, "title": "Notes"}'),
    ]


def test_the_migrated_trail_matches_a_fresh_one(db):
    """The test database is migrated from scratch: the same columns as the upgrade adds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
            "WHERE attrelid = 'lynx_draft_reviews'::regclass AND attnum > 0 "
            "AND attname IN ('round', 'amount', 'payload', 'fingerprint') ORDER BY attname"
        )
        assert cursor.fetchall() == [
            ("amount", "numeric", False),
            ("fingerprint", "text", True),
            ("payload", "jsonb", True),
            ("round", "integer", True),
        ]

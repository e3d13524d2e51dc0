"""The decision trail keeps its own snapshot of what was decided, and review rounds.

- No foreign key to lynx_drafts any more: Lynx AI may delete a draft (the spec
  lets it), and its decisions stay, with `draft_id` as a plain indexed column.
- Each decision keeps the draft as decided: type, risk, amount and currency as
  the approval rules read them, the payload and source context, and their
  fingerprint (SHA-256 of the jsonb text of `[payload, source_context]`).
  Existing decisions get the draft's current content, the best there is.
- `round`: a round ends with a decision that moves the draft out of
  `submitted`; a later decision on the same draft belongs to the next round.
  One approval per reviewer and round (instead of per draft).
"""

from django.db import migrations, models

import storage.fields

TABLE = "lynx_draft_reviews"
DROP_FOREIGN_KEYS = f"""
DO $$ DECLARE name text; BEGIN
    FOR name IN SELECT conname FROM pg_constraint
                WHERE conrelid = '{TABLE}'::regclass AND contype = 'f'
                  AND confrelid = 'lynx_drafts'::regclass
    LOOP
        EXECUTE format('ALTER TABLE {TABLE} DROP CONSTRAINT %I', name);
    END LOOP;
END $$;
"""
RESTORE_FOREIGN_KEY = f"""
ALTER TABLE {TABLE} ADD CONSTRAINT lynx_draft_reviews_draft_id_fk_lynx_drafts
    FOREIGN KEY (draft_id) REFERENCES lynx_drafts (draft_id) DEFERRABLE INITIALLY DEFERRED;
"""
# Checked at once: a deferred key check left pending by the UPDATEs would stop the ALTERs.
SNAPSHOT_COLUMNS = f"""
SET CONSTRAINTS ALL IMMEDIATE;
ALTER TABLE {TABLE}
    ADD COLUMN round integer DEFAULT 1 NOT NULL CHECK (round >= 0),
    ADD COLUMN draft_type text,
    ADD COLUMN risk_level text,
    ADD COLUMN amount numeric,
    ADD COLUMN currency text,
    ADD COLUMN payload jsonb,
    ADD COLUMN source_context jsonb,
    ADD COLUMN fingerprint text;
UPDATE {TABLE} r SET
    draft_type = d.draft_type,
    risk_level = d.risk_level,
    payload = d.payload,
    source_context = d.source_context,
    fingerprint = encode(sha256(convert_to(
        jsonb_build_array(d.payload, d.source_context)::text, 'UTF8')), 'hex'),
    amount = CASE
        WHEN d.draft_type <> 'vpm_payment' THEN NULL
        WHEN jsonb_typeof(d.payload -> 'amount') = 'number'
             AND (d.payload ->> 'amount')::numeric >= 0 THEN (d.payload ->> 'amount')::numeric
        WHEN jsonb_typeof(d.payload -> 'amount') = 'string'
             AND d.payload ->> 'amount' ~ '^\\s*[0-9]+(\\.[0-9]+)?\\s*$'
            THEN trim(d.payload ->> 'amount')::numeric
    END,
    currency = CASE
        WHEN d.draft_type = 'vpm_payment' AND d.payload ->> 'currency' ~ '^\\s*[A-Za-z]{{3}}\\s*$'
            THEN upper(trim(d.payload ->> 'currency'))
    END
FROM lynx_drafts d WHERE d.draft_id = r.draft_id;
UPDATE {TABLE} r SET round = numbered.round
FROM (
    SELECT review_id, 1 + count(*) FILTER (WHERE to_status <> 'submitted') OVER (
        PARTITION BY draft_id ORDER BY created_at, review_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS round
    FROM {TABLE}
) numbered
WHERE numbered.review_id = r.review_id;
ALTER TABLE {TABLE}
    ALTER COLUMN draft_type SET NOT NULL,
    ALTER COLUMN risk_level SET NOT NULL,
    ALTER COLUMN payload SET NOT NULL,
    ALTER COLUMN source_context SET NOT NULL,
    ALTER COLUMN fingerprint SET NOT NULL;
"""
DROP_SNAPSHOT_COLUMNS = f"""
ALTER TABLE {TABLE} DROP COLUMN round, DROP COLUMN draft_type, DROP COLUMN risk_level,
    DROP COLUMN amount, DROP COLUMN currency, DROP COLUMN payload,
    DROP COLUMN source_context, DROP COLUMN fingerprint;
"""
OLD_UNIQUE = "lynx_draft_reviews_one_approval_per_reviewer"

DRAFT_TYPES = [("docs", "Docs"), ("workflow", "Workflow"), ("vpm_payment", "VPM payment")]
RISK_LEVELS = [("low", "Low"), ("medium", "Medium"), ("high", "High")]


class Migration(migrations.Migration):
    dependencies = [("storage", "0011_operations_groups")]

    operations = [
        migrations.RemoveConstraint(model_name="draftreview", name=OLD_UNIQUE),
        migrations.SeparateDatabaseAndState(
            # The column, its type and its index stay as they are; only the key goes.
            database_operations=[migrations.RunSQL(DROP_FOREIGN_KEYS, RESTORE_FOREIGN_KEY)],
            state_operations=[
                migrations.RemoveIndex(
                    model_name="draftreview", name="idx_lynx_draft_reviews_draft_id"
                ),
                migrations.RemoveField(model_name="draftreview", name="draft"),
                migrations.AddField(
                    model_name="draftreview",
                    name="draft_id",
                    field=models.UUIDField(),
                    preserve_default=False,
                ),
                migrations.AddIndex(
                    model_name="draftreview",
                    index=models.Index(
                        fields=["tenant_id", "draft_id", "-created_at"],
                        name="idx_lynx_draft_reviews_draft_id",
                    ),
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(SNAPSHOT_COLUMNS, DROP_SNAPSHOT_COLUMNS)],
            state_operations=[
                migrations.AddField(
                    model_name="draftreview",
                    name="round",
                    field=models.PositiveIntegerField(db_default=1),
                ),
                migrations.AddField(
                    model_name="draftreview",
                    name="draft_type",
                    field=models.TextField(choices=DRAFT_TYPES),
                    preserve_default=False,
                ),
                migrations.AddField(
                    model_name="draftreview",
                    name="risk_level",
                    field=models.TextField(choices=RISK_LEVELS),
                    preserve_default=False,
                ),
                migrations.AddField(
                    model_name="draftreview",
                    name="amount",
                    field=storage.fields.ExactDecimal(blank=True, null=True),
                ),
                migrations.AddField(
                    model_name="draftreview",
                    name="currency",
                    field=models.TextField(blank=True, null=True),
                ),
                migrations.AddField(
                    model_name="draftreview",
                    name="payload",
                    field=models.JSONField(),
                    preserve_default=False,
                ),
                migrations.AddField(
                    model_name="draftreview",
                    name="source_context",
                    field=models.JSONField(),
                    preserve_default=False,
                ),
                migrations.AddField(
                    model_name="draftreview",
                    name="fingerprint",
                    field=models.TextField(
                        help_text="SHA-256 of the payload and source context decided."
                    ),
                    preserve_default=False,
                ),
            ],
        ),
        migrations.AddConstraint(
            model_name="draftreview",
            constraint=models.UniqueConstraint(
                condition=models.Q(("decision", "approve")),
                fields=("draft_id", "reviewer", "round"),
                name="lynx_draft_reviews_one_approval_per_round",
                violation_error_message="This reviewer has already approved this draft "
                "in this round.",
            ),
        ),
    ]

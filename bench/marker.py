"""Which databases the benchmark may fill, and the indexes it takes down while it does.

The mark is the database's comment (`COMMENT ON DATABASE`), a JSON object with
`"purpose": "lynx-bench"`: no table is added, so the schema stays exactly what migrate
built. The comment also records the scale seeded (so `make bench` does not seed twice)
and, while a seed runs, the definitions of the keys and indexes it dropped, so that a
seed killed half-way puts them back on its next start.
"""

import json

from django.db import connection
from django.db.backends.utils import CursorWrapper

PURPOSE = "lynx-bench"
SPEC_TABLES = ("lynx_drafts", "lynx_executions", "settlement_intents", "lynx_audit_events")


class NotABenchmarkDatabase(Exception):
    pass


def read_mark(*, cursor: CursorWrapper) -> dict | None:
    """The benchmark's state in the database comment, or None when it is not marked."""
    cursor.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
        "WHERE datname = current_database()"
    )
    (comment,) = cursor.fetchone()
    try:
        state = json.loads(comment or "")
    except ValueError:
        return None
    return state if isinstance(state, dict) and state.get("purpose") == PURPOSE else None


def write_mark(*, cursor: CursorWrapper, state: dict) -> None:
    """Store `state` (marked as the benchmark's) as the database's comment."""
    text = json.dumps({**state, "purpose": PURPOSE})
    database = connection.ops.quote_name(connection.settings_dict["NAME"])
    cursor.execute(f"COMMENT ON DATABASE {database} IS {quote_literal(cursor=cursor, text=text)}")


def quote_literal(*, cursor: CursorWrapper, text: str) -> str:
    """COMMENT takes no parameters: quote as PostgreSQL does."""
    cursor.execute("SELECT quote_literal(%s)", [text])
    return cursor.fetchone()[0]


def require_mark(*, cursor: CursorWrapper) -> dict:
    state = read_mark(cursor=cursor)
    if state is None:
        raise NotABenchmarkDatabase(
            f"{connection.settings_dict['NAME']} is not marked as a benchmark database: the "
            "seed would add millions of rows to it. If it is a scratch database, mark it "
            "with `manage.py bench_seed --mark` first."
        )
    return state


def require_seeded(*, cursor: CursorWrapper) -> dict:
    """The mark of a benchmark database that `bench_seed` has filled, for the measuring commands."""
    state = require_mark(cursor=cursor)
    if "scale" not in state:
        raise NotABenchmarkDatabase("The database is not seeded: run manage.py bench_seed first.")
    return state


def bulk_load_definitions(*, cursor: CursorWrapper) -> list[str]:
    """Statements recreating the spec tables' keys, indexes and foreign keys, in that order.

    Dropping them before a bulk load and building each once afterwards (a sort, not ten
    million random inserts into a b-tree) is what makes the seed fit in minutes.
    """
    cursor.execute(
        """
        SELECT 0, format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', conrelid::regclass, conname,
                         pg_get_constraintdef(oid))
          FROM pg_constraint WHERE contype = 'p' AND conrelid::regclass::text = ANY(%s)
        UNION ALL
        SELECT 1, pg_get_indexdef(i.indexrelid)
          FROM pg_index i
         WHERE i.indrelid::regclass::text = ANY(%s)
           AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        UNION ALL
        SELECT 2, format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', conrelid::regclass, conname,
                         pg_get_constraintdef(oid))
          FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)
        ORDER BY 1, 2
        """,
        [list(SPEC_TABLES)] * 3,
    )
    return [statement for _, statement in cursor.fetchall()]


def drop_statements(*, cursor: CursorWrapper) -> list[str]:
    """The drops matching bulk_load_definitions, foreign keys first."""
    cursor.execute(
        """
        SELECT format('ALTER TABLE %%s DROP CONSTRAINT %%I', conrelid::regclass, conname)
          FROM pg_constraint
         WHERE contype IN ('f', 'p') AND conrelid::regclass::text = ANY(%s)
         ORDER BY contype = 'p', conname
        """,
        [list(SPEC_TABLES)],
    )
    drops = [statement for (statement,) in cursor.fetchall()]
    cursor.execute(
        """
        SELECT format('DROP INDEX %%s', i.indexrelid::regclass)
          FROM pg_index i
         WHERE i.indrelid::regclass::text = ANY(%s)
           AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        [list(SPEC_TABLES)],
    )
    return drops + [statement for (statement,) in cursor.fetchall()]

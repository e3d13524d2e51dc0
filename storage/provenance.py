"""Who made each object of the spec's tables: the portal, or Lynx AI before the portal came.

What Lynx AI created is Lynx AI's. When `migrate` adopts a table it records so, and it
records every object it adds to or replaces in such a table (an index it built, a foreign key
it replaced with the definition it had, a policy, a grant). A reverse migration then removes
exactly what the record says the portal added, restores what it replaced, and leaves the
rest, rows included. Objects without a record (a database migrated before the record
existed) count as Lynx AI's: a reverse leaves them.

The record is the table `portal_schema_provenance`, created on first use like Django's own
`django_migrations`; it is no model, and only the owner may read it.
"""

from dataclasses import dataclass

TABLE = "portal_schema_provenance"
CREATED = "created"  # the portal made it: a reverse may remove it
ADOPTED = "adopted"  # it was there: a reverse leaves it
REPLACED = "replaced"  # it was there, differently: a reverse restores it


@dataclass(frozen=True)
class Record:
    origin: str
    undo: str | None  # the SQL that removes the portal's object and restores what it replaced


def ensure_table(cursor) -> None:
    cursor.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {TABLE} (
            table_name text NOT NULL,
            kind text NOT NULL,
            name text NOT NULL,
            origin text NOT NULL CHECK (origin IN ('{CREATED}', '{ADOPTED}', '{REPLACED}')),
            undo text,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (table_name, kind, name)
        )
        """
    )


def _exists(cursor) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [TABLE])
    return cursor.fetchone()[0]


def lookup(cursor, table: str, kind: str, name: str = "") -> Record | None:
    if not _exists(cursor):
        return None
    cursor.execute(
        f"SELECT origin, undo FROM {TABLE} WHERE table_name = %s AND kind = %s AND name = %s",
        [table, kind, name],
    )
    row = cursor.fetchone()
    return Record(*row) if row else None


def record(cursor, table: str, kind: str, name: str, origin: str, undo: str | None = None):
    """Remember an object's origin; an existing record stands (the first word is the truth)."""
    ensure_table(cursor)
    cursor.execute(
        f"INSERT INTO {TABLE} (table_name, kind, name, origin, undo) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        [table, kind, name, origin, undo],
    )


def records_of(cursor, table: str, kinds, name: str | None = None) -> list[tuple]:
    """(kind, name, Record) of the table's objects of these kinds (or only `name`)."""
    if not _exists(cursor):
        return []
    cursor.execute(
        f"SELECT kind, name, origin, undo FROM {TABLE} WHERE table_name = %s "
        "AND kind = ANY (%s) AND (%s::text IS NULL OR name = %s) ORDER BY kind, name",
        [table, list(kinds), name, name],
    )
    return [(kind, name, Record(origin, undo)) for kind, name, origin, undo in cursor.fetchall()]


def forget(cursor, table: str, kind: str | None = None, name: str = "") -> None:
    """Drop the record of one object, or with no kind, of the table and all its objects."""
    if not _exists(cursor):
        return
    if kind is None:
        cursor.execute(f"DELETE FROM {TABLE} WHERE table_name = %s", [table])
    else:
        cursor.execute(
            f"DELETE FROM {TABLE} WHERE table_name = %s AND kind = %s AND name = %s",
            [table, kind, name],
        )


def all_records(cursor) -> list[tuple[str, str, str, str]]:
    """(table, kind, name, origin) of every record, for lynx_preflight."""
    if not _exists(cursor):
        return []
    cursor.execute(f"SELECT table_name, kind, name, origin FROM {TABLE} ORDER BY 1, 2, 3")
    return cursor.fetchall()

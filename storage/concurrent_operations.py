"""Migration steps that run outside one big transaction, so Lynx AI's writers never wait.

They belong in a migration with `atomic = False`. Each step is a transaction of its own (or a
CREATE INDEX CONCURRENTLY) and is recorded (storage/provenance.py), so a migrate stopped half
way, by a lock it could not get or by a kill, continues where it stopped when run again.
"""

from django.conf import settings
from django.core.management import CommandError
from django.db import IntegrityError, migrations, transaction
from django.db.models import CheckConstraint, Index, UniqueConstraint
from psycopg import sql

from storage import provenance
from storage.database import first_line
from storage.migration_operations import DatabaseStep, lock_timeout, quoted, undo
from storage.provenance import ADOPTED, CREATED, REPLACED
from storage.schema_facts import SPEC_TABLES, index_validity


class RecordEarlierAdoptions(DatabaseStep):
    """A spec table migrated before the provenance record existed counts as Lynx AI's.

    Whether the portal created it cannot be known any more: a reverse leaves it.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        with schema_editor.connection.cursor() as cursor:
            for table in SPEC_TABLES:
                provenance.record(cursor, table, "table", "", ADOPTED)

    def describe(self) -> str:
        return "Record the spec tables migrated before the provenance record as adopted"


class CompleteSpecTables(DatabaseStep):
    """Build the indexes and CHECKs of the spec that its tables lack, without blocking.

    Indexes, partial unique ones included, are built CONCURRENTLY (an index an interrupted
    build left INVALID is dropped and built again); CHECKs are added NOT VALID, an instant
    under a lock, and validated by ValidatePortalConstraints. The reverse drops what this
    built.
    """

    kinds = ("spec_index", "spec_check")

    def __init__(self, model_names: list[str]):
        self.model_names = model_names

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        for model_name in self.model_names:
            model = to_state.apps.get_model(app_label, model_name)
            for name, create in _index_statements(model, schema_editor):
                self._build_index(schema_editor, model._meta.db_table, name, create)
            for constraint in model._meta.constraints:
                if isinstance(constraint, CheckConstraint):
                    self._add_check(schema_editor, model, constraint)

    def _build_index(self, schema_editor, table: str, name: str, create: str) -> None:
        build_index_concurrently(schema_editor, table, name, create, kind="spec_index")

    def _add_check(self, schema_editor, model, constraint: CheckConstraint) -> None:
        connection = schema_editor.connection
        table = model._meta.db_table
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if constraint.name in connection.introspection.get_constraints(cursor, table):
                return
            cursor.execute(f"{constraint.create_sql(model, schema_editor)} NOT VALID")
            drop = sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
                sql.Identifier(table), sql.Identifier(constraint.name)
            )
            provenance.record(
                cursor, table, "spec_check", constraint.name, CREATED, quoted(connection, drop)
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        for model_name in self.model_names:
            table = from_state.apps.get_model(app_label, model_name)._meta.db_table
            undo(schema_editor, table, self.kinds)

    def describe(self) -> str:
        return "Build what the spec tables lack: indexes concurrently, CHECKs NOT VALID"


def _index_statements(model, schema_editor) -> list[tuple[str, str]]:
    """(name, CREATE ... CONCURRENTLY) of each index of the model, partial unique ones too."""
    statements = [
        (index.name, str(index.create_sql(model, schema_editor, concurrently=True)))
        for index in model._meta.indexes
    ]
    for constraint in model._meta.constraints:
        if isinstance(constraint, UniqueConstraint):
            create = str(constraint.create_sql(model, schema_editor))
            statements.append(
                (
                    constraint.name,
                    create.replace("CREATE UNIQUE INDEX", "CREATE UNIQUE INDEX CONCURRENTLY", 1),
                )
            )
    return statements


class ValidatePortalConstraints(DatabaseStep):
    """VALIDATE the constraints the portal added NOT VALID to these tables.

    VALIDATE scans the rows under a lock that lets Lynx AI read and write meanwhile.
    Constraints Lynx AI made are left as they are, valid or not.
    """

    KINDS = ("foreign_key", "check", "spec_check")

    def __init__(self, tables: list[str]):
        self.tables = tables

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(
                    "SELECT conname FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND NOT convalidated ORDER BY 1",
                    [table],
                )
                pending = {row[0] for row in cursor.fetchall()}
                ours = {
                    name
                    for _, name, found in provenance.records_of(cursor, table, self.KINDS)
                    if found.origin in (CREATED, REPLACED)
                }
                for name in sorted(pending & ours):
                    self._validate(connection, cursor, table, name)

    @staticmethod
    def _validate(connection, cursor, table: str, name: str) -> None:
        statement = sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(
            sql.Identifier(table), sql.Identifier(name)
        )
        try:
            with lock_timeout(connection, settings.LYNX_MIGRATE_LOCK_TIMEOUT):
                cursor.execute(statement)
        except IntegrityError as exc:
            raise CommandError(
                f"{table} holds rows that break {name} ({first_line(exc)}); fix them and run "
                "migrate again."
            ) from None

    def describe(self) -> str:
        return "Validate the constraints the portal added NOT VALID"


def build_index_concurrently(schema_editor, table: str, name: str, create: str, *, kind: str):
    """CREATE INDEX CONCURRENTLY, recorded as `kind`; a valid index of that name is kept.

    An index an interrupted build left INVALID is dropped and built again if it is ours.
    """
    connection = schema_editor.connection
    drop = quoted(
        connection, sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(name))
    )
    with connection.cursor() as cursor:
        valid = index_validity(cursor, table, name)
        if valid:
            return
        if valid is False:  # an interrupted CREATE INDEX CONCURRENTLY
            found = provenance.lookup(cursor, table, kind, name)
            if found is None or found.origin != CREATED:
                raise CommandError(
                    f"The index {name} on {table} is INVALID and is not the portal's: "
                    f"drop it ({drop}) and run migrate again."
                )
            cursor.execute(drop)
        # Recorded first: if this process dies mid-build, the next run knows it is ours.
        provenance.record(cursor, table, kind, name, CREATED, drop)
        try:
            with lock_timeout(connection, settings.LYNX_MIGRATE_LOCK_TIMEOUT):
                cursor.execute(create)
        except Exception:
            cursor.execute(drop)
            provenance.forget(cursor, table, kind, name)
            raise


def add_portal_index(model_name: str, index: Index) -> migrations.SeparateDatabaseAndState:
    """A migration's operation for one of the portal's own indexes: the model state's AddIndex,
    built in the database by `PortalIndex` (the migration must not be atomic)."""
    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AddIndex(model_name, index)],
        database_operations=[PortalIndex(model_name, index)],
    )


class PortalIndex(DatabaseStep):
    """Build one of the portal's own indexes (beyond the spec) CONCURRENTLY; the reverse drops it.

    `add_portal_index` pairs it with the AddIndex of the model state: Lynx AI keeps writing
    while it is built.
    """

    kind = "portal_index"

    def __init__(self, model_name: str, index: Index):
        self.model_name = model_name
        self.index = index

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        create = str(self.index.create_sql(model, schema_editor, concurrently=True))
        table = model._meta.db_table
        build_index_concurrently(schema_editor, table, self.index.name, create, kind=self.kind)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        table = from_state.apps.get_model(app_label, self.model_name)._meta.db_table
        undo(schema_editor, table, [self.kind], self.index.name)

    def describe(self) -> str:
        return f"Build the index {self.index.name} concurrently"


class PortalStatistics(DatabaseStep):
    """Extended statistics of the portal's own on one table (beyond the spec), then ANALYZE.

    The planner takes columns to be independent: an event type expected in 12% of a tenant's
    events and a status in 3% make 0.4% of them, where the pair may occur in none. The
    statistics' list of the values found together corrects that, for the plans of the lists
    that filter on both. A statistics object of that name the portal did not make is left as
    it is. CREATE STATISTICS and ANALYZE take a lock that lets Lynx AI's writes through; a
    migrate stopped between the two analyzes when run again.
    """

    kind = "portal_statistics"

    def __init__(self, table: str, name: str, columns: tuple[str, ...]):
        self.table, self.name, self.columns = table, name, columns

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        connection = schema_editor.connection
        name, table = sql.Identifier(self.name), sql.Identifier(self.table)
        columns = sql.SQL(", ").join(map(sql.Identifier, self.columns))
        create = sql.SQL("CREATE STATISTICS {} (mcv) ON {} FROM {}").format(name, columns, table)
        drop = quoted(connection, sql.SQL("DROP STATISTICS IF EXISTS {}").format(name))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT FROM pg_statistic_ext WHERE stxname = %s "
                "AND stxnamespace = current_schema()::regnamespace)",
                [self.name],
            )
            exists = cursor.fetchone()[0]
            if exists:
                found = provenance.lookup(cursor, self.table, self.kind, self.name)
                if found is None or found.origin != CREATED:
                    provenance.record(cursor, self.table, self.kind, self.name, ADOPTED)
                    return
            else:
                # Recorded first, as an index is: if this process dies now, it is still ours.
                provenance.record(cursor, self.table, self.kind, self.name, CREATED, drop)
            with lock_timeout(connection, settings.LYNX_MIGRATE_LOCK_TIMEOUT):
                if not exists:
                    cursor.execute(create)
                cursor.execute(sql.SQL("ANALYZE {}").format(table))

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        undo(schema_editor, self.table, [self.kind], self.name)

    def describe(self) -> str:
        return f"Create the statistics {self.name} on {self.table}"

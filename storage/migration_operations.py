"""Migration operations that adopt the spec's tables from a live database and can be undone.

Lynx AI may have built the spec's tables by hand and be writing to them all day. These
operations then change nothing that already matches the spec, take strong locks only for
the instant an object is added (migrate waits for a lock half a second at a time), build
indexes CONCURRENTLY and add CHECKs and foreign keys NOT VALID, validated later by a step
that does not block writers. Each records what it found, added or replaced
(storage/provenance.py), and its reverse undoes exactly that.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management import CommandError
from django.db import migrations
from django.db.migrations.operations.base import Operation
from psycopg import sql

from storage import provenance
from storage.provenance import ADOPTED, CREATED, REPLACED
from storage.schema_facts import (
    column_differences,
    constraint_definition,
    missing_service_role_privileges,
    policy_facts,
)


@contextmanager
def lock_timeout(connection, seconds: float) -> Iterator[None]:
    """Wait at most `seconds` for each lock in the block (session-wide), then restore."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        (previous,) = cursor.fetchone()
        cursor.execute("SELECT set_config('lock_timeout', %s, false)", [f"{seconds * 1000:.0f}"])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, false)", [previous])


class CreateModelUnlessAdopted(migrations.CreateModel):
    """CreateModel that adopts an existing table instead of failing on it.

    A table Lynx AI built from the spec's SQL is adopted as it is: no row is read or
    changed, and nothing is locked. Its columns must match the model's names and types
    exactly, or the migration stops naming each difference. What it lacks of the spec is
    built later without blocking (CompleteSpecTables). The reverse drops only a table the
    portal created.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.name)
        table = model._meta.db_table
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            exists = table in connection.introspection.table_names(cursor)
            if exists:
                differences = column_differences(cursor, model, connection)
                if differences:
                    raise CommandError(
                        f"Cannot adopt the existing table {table}, it differs from the spec: "
                        + "; ".join(differences)
                    )
        if not exists:
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        with connection.cursor() as cursor:
            provenance.record(cursor, table, "table", "", ADOPTED if exists else CREATED)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        table = from_state.apps.get_model(app_label, self.name)._meta.db_table
        with schema_editor.connection.cursor() as cursor:
            found = provenance.lookup(cursor, table, "table")
        if found is not None and found.origin == CREATED:
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        with schema_editor.connection.cursor() as cursor:
            provenance.forget(cursor, table)

    def describe(self) -> str:
        return f"Create model {self.name} (or adopt its existing table)"


class DatabaseStep(Operation):
    """An operation on the database alone: Django's state of the models does not change."""

    reduces_to_sql = False
    reversible = True

    def state_forwards(self, app_label, state) -> None:
        pass

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        pass


class RecordedOperation(DatabaseStep):
    """A step on one table whose reverse runs what its forward recorded."""

    kinds: tuple[str, ...] = ()

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        undo(schema_editor, self.table, self.kinds)


def undo(schema_editor, table: str, kinds, name: str | None = None) -> None:
    """Run the recorded undo statements of `kinds` of objects on `table` (or only the one
    called `name`), and forget them."""
    with schema_editor.connection.cursor() as cursor:
        for kind, object_name, found in provenance.records_of(cursor, table, kinds, name):
            if found.undo:
                cursor.execute(found.undo)
            provenance.forget(cursor, table, kind, object_name)


def quoted(connection, composed: sql.Composable) -> str:
    return composed.as_string(connection.connection)


class SpecForeignKey(RecordedOperation):
    """The spec's foreign key by name: kept when it matches, else added or replaced NOT VALID.

    Validated later (ValidatePortalConstraints), so no writer waits for a scan.
    """

    kinds = ("foreign_key",)

    def __init__(self, table: str, name: str, definition: str):
        self.table, self.name, self.definition = table, name, definition

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        connection = schema_editor.connection
        table, name = sql.Identifier(self.table), sql.Identifier(self.name)
        drop = sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(table, name)
        add = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(table, name)
        with connection.cursor() as cursor:
            current = constraint_definition(cursor, self.table, self.name)
            if current == self.definition:
                provenance.record(cursor, self.table, "foreign_key", self.name, ADOPTED)
                return
            if current is not None:
                cursor.execute(drop)
            cursor.execute(add + sql.SQL(self.definition + " NOT VALID"))
            undo_sql = quoted(connection, drop)
            if current is not None:
                undo_sql += "; " + quoted(connection, add + sql.SQL(current))
            origin = CREATED if current is None else REPLACED
            provenance.record(cursor, self.table, "foreign_key", self.name, origin, undo_sql)

    def describe(self) -> str:
        return f"Foreign key {self.name} on {self.table} as the spec has it"


class TenantPolicy(RecordedOperation):
    """Row level security on a table with a tenant policy worded like the spec's four.

    What already matches is left alone (no lock taken); a differing policy is replaced and
    its definition kept for the reverse.
    """

    kinds = ("policy", "row_security")

    def __init__(self, table: str, policy: str):
        self.table, self.policy = table, policy

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        connection = schema_editor.connection
        table, policy = sql.Identifier(self.table), sql.Identifier(self.policy)
        with connection.cursor() as cursor:
            facts = policy_facts(cursor, self.table, self.policy)
            if facts.row_security:
                provenance.record(cursor, self.table, "row_security", "", ADOPTED)
            else:
                cursor.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(table))
                disable = sql.SQL("ALTER TABLE {} DISABLE ROW LEVEL SECURITY").format(table)
                provenance.record(
                    cursor, self.table, "row_security", "", CREATED, quoted(connection, disable)
                )
            if facts.matches:
                provenance.record(cursor, self.table, "policy", self.policy, ADOPTED)
                return
            drop = sql.SQL("DROP POLICY {} ON {}").format(policy, table)
            if facts.exists:
                cursor.execute(drop)
            cursor.execute(
                sql.SQL(
                    "CREATE POLICY {} ON {} FOR ALL "
                    "USING (tenant_id = current_setting('app.tenant_id', true))"
                ).format(policy, table)
            )
            undo_sql = quoted(connection, drop) + (f"; {facts.definition}" if facts.exists else "")
            origin = REPLACED if facts.exists else CREATED
            provenance.record(cursor, self.table, "policy", self.policy, origin, undo_sql)

    def describe(self) -> str:
        return f'Row level security and policy "{self.policy}" on {self.table}'


class ServiceRoleGrants(DatabaseStep):
    """The spec's `GRANT ALL ... TO service_role`, where Supabase's role exists.

    Only the privileges it lacks are granted, and only those are revoked on the way back.
    """

    def __init__(self, tables: list[str]):
        self.tables = tables

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            missing = missing_service_role_privileges(cursor, self.tables)
            for table, privileges in missing.items():
                what = sql.SQL(", ").join(map(sql.SQL, privileges))
                target = sql.Identifier(table)
                cursor.execute(sql.SQL("GRANT {} ON {} TO service_role").format(what, target))
                revoke = sql.SQL("REVOKE {} ON {} FROM service_role").format(what, target)
                provenance.record(
                    cursor, table, "grant", "service_role", CREATED, quoted(connection, revoke)
                )

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        for table in self.tables:
            undo(schema_editor, table, ("grant",))

    def describe(self) -> str:
        return "Grant service_role what the spec grants it, where Supabase's role exists"


class AddConstraintNotValid(migrations.AddConstraint):
    """AddConstraint that adds a CHECK NOT VALID: an instant under a lock, no scan.

    The rows already there are checked later by ValidatePortalConstraints, which does not
    block writers. A constraint of that name already there is left as it is.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        table = model._meta.db_table
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            if self.constraint.name in connection.introspection.get_constraints(cursor, table):
                provenance.record(cursor, table, "check", self.constraint.name, ADOPTED)
                return
            cursor.execute(f"{self.constraint.create_sql(model, schema_editor)} NOT VALID")
            drop = sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
                sql.Identifier(table), sql.Identifier(self.constraint.name)
            )
            provenance.record(
                cursor, table, "check", self.constraint.name, CREATED, quoted(connection, drop)
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        table = from_state.apps.get_model(app_label, self.model_name)._meta.db_table
        with schema_editor.connection.cursor() as cursor:
            found = provenance.lookup(cursor, table, "check", self.constraint.name)
        if found is None:  # added before the record existed: the portal's all the same
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            undo(schema_editor, table, ("check",), name=self.constraint.name)


def for_rls_role(sql_text: str | None, reverse_sql: str) -> migrations.RunPython:
    """RunSQL for statements that name the RLS role: `{role}` is its quoted name from settings
    (None: nothing to run forwards).

    The role's name comes from the environment, so it cannot be written into the migration.
    """

    def run(text: str):
        def statement(apps, schema_editor) -> None:
            from django.conf import settings

            role = sql.Identifier(settings.LYNX_DB_RLS_ROLE)
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql.SQL(text).format(role=role))

        return statement

    forwards = migrations.RunPython.noop if sql_text is None else run(sql_text)
    return migrations.RunPython(forwards, run(reverse_sql))


# Supabase grants its Data API roles EXECUTE on new functions in `public`; elsewhere they may
# not exist.
API_ROLES = ("anon", "authenticated", "service_role")


def nobody_executes(function: str) -> migrations.RunSQL:
    """Take EXECUTE on `function` (its signature) from PUBLIC (any role) and from Supabase's
    Data API roles, which would expose it as an RPC endpoint: only its owner runs it."""
    revoke_api_roles = f"""
DO $$
DECLARE
    api_role text;
BEGIN
    FOREACH api_role IN ARRAY ARRAY{list(API_ROLES)} LOOP
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = api_role) THEN
            EXECUTE format('REVOKE ALL ON FUNCTION {function} FROM %I', api_role);
        END IF;
    END LOOP;
END
$$
"""
    return migrations.RunSQL(
        [f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC", revoke_api_roles],
        migrations.RunSQL.noop,
    )


def only_the_rls_role_executes(function: str) -> list[Operation]:
    """Leave EXECUTE on `function` (its signature) to the RLS role alone (and its owner)."""
    return [
        nobody_executes(function),
        for_rls_role(
            f"GRANT EXECUTE ON FUNCTION {function} TO {{role}}",
            f"REVOKE ALL ON FUNCTION {function} FROM {{role}}",
        ),
    ]


def create_functions(
    functions: dict[str, str], *, owner_only: tuple[str, ...] = ()
) -> list[Operation]:
    """CREATE FUNCTION `signature body` for each item (DROP to reverse), executed by the RLS
    role alone, or by nobody but the owner for those in `owner_only`."""
    return [
        operation
        for signature, body in functions.items()
        for operation in (
            migrations.RunSQL(f"CREATE FUNCTION {signature} {body}", f"DROP FUNCTION {signature}"),
            *(
                [nobody_executes(signature)]
                if signature in owner_only
                else only_the_rls_role_executes(signature)
            ),
        )
    ]

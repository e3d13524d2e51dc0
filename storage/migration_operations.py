"""Migration operations that let `migrate` adopt tables Lynx AI already built from the spec."""

from django.core.management import CommandError
from django.db import migrations


class CreateModelUnlessAdopted(migrations.CreateModel):
    """CreateModel that adopts an existing table instead of failing on it.

    A Supabase database built by hand from the spec's SQL already holds the
    table and its rows. Then no row is touched: the columns must match the
    model's names and types exactly (or the migration stops, naming the
    difference), and whatever index or constraint of the model is missing by
    name is added, so that an adopted table ends like a freshly created one.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.name)
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            if model._meta.db_table not in connection.introspection.table_names(cursor):
                return super().database_forwards(app_label, schema_editor, from_state, to_state)
            self._check_columns(cursor, model, connection)
            existing = connection.introspection.get_constraints(cursor, model._meta.db_table)
        for index in model._meta.indexes:
            if index.name not in existing:
                schema_editor.add_index(model, index)
        for constraint in model._meta.constraints:
            if constraint.name not in existing:
                schema_editor.add_constraint(model, constraint)

    @staticmethod
    def _check_columns(cursor, model, connection) -> None:
        table = model._meta.db_table
        cursor.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [table],
        )
        existing = dict(cursor.fetchall())
        expected = {
            field.column: field.db_type(connection).lower() for field in model._meta.local_fields
        }
        if existing != expected:
            differences = sorted(
                f"{column}: {existing.get(column, 'missing')} (expected "
                f"{expected.get(column, 'no such column')})"
                for column in existing.keys() | expected.keys()
                if existing.get(column) != expected.get(column)
            )
            raise CommandError(
                f"Cannot adopt the existing table {table}, it differs from the spec: "
                + "; ".join(differences)
            )

    def describe(self) -> str:
        return f"Create model {self.name} (or adopt its existing table)"


def for_rls_role(sql_text: str, reverse_sql: str) -> migrations.RunPython:
    """RunSQL for statements that name the RLS role: `{role}` is its quoted name from settings.

    The role's name comes from the environment, so it cannot be written into the migration.
    """

    def run(text: str):
        def statement(apps, schema_editor) -> None:
            from django.conf import settings
            from psycopg import sql

            role = sql.Identifier(settings.LYNX_DB_RLS_ROLE)
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql.SQL(text).format(role=role))

        return statement

    return migrations.RunPython(run(sql_text), run(reverse_sql))


def tenant_policy(table: str, policy: str) -> migrations.RunSQL:
    """Row level security on a table, with a policy worded like the spec's four.

    Idempotent, so that a spec-built database that already has them is adopted.
    """
    return migrations.RunSQL(
        sql=f"""
        ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
        DROP POLICY IF EXISTS "{policy}" ON {table};
        CREATE POLICY "{policy}"
            ON {table}
            FOR ALL
            USING (tenant_id = current_setting('app.tenant_id', true));
        """,
        reverse_sql=f"""
        DROP POLICY IF EXISTS "{policy}" ON {table};
        ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
        """,
    )

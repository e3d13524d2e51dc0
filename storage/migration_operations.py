"""Migration operations that let `migrate` adopt tables Lynx AI already built from the spec."""

from django.db import migrations


class CreateModelUnlessAdopted(migrations.CreateModel):
    """CreateModel that adopts an existing table instead of failing on it.

    A Supabase database built by hand from the spec's SQL already holds the
    table, its indexes and its rows: then nothing is created and no row is
    touched, but the table must have exactly the model's columns, or the
    migration stops with a message naming the difference.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.name)
        table = model._meta.db_table
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            if table not in connection.introspection.table_names(cursor):
                return super().database_forwards(app_label, schema_editor, from_state, to_state)
            existing = {
                column.name
                for column in connection.introspection.get_table_description(cursor, table)
            }
        expected = {field.column for field in model._meta.local_fields}
        if existing != expected:
            missing = ", ".join(sorted(expected - existing)) or "none"
            extra = ", ".join(sorted(existing - expected)) or "none"
            raise RuntimeError(
                f"Cannot adopt the existing table {table}: it does not match the "
                f"spec (missing columns: {missing}; unexpected columns: {extra})."
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

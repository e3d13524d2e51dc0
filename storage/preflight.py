"""What `migrate` would do to this database and what a reverse would remove, found out
without changing anything (`manage.py lynx_preflight`; `migrate` uses the same answers).

It runs as the owner in a READ ONLY transaction that is rolled back, plus one login as the
web role to see who that is.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.management import CommandError
from django.db import transaction
from django.db.migrations import CreateModel
from django.db.migrations.executor import MigrationExecutor
from django.db.models import CheckConstraint, UniqueConstraint
from django.db.utils import OperationalError

from storage import acting, checks, db_roles, provenance
from storage.database import connection_as, current_role, first_line, separate_owner
from storage.migration_operations import CreateModelUnlessAdopted
from storage.people import passwords
from storage.schema_facts import (
    SPEC_TABLES,
    blank_tenant_rows,
    column_differences,
    constraint_definition,
    index_validity,
    missing_service_role_privileges,
    policy_facts,
    row_count,
    table_exists,
)

SPEC_FOREIGN_KEY = (
    "lynx_executions_draft_id_fkey",
    "FOREIGN KEY (draft_id) REFERENCES lynx_drafts(draft_id) ON DELETE CASCADE",
)


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # why migrate would stop

    def say(self, line: str, indent: int = 1) -> None:
        self.lines.append("  " * indent + line)

    def fail(self, reason: str, indent: int = 1) -> None:
        self.say(f"FAILS: {reason}", indent)
        self.failures.append(reason)


def role_members(connection) -> list[str]:
    """The roles that must be able to SET ROLE to the RLS role: the owner and the web role.

    The web role is whoever DATABASE_URL logs in as (a pooler may add to the user name)."""
    owner = current_role(connection)
    if not separate_owner():
        return [owner]
    try:
        with connection_as("web") as web:
            web_role = current_role(web)
    except OperationalError as exc:
        raise CommandError(
            f"DATABASE_URL cannot log in ({first_line(exc)}); create the web login role first "
            "(README, Deploy). Nothing was changed."
        ) from None
    return [owner] if web_role == owner else [owner, web_role]


def portal_tables(connection) -> list[str]:
    """Every table of the portal's and Django's: all but the spec's four, which are Lynx AI's."""
    django_tables = connection.introspection.django_table_names(only_existing=True)
    extra = ["django_migrations", provenance.TABLE, acting.KEY_TABLE, passwords.HASHES_TABLE]
    return sorted(set(django_tables + extra) - set(SPEC_TABLES))


def dropped_tables(cursor, plan, apps) -> list[str]:
    """The tables the reverse steps of `plan` drop: those of the models they un-create,
    except tables the portal adopted, which stay."""
    tables = []
    for migration, backwards in plan:
        for operation in migration.operations if backwards else []:
            if not isinstance(operation, CreateModel):
                continue
            model = apps.get_model(migration.app_label, operation.name)
            table = model._meta.db_table
            if isinstance(operation, CreateModelUnlessAdopted):
                record = provenance.lookup(cursor, table, "table")
                if record is None or record.origin != provenance.CREATED:
                    continue
            tables.append(table)
            tables += [
                field.remote_field.through._meta.db_table
                for field in model._meta.local_many_to_many
                if field.remote_field.through._meta.auto_created
            ]
    return tables


def preflight(connection) -> Report:
    report = Report()
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION READ ONLY")
        cursor.execute(
            "SELECT current_database(), current_setting('server_version'), current_user, "
            "rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        database, version, owner, superuser, createrole, bypassrls = cursor.fetchone()
        report.say(f"Database {database} on PostgreSQL {version}, as the owner {owner}", 0)
        report.say("Nothing is changed.", 0)
        _tables(report, cursor, connection, executor)
        _roles(report, cursor, connection, (superuser, createrole, bypassrls))
        ours = [str(m) for m, _ in pending if m.app_label == "storage"]
        report.say(f"Migrations to apply: {len(pending)}, {len(ours)} of them storage's", 0)
        for name in ours:
            report.say(name)
        _reverse(report, cursor, executor)
        transaction.set_rollback(True)
    return report


def _tables(report, cursor, connection, executor) -> None:
    report.say("The spec's tables:", 0)
    models = executor.loader.project_state().apps
    migrated = ("storage", "0001_initial") in executor.loader.applied_migrations
    for model in (models.get_model("storage", name) for name in _SPEC_MODELS):
        table = model._meta.db_table
        if not table_exists(cursor, table):
            report.say(f"{table}: missing, migrate creates it")
            continue
        found = provenance.lookup(cursor, table, "table")
        if found:
            origin = f"{found.origin} by the portal" if found.origin == "created" else found.origin
        else:
            origin = "migrated before origins were recorded" if migrated else "migrate adopts it"
        cursor.execute(
            "SELECT pg_get_userbyid(relowner), pg_has_role(relowner, 'USAGE') FROM pg_class "
            "WHERE oid = %s::regclass",
            [table],
        )
        owner, acts_as_owner = cursor.fetchone()
        if not acts_as_owner:
            report.say(f"{table}: {origin}")
            report.fail(f"{table} belongs to {owner}: DATABASE_OWNER_URL must log in as it", 2)
            continue
        report.say(f"{table}: {origin}, {row_count(cursor, table)} rows")
        differences = column_differences(cursor, model, connection)
        if differences:
            report.fail(f"cannot adopt {table}: " + "; ".join(differences), 2)
        if blanks := blank_tenant_rows(cursor, table):
            report.fail(f"{table} holds {blanks} rows with an empty tenant_id", 2)
        for line in _object_differences(cursor, model):
            report.say(line, 2)


_SPEC_MODELS = ["draft", "execution", "settlementintent", "auditevent"]


def _object_differences(cursor, model) -> list[str]:
    """What the table lacks of, or has differently from, the spec (and the portal)."""
    table = model._meta.db_table
    lines = []
    indexes = [index.name for index in model._meta.indexes] + [
        c.name for c in model._meta.constraints if isinstance(c, UniqueConstraint)
    ]
    for name in indexes:
        valid = index_validity(cursor, table, name)
        if not valid:
            state = "missing" if valid is None else "INVALID"
            lines.append(f"index {name} {state}: migrate builds it CONCURRENTLY")
    for constraint in model._meta.constraints:
        check = isinstance(constraint, CheckConstraint)
        if check and constraint_definition(cursor, table, constraint.name) is None:
            lines.append(f"CHECK {constraint.name} missing: migrate adds it NOT VALID")
    if table == "lynx_executions":
        name, spec = SPEC_FOREIGN_KEY
        current = constraint_definition(cursor, table, name)
        if current != spec:
            what = "missing" if current is None else f"differs ({current})"
            lines.append(f"foreign key {name} {what}: migrate adds the spec's")
    facts = policy_facts(cursor, table, checks.TENANT_POLICIES[table])
    if not facts.row_security:
        lines.append("row level security disabled: migrate enables it")
    if not facts.matches:
        what = f"differs ({facts.definition})" if facts.exists else "missing"
        lines.append(f"policy {what}: migrate creates the spec's")
    for privileges in missing_service_role_privileges(cursor, [table]).values():
        lines.append(f"service_role lacks {', '.join(privileges)}: migrate grants them")
    return lines


def _roles(report, cursor, connection, owner_flags) -> None:
    rls_role = settings.LYNX_DB_RLS_ROLE
    report.say("Roles:", 0)
    names = ("SUPERUSER", "CREATEROLE", "BYPASSRLS")
    flags = [name for name, on in zip(names, owner_flags, strict=True) if on]
    report.say(f"owner: {', '.join(flags) or 'no SUPERUSER, CREATEROLE or BYPASSRLS'}")
    try:
        members = role_members(connection)
    except CommandError as exc:
        report.fail(str(exc))
        return
    setup = db_roles.plan_role_setup(cursor, rls_role=rls_role, members=members)
    if setup.blocked:
        report.fail(setup.blocked)
    for statement in setup.statements:
        report.say(f"migrate runs: {statement}")
    if not (setup.blocked or setup.statements):
        report.say(f"RLS role {rls_role}: in place, {' and '.join(members)} may switch to it")
    for error in checks.check_row_level_security():
        report.fail(error.msg)
    web_role = members[-1]
    weaknesses = db_roles.web_role_weaknesses(cursor, web_role=web_role, rls_role=rls_role)
    if weaknesses:
        report.say(
            f"web role {web_role} (DATABASE_URL) can leave row level security: it "
            + "; it ".join(weaknesses)
            + " (`check --deploy` fails)"
        )
    else:
        report.say(f"web role {web_role} (DATABASE_URL): gains nothing outside {rls_role}")
    for table, roles in db_roles.api_role_grants(cursor, portal_tables(connection)).items():
        report.say(f"{', '.join(roles)} may use {table}: migrate revokes it")


def _reverse(report, cursor, executor) -> None:
    report.say("`migrate storage zero` would:", 0)
    plan = executor.migration_plan([("storage", None)])
    apps = executor._create_project_state(with_applied_migrations=True).apps
    dropped = dropped_tables(cursor, plan, apps)
    for table in dropped:
        report.say(f"drop {table} ({row_count(cursor, table)} rows)")
    for table in SPEC_TABLES:
        if table in dropped or not table_exists(cursor, table):
            continue
        report.say(f"leave {table} and its rows (Lynx AI's)")
        for kind, name, record in provenance.records_of(cursor, table, _UNDONE_KINDS):
            if record.undo:
                verb = "restore" if record.origin == provenance.REPLACED else "remove"
                what = " ".join(filter(None, [kind.replace("_", " "), name]))
                report.say(f"{verb} its {what}", 2)


_UNDONE_KINDS = (
    "foreign_key",
    "policy",
    "row_security",
    "grant",
    "check",
    "spec_check",
    "spec_index",
    "portal_index",
)

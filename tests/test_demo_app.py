"""The demo app: a generator that needs no database, and code production never imports.

No test here may use the database: pytest-django refuses any query, so the generator
returning rows proves it reads and writes nothing.
"""

from datetime import UTC, datetime

from django.forms.models import model_to_dict

from demo.generator import TenantRows, generate_rows
from tests.subprocesses import manage

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def as_data(rows: TenantRows) -> dict[str, list[dict]]:
    return {
        kind: [model_to_dict(row) for row in getattr(rows, kind)]
        for kind in ("drafts", "executions", "settlement_intents", "audit_events")
    }


def test_the_seed_and_now_fix_every_row_without_the_database():
    first = generate_rows("acme", now=NOW)
    assert as_data(generate_rows("acme", now=NOW)) == as_data(first)
    assert as_data(generate_rows("acme", now=NOW, seed="another")) != as_data(first)
    assert len(first.drafts) == 120 and len(first.settlement_intents) == 60
    for kind, rows in vars(first).items():
        assert all(row.tenant_id == "acme" and row.created_at < NOW for row in rows), kind


def test_production_imports_no_demo_code_but_finds_seed_demo():
    """Serving requests (settings, apps, admin, URLs) loads only the demo app's config."""
    script = (
        "import sys\n"
        "from lynxportal.wsgi import application\n"
        "from django.core.management import get_commands\n"
        "from django.urls import get_resolver\n"
        "get_resolver().url_patterns\n"
        "assert get_commands()['seed_demo'] == 'demo'\n"
        "print(' '.join(sorted(m for m in sys.modules if m.partition('.')[0] == 'demo')))\n"
    )
    result = manage(
        "shell", "--no-startup", "-v", "0", "-c", script, DATABASE_URL="postgres://u@h/db"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["demo", "demo.apps"]

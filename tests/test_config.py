"""Configuration errors an operator meets: one clear line, a non-zero exit, no traceback."""

import pytest
from django.db import connection

from tests.subprocesses import deployed, manage


def assert_one_line_error(result, expected: str) -> None:
    assert result.returncode != 0
    assert result.stderr.strip() == expected or (
        result.stderr.count("\n") == 1 and result.stderr.startswith(expected)
    ), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", "error: DATABASE_URL is not set"),
        ("mysql://root@localhost/lynx", "error: DATABASE_URL must be a postgres://"),
        ("nonsense", "error: DATABASE_URL must be a postgres://"),
        ("postgres://postgres@localhost:notaport/lynx", "error: DATABASE_URL is malformed:"),
        ("postgres://postgres@localhost:5432", "error: DATABASE_URL names no database."),
    ],
)
def test_a_bad_database_url_is_one_clear_line(url, expected):
    assert_one_line_error(manage("check", DATABASE_URL=url), expected)


def test_an_unreachable_database_is_one_clear_line():
    result = manage("migrate", DATABASE_URL="postgres://postgres@127.0.0.1:9/lynx")
    assert_one_line_error(result, "error: cannot reach the database:")
    assert "127.0.0.1" in result.stderr


def test_secret_key_is_required_without_debug():
    result = manage("check", SECRET_KEY="", DATABASE_URL="postgres://u@h/db")
    assert_one_line_error(result, "error: SECRET_KEY must be set when DEBUG is off.")


@pytest.mark.django_db
def test_production_settings_pass_the_deploy_check():
    result = manage(
        "check",
        "--deploy",
        ALLOWED_HOSTS="portal.example.com",
        **deployed(connection.settings_dict["NAME"]),
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


FORWARDED_HTTPS_PROBE = (
    "from django.test import Client; "
    "print(Client().get('/admin/', headers={'x-forwarded-proto': 'https'}).status_code)"
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("behind_proxy", "status"), [({}, "301"), ({"BEHIND_TLS_PROXY": "true"}, "302")]
)
def test_forwarded_https_is_trusted_only_behind_a_tls_proxy(behind_proxy, status):
    """Without BEHIND_TLS_PROXY a client cannot claim HTTPS: it is redirected to https.

    Behind the proxy the request counts as HTTPS and goes on (to the sign-in page).
    """
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        FORWARDED_HTTPS_PROBE,
        LYNX_CONNECT_AS="web",  # as a web server logs in
        ALLOWED_HOSTS="testserver",
        **deployed(connection.settings_dict["NAME"]),
        **behind_proxy,
    )
    assert result.stdout.strip() == status, result.stderr


@pytest.mark.django_db
def test_a_web_server_process_passes_the_checks_as_the_web_role():
    """runserver logs in as the web role, which may not read django_migrations itself."""
    result = manage("check", LYNX_CONNECT_AS="web", **deployed(connection.settings_dict["NAME"]))
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout

"""Password hashes held apart (migration 0028): no request reads one, sign-in and password
changes work as before, and the migration moves existing hashes there and back."""

import pytest
from django.db import connection
from django.test import Client

from storage.admin.accounts import HELD_PASSWORD
from storage.models import User
from tests.catalog import connect, connect_as_superuser, database_url, scratch_database
from tests.subprocesses import manage
from tests.web_login import INSUFFICIENT_PRIVILEGE, NOBODY, as_owner, inject, signed_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.urls")]

HASHES = "SELECT username, password FROM storage_user ORDER BY 1"


@pytest.fixture
def people(tenants, make_user) -> dict[str, User]:
    return {
        "acme": make_user("acme-admin", tenant=tenants["acme"], groups=("Tenant admins",)),
        "root": make_user("root", is_superuser=True),
    }


@pytest.mark.parametrize("forge", ["SELECT 1", NOBODY])
def test_no_request_reads_a_password_hash(people, web_process, forge):
    client = signed_in("acme-admin")
    accounts = inject(client, f"{forge}; {HASHES}")["rows"]
    assert [name for name, _ in accounts] == ["acme-admin", "root"][1 if forge == NOBODY else 0 :]
    assert all(password.startswith("!held$") for _, password in accounts), accounts
    assert inject(client, "SELECT count(*) FROM portal_password_hashes") == {
        "sqlstate": INSUFFICIENT_PRIVILEGE
    }
    # The stand-in tells nothing of the hash but changes with it (the session hash's input).
    [(stand_in, held)] = as_owner(
        "SELECT u.password, portal_held_password(h.hash) FROM storage_user u "
        "JOIN portal_password_hashes h ON h.user_id = u.id WHERE u.username = 'root'"
    )
    assert stand_in == held


def test_a_person_changes_their_password_and_stays_signed_in(people, web_process):
    client = signed_in("acme-admin")
    new = "Brand-new-pass-42"
    response = client.post(
        "/admin/password_change/",
        {"old_password": "pw", "new_password1": new, "new_password2": new},
    )
    assert (response.status_code, response["Location"]) == (302, "/admin/password_change/done/")
    assert client.get("/admin/").status_code == 200  # this session goes on

    wrong_old = client.post(
        "/admin/password_change/",
        {"old_password": "pw", "new_password1": "x-Y-z-123456", "new_password2": "x-Y-z-123456"},
    )
    assert "Your old password was entered incorrectly" in wrong_old.text
    refused = Client().post("/admin/login/", {"username": "acme-admin", "password": "pw"})
    assert refused.status_code == 200
    again = Client().post("/admin/login/", {"username": "acme-admin", "password": new})
    assert again.status_code == 302


def test_a_password_made_unusable_signs_in_no_more(people, web_process):
    with connect_as_superuser(connection.settings_dict["NAME"]) as owner:
        owner.execute("UPDATE storage_user SET password = '!unusable' WHERE username = 'root'")
    response = Client().post("/admin/login/", {"username": "root", "password": "pw"})
    assert response.status_code == 200
    assert as_owner(
        "SELECT count(*) FROM portal_password_hashes WHERE user_id = %s", [people["root"].pk]
    ) == [(0,)]


def test_the_account_page_says_a_password_is_set(client, people):
    client.force_login(people["root"])
    page = client.get(f"/admin/storage/user/{people['acme'].pk}/change/")
    assert HELD_PASSWORD in page.text
    assert "No password set" not in page.text


def test_the_migration_moves_existing_hashes_apart_and_back():
    hashed = "md5$salt$0123456789abcdef0123456789abcdef"
    with scratch_database("held") as dbname:
        url = database_url(dbname)

        def migrate(*target: str) -> None:
            result = manage("migrate", "--no-input", *target, DATABASE_URL=url)
            assert result.returncode == 0, result.stderr

        def stored() -> list[tuple]:
            with connect(dbname) as conn:
                return conn.execute("SELECT username, password FROM storage_user").fetchall()

        migrate("storage", "0027")
        with connect(dbname) as conn:
            conn.execute(
                "INSERT INTO storage_user (password, is_superuser, username, first_name, "
                "last_name, email, is_staff, is_active, date_joined) VALUES "
                "(%s, true, 'root', '', '', '', true, true, now()), "
                "('!unusable', false, 'nobody', '', '', '', true, true, now())",
                [hashed],
            )
        migrate()
        [(root, held)] = [row for row in stored() if row[0] == "root"]
        assert held.startswith("!held$") and ("nobody", "!unusable") in stored()
        with connect(dbname) as conn:
            assert conn.execute(
                "SELECT password FROM portal_sign_in_user('root', '')"
            ).fetchall() == [(hashed,)]  # the owner is trusted with any name
        migrate("storage", "0027")
        assert sorted(stored()) == [("nobody", "!unusable"), ("root", hashed)]

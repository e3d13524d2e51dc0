"""The people's tables against a request's own SQL (a SQL injection), on the web role.

Naming another tenant, or none, in `app.tenant_id` reaches no account beyond those of the
tenant the request's signed user acts for: not another tenant's people, not the view of every
account that only a superuser without a tenant gets. Sign-in still finds anyone by name.
"""

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client

from storage.models import User
from tests.web_login import INSUFFICIENT_PRIVILEGE, NOBODY, as_owner, inject, signed_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.urls")]

ANOTHER_TENANT = "SELECT set_config('app.tenant_id', 'globex', true)"
NO_TENANT = "SELECT set_config('app.tenant_id', '', true)"
ACCOUNTS = "SELECT username FROM storage_user ORDER BY 1"


@pytest.fixture
def people(tenants, make_user) -> dict[str, User]:
    return {
        "acme": make_user("acme-admin", tenant=tenants["acme"], groups=("Tenant admins",)),
        "globex": make_user("globex-person", tenant=tenants["globex"]),
        "root": make_user("root", is_superuser=True),
        "tenantless": make_user("drifter"),
    }


@pytest.mark.parametrize(
    ("forge", "accounts"),
    [
        ("SELECT 1", ["acme-admin", "drifter", "root"]),
        (ANOTHER_TENANT, ["acme-admin", "drifter", "root"]),
        (NO_TENANT, ["acme-admin", "drifter", "root"]),
        (NOBODY, ["drifter", "root"]),
    ],
)
def test_naming_another_tenant_or_none_reaches_no_other_account(
    people, web_process, forge, accounts
):
    """Accounts without a tenant stay readable to every request (README, Known gaps)."""
    client = signed_in("acme-admin")
    assert inject(client, f"{forge}; {ACCOUNTS}")["rows"] == [[name] for name in accounts]


@pytest.mark.parametrize("forge", [ANOTHER_TENANT, NO_TENANT, NOBODY])
def test_no_forged_tenant_makes_a_superuser_or_takes_an_account(people, web_process, forge):
    client = signed_in("acme-admin")
    attempts = {
        "become superuser": "UPDATE storage_user SET is_superuser = true "
        "WHERE username = 'acme-admin' RETURNING 1",
        "set root's password": "UPDATE storage_user SET password = 'md5$x$0' "
        "WHERE username = 'root' RETURNING 1",
        "move globex's person": "UPDATE storage_user SET tenant_id = 'acme' "
        "WHERE username = 'globex-person' RETURNING 1",
        "grant a permission": "INSERT INTO storage_user_user_permissions (user_id, permission_id) "
        "SELECT u.id, p.id FROM storage_user u, auth_permission p "
        "WHERE u.username = 'drifter' LIMIT 1 RETURNING 1",
        "make a tenant": "INSERT INTO portal_tenants (tenant_id, name) "
        "VALUES ('evil', 'Evil') RETURNING 1",
    }

    outcomes = {name: inject(client, f"{forge}; {sql}") for name, sql in attempts.items()}

    refused = {"sqlstate": INSUFFICIENT_PRIVILEGE}
    nothing = {"rows": []}
    assert outcomes == {
        # Acting for acme still, the request reaches its own row, but not the flag;
        # acting for nobody, not even that.
        "become superuser": nothing if forge == NOBODY else refused,
        "set root's password": nothing,
        "move globex's person": nothing,
        "grant a permission": refused,
        "make a tenant": refused,
    }
    assert as_owner(
        "SELECT username, is_superuser, tenant_id, "
        "password IN ('md5$x$0', portal_held_password('md5$x$0')) FROM storage_user "
        "WHERE username IN ('acme-admin', 'root', 'globex-person') ORDER BY 1"
    ) == [("acme-admin", False, "acme", False), ("globex-person", False, "globex", False)] + [
        ("root", True, None, False)
    ]


def test_the_reads_before_sign_in_need_what_only_the_web_process_signs(people, web_process):
    client = signed_in("acme-admin")
    own = people["acme"].pk
    own_proof = "current_setting('app.user_proof')"
    reads = {
        "root by name, no proof": "SELECT count(*) FROM portal_sign_in_user('root', 'x')",
        "root by name, own proof": f"SELECT count(*) FROM portal_sign_in_user('root', {own_proof})",
        "root by id, own proof": (
            f"SELECT count(*) FROM portal_signed_user({people['root'].pk}, {own_proof})"
        ),
        "itself by id, own proof": f"SELECT count(*) FROM portal_signed_user({own}, {own_proof})",
        "the signing key": "SELECT count(*) FROM portal_signing_key",
        "a proof checked": "SELECT portal_proof_valid('user:1', 'x')",
    }

    outcomes = {name: inject(client, sql) for name, sql in reads.items()}

    assert outcomes == {
        "root by name, no proof": {"rows": [[0]]},
        "root by name, own proof": {"rows": [[0]]},
        "root by id, own proof": {"rows": [[0]]},
        "itself by id, own proof": {"rows": [[1]]},
        "the signing key": {"sqlstate": INSUFFICIENT_PRIVILEGE},
        "a proof checked": {"sqlstate": INSUFFICIENT_PRIVILEGE},
    }


@pytest.mark.parametrize("username", ["acme-admin", "root", "drifter"])
def test_everyone_signs_in_on_the_web_role_and_their_sign_in_is_recorded(
    people, web_process, username
):
    last_login = "SELECT last_login IS NOT NULL FROM storage_user WHERE username = %s"
    assert as_owner(last_login, [username]) == [(False,)]
    client = signed_in(username)
    assert client.get("/admin/").status_code == 200
    assert as_owner(last_login, [username]) == [(True,)]


def test_a_wrong_password_signs_nobody_in(people, web_process):
    client = Client()
    response = client.post("/admin/login/", {"username": "acme-admin", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter the correct username and password" in response.text
    assert client.get("/admin/").status_code == 302


def test_an_account_without_a_tenant_cannot_widen_itself(people, web_process):
    client = signed_in("drifter")
    widen = {
        "join a tenant": "UPDATE storage_user SET tenant_id = 'acme' WHERE username = 'drifter'",
        "become superuser": "UPDATE storage_user SET is_superuser = true "
        "WHERE username = 'drifter'",
    }
    for name, sql in widen.items():
        assert inject(client, f"{sql} RETURNING 1") == {"sqlstate": INSUFFICIENT_PRIVILEGE}, name
    assert inject(client, "SELECT count(*) FROM lynx_drafts") == {"rows": [[0]]}


def test_within_its_tenant_a_request_changes_accounts_only_as_its_person_may(
    people, viewers, web_process
):
    """A viewer's request, unlike a tenant admin's, changes no account but its own details."""
    client, admin = signed_in("acme-viewer"), people["acme"].pk
    own = viewers["acme"].pk
    attempts = {
        "set the admin's password": "UPDATE storage_user SET password = 'md5$x$0' "
        f"WHERE id = {admin} RETURNING 1",
        "join the tenant admins": "INSERT INTO storage_user_groups (user_id, group_id) "
        f"SELECT {own}, id FROM auth_group WHERE name = 'Tenant admins' RETURNING 1",
        "take the admin out of them": f"DELETE FROM storage_user_groups WHERE user_id = {admin} "
        "RETURNING 1",
        "add an account": "INSERT INTO storage_user (username, password, tenant_id, is_superuser, "
        "is_staff, is_active, first_name, last_name, email, date_joined) VALUES ('mole', '', "
        "'acme', false, true, true, '', '', '', now()) RETURNING 1",
        "deactivate itself": f"UPDATE storage_user SET is_active = false WHERE id = {own} "
        "RETURNING 1",
        "rename itself": f"UPDATE storage_user SET username = 'boss' WHERE id = {own} RETURNING 1",
        # The maker-checker rule compares a draft's creator with both (migration 0033).
        "change its address": f"UPDATE storage_user SET email = 'x@acme.test' WHERE id = {own} "
        "RETURNING 1",
        "its own details": f"UPDATE storage_user SET first_name = 'Ada' WHERE id = {own} "
        "RETURNING 1",
    }

    outcomes = {name: inject(client, sql) for name, sql in attempts.items()}

    refused = {"sqlstate": INSUFFICIENT_PRIVILEGE}
    assert outcomes == {
        "set the admin's password": {"rows": []},
        "join the tenant admins": refused,
        "take the admin out of them": {"rows": []},
        "add an account": refused,
        "deactivate itself": refused,
        "rename itself": refused,
        "change its address": refused,
        "its own details": {"rows": [[1]]},
    }
    admin_client = signed_in("acme-admin")  # the same changes, by one who may
    rename = f"UPDATE storage_user SET first_name = 'Bo' WHERE id = {own} RETURNING 1"
    assert inject(admin_client, rename) == {"rows": [[1]]}
    assert inject(admin_client, attempts["change its address"]) == {"rows": [[1]]}
    assert inject(admin_client, attempts["take the admin out of them"])["rows"]


class FastPBKDF2(PBKDF2PasswordHasher):
    """The preferred hasher for the upgrade below, at a test's speed."""

    iterations = 1000


def test_a_hash_of_an_older_hasher_is_saved_anew_at_sign_in(people, web_process, settings):
    settings.PASSWORD_HASHERS = [
        "tests.test_people_injection.FastPBKDF2",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    signed_in("acme-admin")
    [(password,)] = as_owner(
        "SELECT hash FROM portal_password_hashes WHERE user_id = %s", [people["acme"].pk]
    )
    assert password.startswith("pbkdf2_sha256$1000$")

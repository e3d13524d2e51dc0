"""People, groups, tenants, the admin log and the decision trail as PostgreSQL guards them
for the RLS role: a request of one tenant cannot reach another tenant's people or traces."""

import uuid

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.db import connection

from storage.models import Draft, DraftReview, Tenant, User
from storage.tenancy import tenant_context
from tests.conftest import fingerprint_of, make_draft, make_review
from tests.db_errors import sqlstate_of

pytestmark = pytest.mark.django_db(transaction=True)

INSUFFICIENT_PRIVILEGE = "42501"
SNAPSHOT = ["tenant_id", "draft_type", "payload", "risk_level", "source_context"]
CHECK_VIOLATION = "23514"


@pytest.fixture
def people(tenants, make_user):
    return {
        "acme": make_user("acme-person", tenant=tenants["acme"]),
        "globex": make_user("globex-person", tenant=tenants["globex"]),
        "root": make_user("root", is_superuser=True),
    }


def usernames(tenant_id: str) -> set[str]:
    with tenant_context(tenant_id):
        return set(User.objects.values_list("username", flat=True))


def test_a_tenant_sees_its_own_people_and_the_platform_staff_only(people):
    assert usernames("acme") == {"acme-person", "root"}
    assert usernames("globex") == {"globex-person", "root"}
    assert usernames("") == {"acme-person", "globex-person", "root"}  # sign-in, superusers


def test_writes_a_tenant_may_not_make_on_people(people, tenants):
    globex, acme = people["globex"], people["acme"]
    ensure_group = Group.objects.create(name="Anything")
    with tenant_context("acme"):
        assert User.objects.filter(pk=globex.pk).update(first_name="x") == 0
        assert User.objects.filter(pk=people["root"].pk).update(first_name="x") == 0
        forbidden = {
            "create a globex user": lambda: User.objects.create(
                username="intruder", tenant_id="globex"
            ),
            "make a superuser": lambda: User.objects.create(
                username="boss", tenant_id="acme", is_superuser=True
            ),
            "become superuser": lambda: User.objects.filter(pk=acme.pk).update(is_superuser=True),
            "move a user to globex": lambda: User.objects.filter(pk=acme.pk).update(
                tenant_id="globex"
            ),
            "grant a permission": lambda: acme.user_permissions.add(
                Permission.objects.get(codename="view_draft")
            ),
            "put a globex user in a group": lambda: globex.groups.add(ensure_group),
            "create a group": lambda: Group.objects.create(name="Admins 2"),
            "give a group permissions": lambda: ensure_group.permissions.add(
                Permission.objects.get(codename="change_user")
            ),
            "create a tenant": lambda: Tenant.objects.create(tenant_id="initech", name="I"),
            "rename a tenant": lambda: (
                Tenant.objects.filter(pk="acme").update(name="x")
                or Tenant.objects.create(tenant_id="acme", name="again")
            ),
        }
        codes = {what: sqlstate_of(write) for what, write in forbidden.items()}
        assert set(Tenant.objects.values_list("pk", flat=True)) == {"acme"}
    assert codes == dict.fromkeys(forbidden, INSUFFICIENT_PRIVILEGE)
    assert User.objects.get(pk=globex.pk).first_name == ""
    assert not User.objects.filter(is_superuser=True).exclude(pk=people["root"].pk).exists()


def test_a_tenant_manages_its_own_people(people):
    acme = people["acme"]
    group = Group.objects.create(name="Reviewers-ish")
    with tenant_context("acme"):
        User.objects.create(username="new-acme", tenant_id="acme")
        acme.groups.add(group)
        assert User.objects.filter(pk=acme.pk).update(is_active=False) == 1
    assert User.objects.get(username="new-acme").tenant_id == "acme"
    assert list(acme.groups.all()) == [group]


def version(user: User) -> int:
    return User.objects.values_list("session_version", flat=True).get(pk=user.pk)


def test_the_session_version_moves_with_groups_permissions_flags_and_tenant(people, tenants):
    person, group = people["acme"], Group.objects.create(name="G")
    steps = [
        lambda: person.groups.add(group),
        lambda: person.groups.remove(group),
        lambda: person.user_permissions.add(Permission.objects.get(codename="view_draft")),
        lambda: User.objects.filter(pk=person.pk).update(is_staff=False),
        lambda: User.objects.filter(pk=person.pk).update(is_active=False),
        lambda: User.objects.filter(pk=person.pk).update(tenant_id="globex"),
    ]
    seen = [version(person)]
    for step in steps:
        step()
        seen.append(version(person))
    assert seen == list(range(seen[0], seen[0] + len(steps) + 1))
    person.refresh_from_db()
    person.session_version = 0  # a stale copy saved back
    person.save()
    assert version(person) == seen[-1]


def test_a_users_tenant_cannot_change_once_they_have_a_history(people, reviewers):
    reviewer = reviewers["acme-reviewer"]
    make_review(make_draft("acme"), reviewer)
    moved = lambda: User.objects.filter(pk=reviewer.pk).update(tenant_id="globex")  # noqa: E731
    assert sqlstate_of(moved) == CHECK_VIOLATION
    LogEntry.objects.log_actions(
        user_id=people["acme"].pk, queryset=[people["acme"]], action_flag=1
    )
    moved = lambda: User.objects.filter(pk=people["acme"].pk).update(tenant_id="globex")  # noqa: E731
    assert sqlstate_of(moved) == CHECK_VIOLATION
    assert User.objects.filter(tenant_id="acme", pk__in=[reviewer.pk, people["acme"].pk]).count()


def entries(tenant_id: str) -> set[str]:
    with tenant_context(tenant_id):
        return set(LogEntry.objects.values_list("object_repr", flat=True))


def log_tenants() -> dict[str, str | None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT object_repr, tenant_id FROM django_admin_log")
        return dict(cursor.fetchall())


def test_admin_log_entries_belong_to_their_objects_tenant(people):
    acme_draft, globex_draft = make_draft("acme"), make_draft("globex")
    root = people["root"]
    for tenant_id, draft, user in (
        ("acme", acme_draft, people["acme"]),
        ("globex", globex_draft, people["globex"]),
    ):
        with tenant_context(tenant_id):
            LogEntry.objects.log_actions(user_id=user.pk, queryset=[draft], action_flag=CHANGE)
    with tenant_context(""):  # a superuser without a tenant changes people and a tenant
        LogEntry.objects.log_actions(
            user_id=root.pk,
            queryset=[people["acme"], people["root"], Tenant.objects.get(pk="acme")],
            action_flag=CHANGE,
        )
    assert log_tenants() == {
        str(acme_draft): "acme",
        str(globex_draft): "globex",
        "acme-person": "acme",
        "root": None,
        "Acme": None,
    }
    assert entries("acme") == {str(acme_draft), "acme-person"}
    assert entries("globex") == {str(globex_draft)}
    assert entries("") == {"acme-person", "root", "Acme"}  # people, never a tenant's rows
    with tenant_context("acme"):
        forged = lambda: connection.cursor().execute(  # noqa: E731
            "INSERT INTO django_admin_log (action_time, object_id, object_repr, action_flag, "
            "change_message, user_id, tenant_id) VALUES (now(), '1', 'x', 1, '', %s, 'globex')",
            [people["acme"].pk],
        )
        assert sqlstate_of(forged) == INSUFFICIENT_PRIVILEGE
    for tenant_id in ("acme", ""):
        with tenant_context(tenant_id):
            assert LogEntry.objects.all()._raw_delete(connection.alias) == 0
    assert len(log_tenants()) == 5, "the log lost entries"


def test_a_decision_names_a_draft_and_a_reviewer_of_its_own_tenant(reviewers):
    reviewer, outsider = reviewers["acme-reviewer"], reviewers["globex-reviewer"]
    acme_draft, globex_draft = make_draft("acme"), make_draft("globex")

    fingerprint = fingerprint_of(acme_draft)

    def decide(draft, reviewer):
        snapshot = {field: getattr(acme_draft, field) for field in SNAPSHOT}
        return lambda: DraftReview.objects.create(
            **snapshot,
            draft_id=draft.pk,
            reviewer=reviewer,
            decision="approve",
            from_status="submitted",
            to_status="approved",
            fingerprint=fingerprint,
        )

    missing = Draft(draft_id=uuid.uuid4())
    with tenant_context("acme"):
        codes = {
            "another tenant's draft": sqlstate_of(decide(globex_draft, reviewer)),
            "a draft that does not exist": sqlstate_of(decide(missing, reviewer)),
            "another tenant's reviewer": sqlstate_of(decide(acme_draft, outsider)),
            "its own draft and reviewer": sqlstate_of(decide(acme_draft, reviewer)),
        }
    # The same answer for a draft elsewhere and for none: no oracle of other tenants' ids.
    assert codes == {
        "another tenant's draft": INSUFFICIENT_PRIVILEGE,
        "a draft that does not exist": INSUFFICIENT_PRIVILEGE,
        "another tenant's reviewer": INSUFFICIENT_PRIVILEGE,
        "its own draft and reviewer": None,
    }
    assert DraftReview.objects.get().draft_id == acme_draft.pk


def test_sign_in_finds_any_tenants_user_and_records_the_login(client, people):
    for user in (people["globex"], people["root"]):
        response = client.post("/admin/login/", {"username": user.username, "password": "pw"})
        assert response.status_code == 302, response.text
        assert User.objects.get(pk=user.pk).last_login is not None
        client.post("/admin/logout/")

"""Reads of people management: whose accounts a person may manage, and who has a history.

The database enforces the same limits for requests of a tenant (migration 0017):
these selectors make the screens agree with it instead of failing on it.
"""

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.models import QuerySet

from storage.models import User
from storage.roles import GROUP_PERMISSIONS


def manages_everyone(*, user: User) -> bool:
    """A superuser without a tenant: the only person who manages every tenant's people,
    superusers, tenants, groups and direct permissions."""
    return user.is_superuser and not user.tenant_id


def managed_users(*, user: User) -> QuerySet:
    """The accounts `user` may see and manage in the user admin.

    Everyone for a superuser without a tenant; otherwise the people of their own
    tenant, superusers excepted unless they are one; nobody without a tenant.
    """
    if manages_everyone(user=user):
        return User.objects.all()
    if not user.tenant_id:
        return User.objects.none()
    people = User.objects.filter(tenant_id=user.tenant_id)
    return people if user.is_superuser else people.filter(is_superuser=False)


def assignable_groups() -> QuerySet:
    """The groups a tenant admin may put people in: those that grant nothing beyond what
    the portal's own groups (storage/roles.py) grant, e.g. a group an approval rule names."""
    granted = {codename for codenames in GROUP_PERMISSIONS.values() for codename in codenames}
    beyond = Permission.objects.exclude(content_type__app_label="storage", codename__in=granted)
    return Group.objects.exclude(permissions__in=beyond)


def has_history(*, user_id: int) -> bool:
    """Whether the user made decisions or admin log entries, in any tenant.

    Row level security hides other tenants' traces from the request, so the
    database answers through a function that sees them all and tells only this.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT portal_user_has_history(%s)", [user_id])
        return cursor.fetchone()[0]


def username_taken(*, username: str, excluding: int | None = None) -> bool:
    """Whether another account has this user name, ignoring case, in any tenant.

    Names are unique across tenants (sign-in finds a user by name alone), while
    row level security shows a tenant admin only their tenant's accounts: the
    database answers through a function that sees them all and tells only this.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT portal_username_taken(%s, %s)", [username, excluding or 0])
        return cursor.fetchone()[0]

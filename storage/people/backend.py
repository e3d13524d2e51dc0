"""Signing in and loading the signed-in user, with everything a request asks of them, in one query.

Django's ModelBackend reads the user, then their own permissions, then their groups'
permissions: three queries on every page, and the request then enters the user's tenant in a
fourth. Here the user row carries both, their groups' ids (what the approval rules compare),
and enters the tenant (`storage.tenancy.entering_tenant`), in one query whose text is written
once: compiling the same query through the ORM cost more than running it.
"""

from functools import cache

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from storage.models import User
from storage.tenancy import entered_tenant, entering_tenant


class PortalUserBackend(ModelBackend):
    """ModelBackend whose `get_user` fills the permission cache Django's checks read."""

    def get_user(self, user_id):
        try:
            key = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        query = _user_with_permissions(entering_tenant("person.tenant_id"))
        user = next(iter(User.objects.raw(query, [key])), None)
        if user is None:
            return None
        # Entered even for a user refused below: the request, anonymous then, enters no tenant
        # again (TenantMiddleware), which this records.
        entered_tenant(user.entered_tenant)
        if not self.user_can_authenticate(user):
            return None
        user._perm_cache = set(user.permissions)  # where ModelBackend.has_perm() looks first
        return user


@cache
def _user_with_permissions(entering: str) -> str:
    """The user row with `permissions` ("app_label.codename", a superuser's: all), `group_ids`
    and, last, `entered_tenant` (the SQL `entering`)."""
    own, groups = User.user_permissions.through._meta, User.groups.through._meta
    granted = Group.permissions.through._meta

    def column(meta, field: str) -> str:
        return meta.get_field(field).column

    group = column(groups, "group")
    return f"""
        SELECT person.*,
            ARRAY(
                SELECT type.app_label || '.' || permission.codename
                FROM {Permission._meta.db_table} permission
                JOIN {ContentType._meta.db_table} type ON type.id = permission.content_type_id
                WHERE person.is_superuser
                    OR permission.id IN (
                        SELECT {column(own, "permission")} FROM {own.db_table}
                        WHERE {column(own, "user")} = person.id)
                    OR permission.id IN (
                        SELECT granted.{column(granted, "permission")}
                        FROM {granted.db_table} granted
                        JOIN {groups.db_table} membership
                            ON membership.{group} = granted.{column(granted, "group")}
                        WHERE membership.{column(groups, "user")} = person.id)
            ) AS permissions,
            ARRAY(
                SELECT {group} FROM {groups.db_table}
                WHERE {column(groups, "user")} = person.id
            ) AS group_ids,
            {entering} AS entered_tenant
        FROM {User._meta.db_table} person
        WHERE person.id = %s
    """


def group_ids(*, user: User) -> frozenset[int]:
    """The groups `user` is in: loaded with the user if it was signed in, else read now."""
    if hasattr(user, "group_ids"):
        return frozenset(user.group_ids)
    return frozenset(user.groups.values_list("pk", flat=True))

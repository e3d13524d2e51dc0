"""Signing in and loading the signed-in user, with everything a request asks of them, in one query.

Django's ModelBackend reads the user, then their own permissions, then their groups'
permissions: three queries on every page, and the request then enters the user's tenant in a
fourth. Here the user row carries both, their groups' ids (what the approval rules compare),
and enters the tenant (`storage.tenancy.entering_tenant`), in one query whose text is written
once: compiling the same query through the ORM cost more than running it. The permissions
and groups come from a function (`portal_user_access`), whose plans PostgreSQL keeps.
"""

from functools import cache

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from storage import acting
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
        user = next(iter(User.objects.raw(query, [*acting.user_settings(key), key])), None)
        if user is None:
            return None
        # Entered even for a user refused below: the request, anonymous then, enters no tenant
        # and acts for nobody again (TenantMiddleware), which this records.
        entered_tenant(user.entered_tenant, user_id=key)
        if not self.user_can_authenticate(user):
            return None
        user._perm_cache = set(user.permissions)  # where ModelBackend.has_perm() looks first
        return user


@cache
def _user_with_permissions(entering: str) -> str:
    """The user row with `permissions` ("app_label.codename", a superuser's: all), `group_ids`
    (both from `portal_user_access`, migration 0024), the transaction acting for the user
    (`storage.acting`) and, last, `entered_tenant` (the SQL `entering`)."""
    return f"""
        SELECT person.*, access.permissions, access.group_ids, {acting.USER_SETTINGS},
            {entering} AS entered_tenant
        FROM {User._meta.db_table} person
        CROSS JOIN LATERAL portal_user_access(person.id, person.is_superuser) access
        WHERE person.id = %s
    """


def group_ids(*, user: User) -> frozenset[int]:
    """The groups `user` is in: loaded with the user if it was signed in, else read now."""
    if hasattr(user, "group_ids"):
        return frozenset(user.group_ids)
    return frozenset(user.groups.values_list("pk", flat=True))

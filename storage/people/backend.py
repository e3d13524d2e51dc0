"""Signing in and loading the signed-in user, with everything a request asks of them, in one query.

Django's ModelBackend reads the user, then their own permissions, then their groups'
permissions: three queries on every page. Here the user row carries both, and their groups'
ids (what the approval rules compare), so that a page spends one query on who is asking.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Concat
from django.db.models.lookups import Exact

from storage.models import User


class PortalUserBackend(ModelBackend):
    """ModelBackend whose `get_user` fills the permission caches Django's checks read."""

    def get_user(self, user_id):
        user = with_permissions(users=User.objects.filter(pk=user_id)).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        user._perm_cache = set(user.permissions)  # where ModelBackend.has_perm() looks first
        return user


def with_permissions(*, users):
    """Annotate `permissions` ("app_label.codename", a superuser's: all) and `group_ids`."""
    user, permission = OuterRef(OuterRef("pk")), OuterRef("pk")
    held = Permission.objects.filter(
        Q(Exact(OuterRef("is_superuser"), True))
        | Exists(User.user_permissions.through.objects.filter(user=user, permission=permission))
        | Exists(Group.permissions.through.objects.filter(group__user=user, permission=permission))
    ).values(full_name=Concat(F("content_type__app_label"), Value("."), F("codename")))
    groups = User.groups.through.objects.filter(user=OuterRef("pk")).values("group_id")
    return users.annotate(permissions=ArraySubquery(held), group_ids=ArraySubquery(groups))


def group_ids(*, user: User) -> frozenset[int]:
    """The groups `user` is in: loaded with the user if it was signed in, else read now."""
    if hasattr(user, "group_ids"):
        return frozenset(user.group_ids)
    return frozenset(user.groups.values_list("pk", flat=True))

"""Signing in and loading the signed-in user, with everything a request asks of them, in one query.

Django's ModelBackend reads the user, then their own permissions, then their groups'
permissions: three queries on every page, and the request then enters the user's tenant in a
fourth. Here the user row carries both, their groups' ids (what the approval rules compare),
and enters the tenant (`storage.tenancy.entering_tenant`), in one query whose text is written
once: compiling the same query through the ORM cost more than running it. The user, their
permissions and groups come from a function whose plans PostgreSQL keeps (`portal_signed_user`)
and which, since the request acts for nobody yet, answers only for the user id it is given
signed (`storage.acting`); sign-in looks up a name the same way.
"""

from functools import cache

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.db import connection

from lynxportal.security import client_ip
from storage import acting
from storage.models import User
from storage.people.passwords import SIGN_IN
from storage.tenancy import act_for_signed_in, entered_tenant, entering_tenant


class SignInThrottle(AxesStandaloneBackend):
    """django-axes' check before any sign-in, on the records of the name and the address that
    sign in, which the database shows the request once it signs them (migration 0031)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is not None:
            name = kwargs.get(User.USERNAME_FIELD) if username is None else username
            params = acting.attempt_settings(username=name or "", address=client_ip(request))
            with connection.cursor() as cursor:
                cursor.execute(acting.ATTEMPT_SETTINGS, params)
        return super().authenticate(request, username, password, **kwargs)


class PortalUserBackend(ModelBackend):
    """ModelBackend whose `get_user` fills the permission cache Django's checks read, and
    whose sign-in acts for the user once their password holds (so that the request may save
    their last sign-in), not before."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        username = kwargs.get(User.USERNAME_FIELD) if username is None else username
        if username is None or password is None:
            return None
        # By name, with the hash held apart (migration 0028): the request acts for nobody yet.
        params = [username, acting.sign_in_proof(username)]
        user = next(iter(User.objects.raw(SIGN_IN, params)), None)
        if user is None:
            User().set_password(password)  # the hasher's time, as for an account (Django #20760)
            return None
        upgrades = []  # a hash of an older hasher, saved anew once the request acts for them
        if not check_password(password, user.password, upgrades.append):
            return None
        if not self.user_can_authenticate(user):
            return None
        act_for_signed_in(user.tenant_id, user_id=user.pk)
        if upgrades:
            user.set_password(password)
            user._password = None  # an upgrade is no password change (as Django's own)
            user.save(update_fields=["password"])
        return user

    def get_user(self, user_id):
        try:
            key = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        query = _user_with_permissions(entering_tenant("(signed.person).tenant_id"))
        params = [*acting.user_settings(key), key, acting.user_proof(key)]
        user = next(iter(User.objects.raw(query, params)), None)
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
    (both from `portal_signed_user`, migration 0027: the request acts for nobody yet, so the
    read needs the user's proof), the transaction acting for the user (`storage.acting`) and,
    last, `entered_tenant` (the SQL `entering`)."""
    return f"""
        SELECT (signed.person).*, signed.permissions, signed.group_ids, {acting.USER_SETTINGS},
            {entering} AS entered_tenant
        FROM portal_signed_user(%s, %s) signed
    """


def group_ids(*, user: User) -> frozenset[int]:
    """The groups `user` is in: loaded with the user if it was signed in, else read now."""
    if hasattr(user, "group_ids"):
        return frozenset(user.group_ids)
    return frozenset(user.groups.values_list("pk", flat=True))

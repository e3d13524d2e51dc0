"""Tenants, groups and portal users: superusers manage everyone, tenant admins their tenant.

A superuser without a tenant sees and edits every account, tenant and group. A
member of `Tenant admins` (or a superuser who has a tenant) manages the people
of their own tenant only: list, create, deactivate, reset passwords and put
them in the portal's groups; never a superuser, a direct permission, a group,
or anyone's tenant. The limits are checked here, on the server, for every user
URL (the queryset is the scope: another tenant's user is a 404 everywhere), and
the database refuses the same writes for requests of a tenant (migration 0017).
"""

from django import forms
from django.contrib import admin
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import ReadOnlyPasswordHashWidget
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext as _

from storage.admin.hardening import HardenedAdmin
from storage.models import Tenant, User
from storage.people import passwords
from storage.people.selectors import (
    assignable_groups,
    has_history,
    managed_users,
    manages_everyone,
    username_taken,
)

OWN_ACCOUNT = "{user} is your own account: another superuser may delete it."
DEACTIVATE_INSTEAD = (
    "{user} has decisions or admin log entries: deleting the account would lose that "
    "trail. Deactivate it instead (untick Active on its page): it can no longer sign in."
)
HELD_PASSWORD = "Set. Its hash is kept where only sign-in reads it."
TENANT_IS_SET = (
    "{user} has decisions or admin log entries in {tenant}: the tenant cannot change. "
    "Deactivate this account and create another one in the new tenant."
)


class PlatformOnly:
    """Only a superuser without a tenant may change these; the database agrees."""

    def has_add_permission(self, request, obj=None) -> bool:
        return manages_everyone(user=request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return manages_everyone(user=request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return manages_everyone(user=request.user) and super().has_delete_permission(request, obj)


@admin.register(Tenant)
class TenantAdmin(PlatformOnly, HardenedAdmin, admin.ModelAdmin):
    list_display = ["tenant_id", "name"]
    search_fields = ["tenant_id", "name"]
    # An id and a name are one line each (TEXT columns would otherwise get text areas).
    formfield_overrides = {models.TextField: {"widget": forms.TextInput}}

    def has_view_permission(self, request, obj=None) -> bool:
        return manages_everyone(user=request.user) and super().has_view_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        # The id is what Lynx AI's rows carry: renaming it would orphan them.
        return ["tenant_id"] if obj else []


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(PlatformOnly, HardenedAdmin, DjangoGroupAdmin):
    pass


class UniqueNameForm(forms.ModelForm):
    """A user name that no account of any tenant has, whatever this request may see."""

    def clean_username(self):
        username = self.cleaned_data.get("username")
        if username and username_taken(username=username, excluding=self.instance.pk):
            raise forms.ValidationError(self.instance.unique_error_message(User, ["username"]))
        return username


class AddUserForm(UniqueNameForm, DjangoUserAdmin.add_form):
    pass


class HeldPasswordWidget(ReadOnlyPasswordHashWidget):
    """Django's summary of the hash, which the account row no longer holds (migration 0028)."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        if passwords.is_held(value):
            context["summary"] = [{"label": HELD_PASSWORD}]
            context["button_label"] = _("Reset password")
        return context


class UserForm(UniqueNameForm, DjangoUserAdmin.form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "password" in self.fields:
            self.fields["password"].widget = HeldPasswordWidget()


class PlatformUserForm(UserForm):
    """The whole account, for a superuser without a tenant; a tenant with history stays."""

    def clean_tenant(self):
        tenant = self.cleaned_data.get("tenant")
        user = self.instance
        moved = user.tenant_id and (tenant.pk if tenant else None) != user.tenant_id
        if moved and has_history(user_id=user.pk):
            raise forms.ValidationError(TENANT_IS_SET.format(user=user, tenant=user.tenant_id))
        return tenant


@admin.register(User)
class UserAdmin(HardenedAdmin, DjangoUserAdmin):
    list_display = [*DjangoUserAdmin.list_display, "is_active", "tenant"]
    list_filter = [*DjangoUserAdmin.list_filter, "tenant"]
    list_select_related = ["tenant"]
    form = PlatformUserForm
    add_form = AddUserForm
    fieldsets = [*DjangoUserAdmin.fieldsets, ("Tenant", {"fields": ["tenant"]})]
    add_fieldsets = [*DjangoUserAdmin.add_fieldsets, ("Tenant", {"fields": ["tenant"]})]
    # What a tenant admin edits: no superuser flag, direct permissions or tenant.
    tenant_fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name", "email"]}),
        ("Access", {"fields": ["is_active", "is_staff", "groups"]}),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
    ]

    def get_queryset(self, request):
        return managed_users(user=request.user).select_related("tenant")

    def get_fieldsets(self, request, obj=None):
        if manages_everyone(user=request.user):
            return super().get_fieldsets(request, obj)
        return DjangoUserAdmin.add_fieldsets if obj is None else self.tenant_fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [] if manages_everyone(user=request.user) else ["last_login", "date_joined"]

    def get_list_filter(self, request):
        if manages_everyone(user=request.user):
            return self.list_filter
        return ["is_staff", "is_active", "groups"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not manages_everyone(user=request.user):
            kwargs["queryset"] = assignable_groups()
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Tenant admins deactivate; only superusers without a tenant delete, and only
        # accounts without a history (get_deleted_objects).
        return manages_everyone(user=request.user) and super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        kept = [DEACTIVATE_INSTEAD.format(user=u) for u in objs if has_history(user_id=u.pk)]
        # Django logs the deletion in the deleter's name: their own row must outlive it.
        kept += [OWN_ACCOUNT.format(user=u) for u in objs if u.pk == request.user.pk]
        return deleted, counts, perms_needed, [*protected, *kept]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.is_staff = True  # the admin is the portal: every account signs in to it
            if not manages_everyone(user=request.user):
                obj.tenant_id = request.user.tenant_id
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if form.instance.pk == request.user.pk:
            # Changing one's own groups ends one's other sessions, not this one.
            form.instance.refresh_from_db(fields=["session_version"])
            update_session_auth_hash(request, form.instance)

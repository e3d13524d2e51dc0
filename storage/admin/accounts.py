"""Tenants and portal users, managed by superusers."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models

from storage.models import Tenant, User


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["tenant_id", "name"]
    search_fields = ["tenant_id", "name"]
    # An id and a name are one line each (TEXT columns would otherwise get text areas).
    formfield_overrides = {models.TextField: {"widget": forms.TextInput}}

    def get_readonly_fields(self, request, obj=None):
        # The id is what Lynx AI's rows carry: renaming it would orphan them.
        return ["tenant_id"] if obj else []


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [*DjangoUserAdmin.list_display, "tenant"]
    list_filter = [*DjangoUserAdmin.list_filter, "tenant"]
    list_select_related = ["tenant"]
    fieldsets = [*DjangoUserAdmin.fieldsets, ("Tenant", {"fields": ["tenant"]})]
    add_fieldsets = [*DjangoUserAdmin.add_fieldsets, ("Tenant", {"fields": ["tenant"]})]

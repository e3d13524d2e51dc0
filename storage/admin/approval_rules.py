"""Approval rules and their history, edited by superusers (and whoever holds
storage.edit_approval_rules, for their own tenant).

Rules are tenant rows under RLS and superusers have no tenant: a superuser
picks the tenant whose rules they work on (kept in their session, chosen by a
POST), and every view of these screens runs in that tenant's context
(`tenant_context`), so the web role reads and writes as that tenant. Writes go
through `storage.review.rule_editing`, which records each change.
"""

from contextlib import contextmanager

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse

from storage.actions import ActionRefused
from storage.admin.display import json_display, payment_summary
from storage.admin.hardening import HardenedAdmin
from storage.models import ApprovalRule, ApprovalRuleChange, Tenant
from storage.review import rule_editing
from storage.roles import EDIT_RULES_PERMISSION
from storage.rows import tenant_rows
from storage.tenancy import tenant_context

SESSION_KEY = "rules_tenant"


def rules_tenant(request) -> str:
    """The tenant whose rules this request works on: one's own, or a superuser's choice."""
    if request.tenant_id:
        return request.tenant_id
    if request.user.is_superuser:
        return request.session.get(SESSION_KEY, "")
    return ""


class InRulesTenant:
    """Every view of the screen runs, and renders, in the rules' tenant context."""

    change_list_template = "admin/storage/rules_change_list.html"

    def may_edit(self, request) -> bool:
        return rule_editing.may_edit_rules(user=request.user, tenant_id=rules_tenant(request))

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or request.user.has_perm(
            EDIT_RULES_PERMISSION
        )

    def get_queryset(self, request):
        return tenant_rows(self.model, tenant_id=rules_tenant(request))

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deleting goes through the service, one by one
        return actions

    @contextmanager
    def _in_tenant(self, request):
        with tenant_context(rules_tenant(request)):
            yield

    def _view(self, view, request, *args, extra_context=None, **kwargs):
        tenant_id = rules_tenant(request)
        context = {
            "rules_tenant": Tenant.objects.filter(pk=tenant_id).first(),
            "tenants": Tenant.objects.all() if request.user.is_superuser else [],
            "choose_tenant_url": reverse("admin:storage_approvalrule_tenant"),
            **(extra_context or {}),
        }
        with self._in_tenant(request):
            response = view(request, *args, extra_context=context, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        return response

    def changelist_view(self, request, extra_context=None):
        if request.user.is_superuser and not rules_tenant(request):
            messages.info(request, "Choose the tenant whose approval rules you want to see.")
        return self._view(super().changelist_view, request, extra_context=extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._view(
            super().changeform_view, request, object_id, form_url, extra_context=extra_context
        )

    def delete_view(self, request, object_id, extra_context=None):
        return self._view(super().delete_view, request, object_id, extra_context=extra_context)

    def history_view(self, request, object_id, extra_context=None):
        return self._view(super().history_view, request, object_id, extra_context=extra_context)


class ApprovalRuleForm(forms.ModelForm):
    class Meta:
        model = ApprovalRule
        fields = [
            "name",
            "draft_type",
            "risk_level",
            "min_amount",
            "currency",
            "approvals",
            "required_group",
        ]
        widgets = {"name": forms.TextInput, "currency": forms.TextInput(attrs={"size": 4})}

    def clean_currency(self) -> str | None:
        currency = (self.cleaned_data.get("currency") or "").strip().upper()
        return currency or None


@admin.register(ApprovalRule)
class ApprovalRuleAdmin(InRulesTenant, HardenedAdmin, admin.ModelAdmin):
    form = ApprovalRuleForm
    list_display = [
        "name",
        "draft_type",
        "risk_level",
        "from_amount",
        "approvals",
        "required_group",
    ]
    list_select_related = ["required_group"]
    change_form_template = "admin/storage/approvalrule/change_form.html"

    def get_urls(self):
        choose = self.admin_site.admin_view(self.choose_tenant_view)
        return [
            path("tenant/", choose, name="storage_approvalrule_tenant"),
            *super().get_urls(),
        ]

    def choose_tenant_view(self, request):
        """A superuser picks the tenant whose rules they work on (POST only)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.is_superuser:
            raise PermissionDenied("Only superusers choose a tenant here.")
        tenant = Tenant.objects.filter(pk=request.POST.get("tenant", "")).first()
        if tenant is None:
            messages.error(request, "Choose one of the tenants listed.")
        else:
            request.session[SESSION_KEY] = tenant.pk
            messages.success(request, f"You are working on the approval rules of {tenant}.")
        return HttpResponseRedirect(reverse("admin:storage_approvalrule_changelist"))

    def has_add_permission(self, request) -> bool:
        return self.may_edit(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.may_edit(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.may_edit(request)

    def save_model(self, request, obj, form, change) -> None:
        try:
            rule_editing.save_rule(user=request.user, tenant_id=rules_tenant(request), rule=obj)
        except ActionRefused as refusal:
            raise PermissionDenied(refusal.message) from None

    def delete_model(self, request, obj) -> None:
        try:
            rule_editing.delete_rule(
                user=request.user, tenant_id=rules_tenant(request), rule_id=obj.pk
            )
        except ActionRefused as refusal:
            raise PermissionDenied(refusal.message) from None

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["rule_changes"] = (
                tenant_rows(ApprovalRuleChange, tenant_id=rules_tenant(request))
                .filter(rule_id=obj.pk)
                .select_related("changed_by")
                .order_by("-changed_at")
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="from amount", ordering="min_amount")
    def from_amount(self, rule: ApprovalRule):
        if rule.min_amount is None:
            return "any"
        return payment_summary({"amount": str(rule.min_amount), "currency": rule.currency})


@admin.register(ApprovalRuleChange)
class ApprovalRuleChangeAdmin(InRulesTenant, HardenedAdmin, admin.ModelAdmin):
    """The history of every rule of the tenant: read-only for everyone, superusers included."""

    list_display = [
        "changed_at",
        "rule",
        "action",
        "changed_by",
        json_display("before", "before"),
        json_display("after", "after"),
    ]
    list_filter = ["action"]
    list_select_related = ["changed_by"]
    fields = [
        "changed_at",
        "rule_id",
        "action",
        "changed_by",
        json_display("before", "before"),
        json_display("after", "after"),
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="rule")
    def rule(self, change: ApprovalRuleChange) -> str:
        return (change.after or change.before or {}).get("name", str(change.rule_id)[:8])

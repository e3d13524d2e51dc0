"""Settlement intents: payments queued for settlement, moved on by hand when the provider is manual.

The rules (which moves, who, the note) live in `storage.services.move_settlement`;
this screen asks for a note on a confirmation page and reports what happened.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.text import Truncator

from storage import services
from storage.admin.base import TenantRowsAdmin
from storage.admin.display import badge, json_display
from storage.admin.filters import DateRangeFilter
from storage.choices import SettlementStatus
from storage.models import SettlementIntent
from storage.roles import SETTLE_PERMISSION

MOST_AT_ONCE = 100


class SettlementNoteForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text="Why, and what was done. Kept in the metadata with your name and the time.",
    )


def settlement_action(to_status: str, description: str):
    def move(modeladmin, request, queryset):
        return modeladmin.settle(request, queryset, to_status)

    move.__name__ = f"move_to_{to_status}"
    return admin.action(description=description, permissions=["settle"])(move)


ACTIONS = {
    SettlementStatus.PROCESSING: settlement_action("processing", "Start processing (manual)"),
    SettlementStatus.COMPLETED: settlement_action("completed", "Mark completed (manual)"),
    SettlementStatus.FAILED: settlement_action("failed", "Mark failed (manual)"),
}


@admin.register(SettlementIntent)
class SettlementIntentAdmin(TenantRowsAdmin):
    list_display = ["payment_id", "status", "provider", "created_at", "updated_at", "summary"]
    list_filter = [
        "settlement_status",
        "provider",
        ("created_at", DateRangeFilter),
        ("updated_at", DateRangeFilter),
    ]
    search_fields = ["=payment_id"]
    search_help_text = "An exact payment id."
    fields = [
        "payment_id",
        "status",
        "provider",
        "created_at",
        "updated_at",
        json_display("metadata", "metadata"),
    ]
    readonly_fields = fields
    actions = list(ACTIONS.values())

    def has_settle_permission(self, request) -> bool:
        return request.user.has_perm(SETTLE_PERMISSION)

    @admin.display(description="status", ordering="settlement_status")
    def status(self, obj: SettlementIntent):
        return badge("settlement", obj.settlement_status, obj.get_settlement_status_display())

    @admin.display(description="metadata")
    def summary(self, obj: SettlementIntent) -> str:
        """The start of the metadata as text (escaped by the template); the detail shows it all."""
        return Truncator(json.dumps(obj.metadata, sort_keys=True, ensure_ascii=False)).chars(60)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.has_settle_permission(request):
            context["settle_actions"] = [
                (ACTIONS[status].__name__, ACTIONS[status].short_description)
                for status in services.next_settlement_statuses(intent=obj)
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def settle(self, request, queryset, to_status: str):
        """The confirmation page first; with its note posted, move each intent via the service."""
        # Locked one by one until the request commits: in key order, so no deadlock.
        intents = list(queryset.order_by("pk")[: MOST_AT_ONCE + 1])
        if len(intents) > MOST_AT_ONCE:
            messages.error(request, f"Choose at most {MOST_AT_ONCE} intents at a time.")
            return None
        form = SettlementNoteForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            moved = 0
            for intent in intents:
                try:
                    services.move_settlement(
                        user=request.user,
                        payment_id=intent.pk,
                        to_status=to_status,
                        note=form.cleaned_data["note"],
                    )
                    moved += 1
                except services.SettlementRefused as refusal:
                    messages.error(request, str(refusal))
            if moved:
                messages.success(request, f"Moved {moved} settlement intent(s) to {to_status}.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Move to {to_status}?",
            "opts": self.opts,
            "intents": [
                (intent, to_status in services.next_settlement_statuses(intent=intent))
                for intent in intents
            ],
            "to_status": to_status,
            "action": ACTIONS[to_status].__name__,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/storage/settlementintent/settle_confirmation.html", context
        )

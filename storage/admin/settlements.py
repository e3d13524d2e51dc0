"""Settlement intents: payments queued for settlement, moved on by hand when the provider is manual.

The moves are two-step actions (see `confirmation`) that ask for a note; the
rules (which moves, who, the note) live in `storage.settlement.services`.
"""

import json

from django import forms
from django.contrib import admin

from storage.admin.base import TenantRowsAdmin
from storage.admin.confirmation import Confirmation, confirm_then_act
from storage.admin.display import badge_column, json_display, payment_summary
from storage.admin.filters import DateRangeFilter
from storage.choices import SettlementStatus
from storage.models import SettlementIntent
from storage.roles import SETTLE_PERMISSION
from storage.settlement import services

SUMMARY_CHARS = 60
settlement_badge = badge_column("settlement_status", kind="settlement", description="status")


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
    change_form_template = "admin/storage/settlementintent/intent_page.html"
    list_display = [
        "payment_id",
        settlement_badge,
        "provider",
        "created_at",
        "updated_at",
        "summary",
    ]
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
        settlement_badge,
        "provider",
        "created_at",
        "updated_at",
        json_display("metadata", "metadata"),
    ]
    readonly_fields = fields
    actions = list(ACTIONS.values())

    def has_settle_permission(self, request) -> bool:
        return request.user.has_perm(SETTLE_PERMISSION)

    @admin.display(description="metadata")
    def summary(self, obj: SettlementIntent) -> str:
        """The start of the metadata as text (escaped by the template); the detail shows it all.

        Sliced, not `Truncator(...).chars()`: that walks every character for combining marks,
        a tenth of the list's CPU time, for JSON text that has hardly any."""
        text = json.dumps(obj.metadata, sort_keys=True, ensure_ascii=False)
        return text if len(text) <= SUMMARY_CHARS else f"{text[: SUMMARY_CHARS - 1]}…"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.has_settle_permission(request):
            context["settle_actions"] = [
                (ACTIONS[status].__name__, ACTIONS[status].short_description)
                for status in services.next_settlement_statuses(intent=obj)
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def settle(self, request, queryset, to_status: str):
        user = request.user
        confirmation = Confirmation(
            action=ACTIONS[to_status].__name__,
            title=f"Move to {to_status}?",
            intro=f"These settlement intents will move to {to_status}. Your note is kept in "
            "each intent's metadata with your name and the time.",
            confirm_label=f"Yes, move to {to_status}",
            make_form=SettlementNoteForm,
            columns={
                "Payment": lambda intent: intent.payment_id,
                "Amount and payee": lambda intent: payment_summary(intent.metadata),
                "Status": settlement_badge,
                "Provider": SettlementIntent.get_provider_display,
            },
            preview=lambda ids: services.preview_settlement_moves(
                user=user, payment_ids=ids, to_status=to_status
            ),
            perform=lambda ids, seen, note: services.move_settlements(
                user=user, payment_ids=ids, to_status=to_status, note=note
            ),
        )
        return confirm_then_act(self, request, queryset, confirmation)

"""Settlement intents: payments queued for settlement."""

from django.contrib import admin

from storage.admin.base import TenantRowsAdmin
from storage.models import SettlementIntent


@admin.register(SettlementIntent)
class SettlementIntentAdmin(TenantRowsAdmin):
    list_display = ["payment_id", "settlement_status", "provider", "created_at", "updated_at"]
    list_filter = ["settlement_status", "provider"]

"""The review queue over lynx_drafts."""

from django.contrib import admin

from storage.admin.base import TenantRowsAdmin, short_id
from storage.models import Draft


@admin.register(Draft)
class DraftAdmin(TenantRowsAdmin):
    list_display = [
        short_id,
        "draft_type",
        "status",
        "risk_level",
        "created_by",
        "created_at",
        "request_id",
    ]
    list_filter = ["status", "risk_level", "draft_type"]

"""The admin is the portal's user interface. Spec rows come from Lynx AI: read-only here."""

from django.contrib import admin

from storage.admin import (  # noqa: F401
    accounts,
    audit_events,
    draft_reviews,
    drafts,
    executions,
    settlements,
)

admin.site.site_header = "Lynx Portal"
admin.site.site_title = "Lynx Portal"
admin.site.index_title = "Operations"

"""The admin is the portal's user interface. Spec rows come from Lynx AI: read-only here."""

from django.contrib import admin

from storage.admin import accounts, audit_events, drafts, executions, settlements  # noqa: F401

admin.site.site_header = "Lynx Portal"
admin.site.site_title = "Lynx Portal"
admin.site.index_title = "Operations"

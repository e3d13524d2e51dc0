"""The admin is the portal's user interface. Spec rows come from Lynx AI: read-only here."""

from django.contrib import admin

from storage.admin import (  # noqa: F401
    accounts,
    approval_rules,
    audit_events,
    draft_reviews,
    drafts,
    executions,
    settlements,
)

admin.site.site_header = "Lynx Portal"
admin.site.site_title = "Lynx Portal"
admin.site.index_title = "Operations"
# The lists need the width (the review queue fits a 1366-pixel window); the breadcrumbs
# and the home page lead everywhere the sidebar did.
admin.site.enable_nav_sidebar = False

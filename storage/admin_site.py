"""The portal's admin site: Django's, named for the portal, without the nav sidebar.

Outside `storage.admin`, whose modules register on it: importing the site must not import them.
"""

from django.contrib import admin
from django.utils.functional import SimpleLazyObject


class PortalSite(admin.AdminSite):
    site_header = "Lynx Portal"
    site_title = "Lynx Portal"
    index_title = "Operations"
    # The lists need the width (the review queue fits a 1366-pixel window); the breadcrumbs
    # and the home page lead everywhere the sidebar did.
    enable_nav_sidebar = False
    # The dashboard is this site's home page alone: named here rather than overriding
    # "admin/index.html", which every admin site (the benchmark's default admin too) renders.
    index_template = "admin/portal_index.html"

    def get_app_list(self, request, app_label=None):
        """Built when a page shows it (the home page), not for every page: `each_context()`
        asks for it for the sidebar, which is off, at about 1 ms of CPU a page."""
        build = super().get_app_list
        return SimpleLazyObject(lambda: build(request, app_label))

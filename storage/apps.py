from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class StorageConfig(AppConfig):
    name = "storage"
    verbose_name = "Lynx storage"

    def ready(self) -> None:
        from storage import checks  # noqa: F401  (registers the system checks)


class PortalAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the portal's site (storage/admin_site.py) as `admin.site`."""

    default = False  # `storage` itself is StorageConfig
    default_site = "storage.admin_site.PortalSite"

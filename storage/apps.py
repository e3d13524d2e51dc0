from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class StorageConfig(AppConfig):
    name = "storage"
    verbose_name = "Lynx storage"

    def ready(self) -> None:
        from storage import checks  # noqa: F401  (registers the system checks)
        from storage.review import high_risk

        post_migrate.connect(high_risk.keep_function, sender=self)


class PortalAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the portal's site (storage/admin_site.py) as `admin.site`."""

    default = False  # `storage` itself is StorageConfig
    default_site = "storage.admin_site.PortalSite"

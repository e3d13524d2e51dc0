"""The default admin of the comparison, at /bench-admin/ (lynxportal/urls.py mounts it)."""

from django.urls import path

from bench.default_admin import site

urlpatterns = [path("bench-admin/", site.urls)]

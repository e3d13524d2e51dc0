from django.conf import settings
from django.contrib import admin
from django.http import Http404
from django.urls import path
from django.views.generic import RedirectView


def no_site_pages(request, content_type_id, object_id):
    """Django's "view on site" shortcut (`admin/r/…`): no portal object has a page outside
    the admin, and the shortcut fails with a 500 on some ids instead of a 404."""
    raise Http404("Objects have no pages outside the admin.")


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/r/<path:content_type_id>/<path:object_id>/", no_site_pages),
    path("admin/", admin.site.urls),
]

if settings.LYNX_BENCH:  # the benchmark's default admin, for comparison (bench/README.md)
    from bench.urls import urlpatterns as bench_urlpatterns

    urlpatterns += bench_urlpatterns

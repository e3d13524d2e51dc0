"""The project's URLs with the benchmark's default admin, as LYNX_BENCH=1 mounts them."""

from bench.urls import urlpatterns as bench_urlpatterns
from lynxportal.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, *bench_urlpatterns]

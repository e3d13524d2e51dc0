"""The project's URLs plus three views that let isolation tests look inside a request."""

from django.db import connection
from django.http import HttpResponseForbidden, JsonResponse
from django.urls import path

from lynxportal.urls import urlpatterns as project_urlpatterns


def probe(request):
    """What the database sees inside this request: role, tenant and visible drafts (RLS alone)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, current_setting('app.tenant_id', true), pg_backend_pid(), "
            "ARRAY(SELECT draft_id::text FROM lynx_drafts)"
        )
        role, tenant_id, pid, draft_ids = cursor.fetchone()
    return JsonResponse({"role": role, "tenant_id": tenant_id, "pid": pid, "drafts": draft_ids})


def boom(request):
    """Writes (as the web role may), then fails: the write must not be committed."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE lynx_drafts SET status = 'approved'")
    raise RuntimeError("the view failed half-way")


def refuse(request):
    """Writes (as the web role may), then refuses: the write must not be committed either."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE lynx_drafts SET status = 'approved'")
    return HttpResponseForbidden("refused after a write")


urlpatterns = [
    path("_probe/", probe),
    path("_boom/", boom),
    path("_refuse/", refuse),
    *project_urlpatterns,
]

"""The project's URLs plus views that let isolation tests look inside a request."""

from django.db import DatabaseError, connection, transaction
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


def slow(request):
    """Writes, then runs one statement for `seconds`: the request's statement timeout stops it."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE lynx_drafts SET status = 'approved'")
        cursor.execute("SELECT pg_sleep(%s)", [float(request.GET["seconds"])])
    return JsonResponse({"slept": request.GET["seconds"]})


def inject(request):
    """What a SQL injection inside a request could do: run `sql` as this request's database
    session. Answers the rows of the last statement, or the SQLSTATE that refused it."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in request.POST["sql"].split(";"):
                cursor.execute(statement)
            return JsonResponse({"rows": [list(row) for row in cursor.fetchall()]})
    except DatabaseError as exc:
        return JsonResponse({"sqlstate": exc.__cause__.sqlstate})


urlpatterns = [
    path("_probe/", probe),
    path("_boom/", boom),
    path("_refuse/", refuse),
    path("_slow/", slow),
    path("_inject/", inject),
    *project_urlpatterns,
]

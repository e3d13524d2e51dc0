"""Per-request tenant isolation: the PostgREST model, in two middlewares and one mechanism.

`RequestTransactionMiddleware` (before SessionMiddleware) opens the request's transaction
as the RLS role with no tenant (`storage.tenancy.tenant_context()`, which first undoes the
session settings an earlier request's own SQL may have left on the connection): the web
process logs in as a role that holds no table privileges of its own (README, Deploy), so
the session and the signed-in user are read and saved as the RLS role too.
`TenantMiddleware` (after AuthenticationMiddleware) narrows it to the user's tenant
(`enter_tenant()`) for the rest of the request: no savepoint, and no statement of its own
when the read of the user entered that tenant already (storage/people/backend.py), as it
does on every signed-in page. Whether the request commits is decided once, at the end,
from the view's response and the final one.
"""

from django.conf import settings
from django.db import OperationalError, transaction
from django.http import HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string
from psycopg import errors

from storage.tenancy import enter_tenant, tenant_context

# The one refusal that must keep its writes: a sign-in paused by django-axes (429) keeps the
# record of the attempt that caused the pause, or the pause would never come.
THROTTLED = 429


# Set on the request when the view refused or failed, whatever outer middlewares answer then.
VIEW_REFUSED = "lynx_view_refused"


def _refused(response) -> bool:
    """A refused or failed request commits nothing: Django has already turned a view's
    exception into an error response when a middleware sees it."""
    return response.status_code >= 400 and response.status_code != THROTTLED


class RequestTransactionMiddleware:
    """The whole request in one transaction as the RLS role, seeing no tenant's rows yet."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # PostgreSQL text cannot hold NUL: refuse here rather than fail in a query.
        if where := _has_nul(request):
            return HttpResponseBadRequest(f"The {where} contains a NUL character.")
        with tenant_context(None, fresh_session=True):
            response = self.get_response(request)
            if _refused(response) or getattr(request, VIEW_REFUSED, False):
                transaction.set_rollback(True)
        return response

    def process_exception(self, request, exception):
        """A statement PostgreSQL stopped (the request's statement timeout, or cancelled by
        an operator): the page says so, and the request saves nothing (503)."""
        stopped = isinstance(exception, OperationalError) and isinstance(
            exception.__cause__, errors.QueryCanceled
        )
        if stopped:
            limit = settings.LYNX_REQUEST_STATEMENT_TIMEOUT
            context = {"seconds": f"{limit:g}" if limit else None}
            return HttpResponse(render_to_string("statement_timeout.html", context), status=503)
        return None


class TenantMiddleware:
    """Scope the view to the signed-in user's tenant (`request.tenant_id`).

    `request.tenant_id` is `""` for anonymous users and users without one; admin
    querysets also filter on it explicitly so the spec's `(tenant_id, ...)` indexes serve.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        request.tenant_id = (user.tenant_id or "") if user.is_authenticated else ""
        enter_tenant(request.tenant_id, user_id=user.pk if user.is_authenticated else None)
        response = self.get_response(request)
        # Not rolled back here: the middlewares outside (the session's save) still run queries.
        setattr(request, VIEW_REFUSED, _refused(response))
        return response


def _has_nul(request) -> str:
    """Where a NUL is ("address" or "request"), or "" if none: in the path, query or form."""
    if _nul_in(request.path, request.GET):
        return "address"
    # A posted form too (ids, actions, notes): one guard for every view, not one per field.
    if request.method == "POST" and _nul_in("", request.POST):
        return "request"
    return ""


def _nul_in(path: str, data) -> bool:
    values = [path, *data.keys(), *(v for _, vs in data.lists() for v in vs)]
    return any("\x00" in value for value in values)

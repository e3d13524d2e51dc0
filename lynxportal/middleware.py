"""Per-request tenant isolation, the PostgREST way: one transaction per request, as the RLS role."""

from django.db import transaction
from django.http import HttpResponseBadRequest

from storage.tenancy import tenant_context


class TenantMiddleware:
    """Run the whole view in one transaction as the RLS role, scoped to the user's tenant.

    Must come after AuthenticationMiddleware. `request.tenant_id` is the tenant
    (`""` for anonymous users and users without one); admin querysets also
    filter on it explicitly so the spec's `(tenant_id, ...)` indexes serve.

    A refused or failed request commits nothing: Django turns a view's
    exception into an error response before this middleware sees it, so any
    4xx or 5xx response rolls the transaction back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # PostgreSQL text cannot hold NUL: refuse here rather than fail in a query.
        if where := _has_nul(request):
            return HttpResponseBadRequest(f"The {where} contains a NUL character.")
        user = request.user
        request.tenant_id = (user.tenant_id or "") if user.is_authenticated else ""
        with tenant_context(request.tenant_id):
            response = self.get_response(request)
            if response.status_code >= 400:
                transaction.set_rollback(True)
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

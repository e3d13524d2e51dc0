"""Per-request tenant isolation (design.md §1): the PostgREST model."""

from django.db import transaction
from django.http import HttpResponseBadRequest

from storage.tenancy import tenant_context


class TenantMiddleware:
    """Run the whole view in one transaction as the RLS role, scoped to the user's tenant.

    Must come after AuthenticationMiddleware. `request.tenant_id` is the tenant
    (`""` for anonymous users and users without one); admin querysets also
    filter on it explicitly so the spec's `(tenant_id, ...)` indexes serve.

    A view that fails commits nothing: Django turns its exception into a 500
    response before this middleware sees it, so the transaction is marked for
    rollback on the exception and on any 5xx response.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            # PostgreSQL text cannot hold NUL: refuse here rather than fail in a query.
            return HttpResponseBadRequest("The address contains a NUL character.")
        user = request.user
        request.tenant_id = (user.tenant_id or "") if user.is_authenticated else ""
        with tenant_context(request.tenant_id):
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
        return response

    def process_exception(self, request, exception) -> None:
        transaction.set_rollback(True)


def _has_nul(request) -> bool:
    values = [request.path, *request.GET.keys(), *(v for _, vs in request.GET.lists() for v in vs)]
    return any("\x00" in value for value in values)

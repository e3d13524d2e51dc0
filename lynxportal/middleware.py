"""Per-request tenant isolation (design.md §1): the PostgREST model."""

from storage.tenancy import tenant_context


class TenantMiddleware:
    """Run the whole view in one transaction as the RLS role, scoped to the user's tenant.

    Must come after AuthenticationMiddleware. `request.tenant_id` is the tenant
    (`""` for anonymous users and users without one); admin querysets also
    filter on it explicitly so the spec's `(tenant_id, ...)` indexes serve.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        request.tenant_id = (user.tenant_id or "") if user.is_authenticated else ""
        with tenant_context(request.tenant_id):
            return self.get_response(request)

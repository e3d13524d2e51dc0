"""Reads. Every query on a tenant table goes through here and names its tenant.

RLS already hides other tenants' rows; the explicit `tenant_id` filter is
defence in depth, and it lets the planner use the spec's `(tenant_id, ...)`
indexes.
"""

from django.db.models import Model, QuerySet


def tenant_rows(model: type[Model], *, tenant_id: str) -> QuerySet:
    """All of `model`'s rows of one tenant; none at all without a tenant."""
    if not tenant_id:
        return model.objects.none()
    return model.objects.filter(tenant_id=tenant_id)

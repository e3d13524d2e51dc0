"""The portal's first index beyond the spec: audit events of the rare types, per tenant.

Filtering the audit list on a refusal or a run failure, and counting the result, walks
all of a tenant's events without it (README, differences from the spec). Built
CONCURRENTLY (`atomic = False`), so Lynx AI keeps writing audit events meanwhile; an
interrupted build is dropped and built again by the next migrate.
"""

from django.db import migrations, models

from storage.concurrent_operations import add_portal_index

RARE_EVENT_TYPES_INDEX = models.Index(
    fields=["tenant_id", "event_type", "-created_at"],
    name="idx_lynx_audit_events_rare_types",
    condition=models.Q(event_type__in=["refusal", "run_failure"]),
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("storage", "0019_login_throttling_grants")]

    operations = [add_portal_index("auditevent", RARE_EVENT_TYPES_INDEX)]

"""The portal's second index beyond the spec: each tenant's submitted drafts, oldest first.

The review queue and "awaiting me" list and count only submitted drafts; without it they
walk the tenant's drafts of every status (README, differences from the spec). The count of
"awaiting me" reads the recommended approvers and the maker from it, not from the rows.
Built CONCURRENTLY (`atomic = False`), so Lynx AI keeps writing drafts meanwhile; an
interrupted build is dropped and built again by the next migrate.
"""

from django.db import migrations, models

from storage.concurrent_operations import add_portal_index

SUBMITTED_DRAFTS_INDEX = models.Index(
    fields=["tenant_id", "-created_at", "draft_id"],
    name="idx_lynx_drafts_submitted",
    include=["recommended_approvers", "created_by"],
    condition=models.Q(status="submitted"),
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("storage", "0020_audit_events_rare_types_index")]

    operations = [add_portal_index("draft", SUBMITTED_DRAFTS_INDEX)]

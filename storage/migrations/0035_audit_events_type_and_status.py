"""The audit list filtered on an event type and a status: an index and the planner's statistics.

Such a pair matches few of a tenant's events, or none (a run start is never "denied"): the list
read every event of the type to find them, 0.5-1 s for the largest tenant (bench/README.md,
eleventh run). The index holds the events of every pair but the three usual ones (a tool call
that succeeded, a run's start "started" and its success "succeeded": ~86% of the events, which
a list finds near the top of the created-at index); the statistics tell the planner how few
an unusual pair's events are, which it cannot guess from each column alone. Built
CONCURRENTLY (`atomic = False`), so Lynx AI keeps writing audit events meanwhile (README,
differences from the spec).
"""

from django.db import migrations, models

from storage.concurrent_operations import PortalStatistics, add_portal_index

USUAL = [("tool_call", "succeeded"), ("run_start", "started"), ("run_success", "succeeded")]
EVENT_TYPE_STATUS_INDEX = models.Index(
    fields=["tenant_id", "event_type", "status"],
    name="idx_lynx_audit_events_type_status",
    condition=~models.Q(
        *(models.Q(event_type=kind, status=status) for kind, status in USUAL),
        _connector=models.Q.OR,
    ),
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("storage", "0034_list_count_within_a_cost")]

    operations = [
        add_portal_index("auditevent", EVENT_TYPE_STATUS_INDEX),
        PortalStatistics(
            "lynx_audit_events", "stat_lynx_audit_events_type_status", ("event_type", "status")
        ),
    ]

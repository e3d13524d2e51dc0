"""The audit list filtered on an event type and a status or a tool: an index and statistics.

An event type with a status or a tool it seldom has matches few of a tenant's events, or none
(a run start is never "denied", nor made by a tool): the list read every event of the type to
find them, 0.5-1 s for the largest tenant (bench/README.md, eleventh run). The index, by type,
status and tool, holds every event but the usual ones (a tool call that succeeded, a run's
start "started" and its success "succeeded", without a tool: ~86% of the events, which a list
finds near the top of the created-at index); the statistics tell the planner how few the
others are, which it cannot guess from each column alone. Built CONCURRENTLY (`atomic =
False`), so Lynx AI keeps writing audit events meanwhile (README, differences from the spec).
"""

from django.db import migrations, models

from storage.concurrent_operations import PortalStatistics, add_portal_index

USUAL = [
    {"event_type": "tool_call", "status": "succeeded"},
    {"event_type": "run_start", "status": "started", "tool_id__isnull": True},
    {"event_type": "run_success", "status": "succeeded", "tool_id__isnull": True},
]
EVENT_TYPE_STATUS_INDEX = models.Index(
    fields=["tenant_id", "event_type", "status", "tool_id"],
    name="idx_lynx_audit_events_type_status",
    condition=~models.Q(*(models.Q(**usual) for usual in USUAL), _connector=models.Q.OR),
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("storage", "0034_list_count_within_a_cost")]

    operations = [
        add_portal_index("auditevent", EVENT_TYPE_STATUS_INDEX),
        PortalStatistics(
            "lynx_audit_events",
            "stat_lynx_audit_events_type_status",
            ("event_type", "status", "tool_id"),
        ),
    ]

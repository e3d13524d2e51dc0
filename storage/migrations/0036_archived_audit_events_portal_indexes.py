"""The archived audit events get the live table's own indexes and statistics (0020, 0035).

The archived list has the live list's filters, over what may be most of a tenant's events once
they pass retention: for an archive of 1.9M events (one tenant's year), 13 of the 29 pairs of
event type and status took 260-575 ms, a rare type among them (bench/README.md, eleventh run).
The archive is the portal's own table: these cost only `archive_audit_events` its inserts.
"""

import importlib

from django.db import migrations, models

from storage.concurrent_operations import PortalStatistics, add_portal_index

ARCHIVE = "lynx_audit_events_archive"
LIVE_INDEXES = [
    importlib.import_module(
        "storage.migrations.0020_audit_events_rare_types_index"
    ).RARE_EVENT_TYPES_INDEX,
    importlib.import_module(
        "storage.migrations.0035_audit_events_type_and_status"
    ).EVENT_TYPE_STATUS_INDEX,
]


def on_the_archive(index: models.Index) -> models.Index:
    return models.Index(
        fields=index.fields,
        name=index.name.replace("lynx_audit_events", ARCHIVE),
        condition=index.condition,
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("storage", "0035_audit_events_type_and_status")]

    operations = [
        *(add_portal_index("archivedauditevent", on_the_archive(index)) for index in LIVE_INDEXES),
        PortalStatistics(
            ARCHIVE, f"stat_{ARCHIVE}_type_status", ("event_type", "status", "tool_id")
        ),
    ]

"""Moments as people read them, in one format everywhere (lynxportal/formats), and waits."""

from datetime import datetime, timedelta, tzinfo

from django.utils import timezone


def format_moment(value: datetime | None, *, zone: tzinfo | None = None) -> str:
    """e.g. 2026-11-25 09:50:12 UTC, in the portal's time zone (or `zone`, which a list looks
    up once for all its rows); "–" for none.

    DATETIME_FORMAT ("Y-m-d H:i:s T") written out: Django's formatter costs ten times as
    much, on every moment of every list (tests/test_moments.py holds the two together).
    """
    if value is None:
        return "–"
    local = value.astimezone(zone or timezone.get_current_timezone())
    return (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d} "
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d} {local.tzname()}"
    )


def format_wait(delta: timedelta) -> str:
    """How long something has waited, roughly: 45 min, 5 h 10 min, 3 d 4 h."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"

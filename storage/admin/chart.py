"""The dashboard's 14-day chart of executions, as an SVG drawn on the server.

No script and no CDN, so it works offline; each status has a fill pattern and a
legend entry, and every number is also written as text, so it reads without colour.
"""

from collections.abc import Callable
from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from storage.choices import ExecutionStatus
from storage.dashboard.selectors import DayCounts

BAR, GAP, TOP, PLOT, LEFT = 28, 12, 24, 150, 8
WIDTH_PER_DAY = BAR + GAP
STACK_ORDER = ["succeeded", "started", "failed", "denied"]
# Fills: a pattern per status (ids in PATTERNS below), plus a colour for those who see it.
FILLS = {
    "succeeded": "url(#pattern-succeeded)",
    "started": "url(#pattern-started)",
    "failed": "url(#pattern-failed)",
    "denied": "url(#pattern-denied)",
}
PATTERNS = """
<defs>
  <pattern id="pattern-succeeded" width="6" height="6" patternUnits="userSpaceOnUse">
    <rect width="6" height="6" fill="#7fb685"/></pattern>
  <pattern id="pattern-started" width="6" height="6" patternUnits="userSpaceOnUse">
    <rect width="6" height="6" fill="#d9d9d9"/><circle cx="3" cy="3" r="1.2" fill="#555"/></pattern>
  <pattern id="pattern-failed" width="6" height="6" patternUnits="userSpaceOnUse"
    patternTransform="rotate(45)">
    <rect width="6" height="6" fill="#f2b8b5"/>
    <rect width="2.5" height="6" fill="#a3261f"/></pattern>
  <pattern id="pattern-denied" width="6" height="6" patternUnits="userSpaceOnUse">
    <rect width="6" height="6" fill="#f5d48a"/>
    <path d="M0 0L6 6M6 0L0 6" stroke="#6b4e00" stroke-width="1.2"/></pattern>
</defs>
"""
UrlFor = Callable[[date, str | None], str | None]


def executions_chart(days: list[DayCounts], *, url_for: UrlFor) -> SafeString:
    """Stacked bars per day; `url_for(day, status)` links a bar or segment to its list."""
    most = max((day.total for day in days), default=0) or 1
    width = LEFT * 2 + WIDTH_PER_DAY * len(days)
    height = TOP + PLOT + 60
    bars = format_html_join(
        "", "{}", ((_bar(i, day, most, url_for),) for i, day in enumerate(days))
    )
    return format_html(
        '<svg id="executions-chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        'viewBox="0 0 {w} {h}" width="{w}" height="{h}" aria-labelledby="chart-title">'
        '<title id="chart-title">Executions per day by status, last {n} days</title>'
        "{patterns}{bars}{legend}</svg>",
        w=width,
        h=height,
        n=len(days),
        patterns=SafeString(PATTERNS),
        bars=bars,
        legend=_legend(y=TOP + PLOT + 36),
    )


def _bar(index: int, day: DayCounts, most: int, url_for: UrlFor) -> SafeString:
    x = LEFT + index * WIDTH_PER_DAY + GAP // 2
    bottom = TOP + PLOT
    segments, y = [], bottom
    for status in STACK_ORDER:
        count = day.by_status.get(status, 0)
        if not count:
            continue
        size = max(round(PLOT * count / most), 2)
        y -= size
        segments.append(_segment(x, y, size, day.day, status, count, url_for(day.day, status)))
    label = day.day.strftime("%m-%d")
    return format_html(
        '<g class="day" data-day="{day}">{segments}'
        '<a href="{total_url}"><text x="{cx}" y="{ty}" text-anchor="middle" font-size="12" '
        'font-weight="bold">{total}</text></a>'
        '<text x="{cx}" y="{ly}" text-anchor="middle" font-size="11">{label}</text></g>',
        day=day.day.isoformat(),
        segments=format_html_join("", "{}", ((s,) for s in segments)),
        total_url=url_for(day.day, None) or "#",
        cx=x + BAR // 2,
        ty=y - 4,
        total=day.total,
        ly=bottom + 16,
        label=label,
    )


def _segment(x, y, size, day, status, count, url) -> SafeString:
    label = ExecutionStatus(status).label.lower()
    number = (
        format_html(
            '<text x="{}" y="{}" text-anchor="middle" font-size="10" '
            'paint-order="stroke" stroke="#fff" stroke-width="3">{}</text>',
            x + BAR // 2,
            y + size / 2 + 4,
            count,
        )
        if size >= 14
        else ""
    )
    return format_html(
        '<a href="{url}" class="segment segment-{status}">'
        '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}" stroke="#333" '
        'stroke-width="0.5"><title>{day}: {count} {label}</title></rect>{number}</a>',
        url=url or "#",
        status=status,
        x=x,
        y=y,
        w=BAR,
        h=size,
        fill=FILLS[status],
        day=day.isoformat(),
        count=count,
        label=label,
        number=number,
    )


def _legend(*, y: int) -> SafeString:
    items = (
        (LEFT + i * 100, y, FILLS[status], LEFT + i * 100 + 20, y + 11, status.capitalize())
        for i, status in enumerate(STACK_ORDER)
    )
    return format_html_join(
        "",
        '<rect x="{}" y="{}" width="14" height="14" fill="{}" stroke="#333" stroke-width="0.5"/>'
        '<text x="{}" y="{}" font-size="12">{}</text>',
        items,
    )

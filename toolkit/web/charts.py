"""Charts drawn on the server as inline SVG (no script, no CDN): horizontal bars for counts per name,
a line for a month-by-month trend, and a case's deadlines on a timeline. Every text is escaped."""
from datetime import datetime

from markupsafe import Markup, escape

BAR_HEIGHT, LABEL_WIDTH, BAR_WIDTH = 22, 170, 360


def bars(counts: list[tuple[str, int]], title: str) -> Markup:
    """One bar per (name, count), the count written at its end."""
    top = max((n for _, n in counts), default=0) or 1
    height = BAR_HEIGHT * len(counts) + 30
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {LABEL_WIDTH + BAR_WIDTH + 50} {height}" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for i, (name, n) in enumerate(counts):
        y = 10 + i * BAR_HEIGHT
        width = round(BAR_WIDTH * n / top)
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end">{escape(name)}</text>'
                     f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width}" height="{BAR_HEIGHT - 6}"/>'
                     f'<text x="{LABEL_WIDTH + width + 5}" y="{y + 15}">{n}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def trend(points: list[tuple[str, int]], title: str) -> Markup:
    """A line through (month, count), the months below it, each count above its point."""
    width, height, left, bottom = 560, 200, 30, 40
    top = max((n for _, n in points), default=0) or 1
    step = (width - left - 20) / max(1, len(points) - 1)
    xy = [(left + i * step, 20 + (height - bottom - 20) * (1 - n / top)) for i, (_, n) in enumerate(points)]
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">'
             f'<title>{escape(title)}</title>'
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" class="axis"/>',
             '<polyline points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '"/>']
    for (month, n), (x, y) in zip(points, xy, strict=True):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"/><text x="{x:.1f}" y="{y - 7:.1f}" '
                     f'text-anchor="middle">{n}</text><text x="{x:.1f}" y="{height - bottom + 16}" '
                     f'text-anchor="middle" class="small">{escape(month[2:])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def timeline(start: datetime, marks: list[dict], now: datetime) -> Markup:
    """The case from 受理 to its last deadline: each stage's deadline (a tick, coloured by its outcome:
    met, late, open, overdue) and the moment it was met (a dot), today as a dashed line."""
    moments = [start, now] + [m[key] for m in marks for key in ("due", "met") if m.get(key)]
    first, last = min(moments), max(moments)
    span = (last - first).total_seconds() or 1
    width, left, row = 640, 90, 26
    height = 44 + row * len(marks)

    def x(moment: datetime) -> float:
        return left + (width - left - 20) * (moment - first).total_seconds() / span
    parts = [f'<svg class="timeline" role="img" viewBox="0 0 {width} {height}" aria-label="时限时间轴">'
             f'<title>时限时间轴</title>'
             f'<line x1="{x(now):.1f}" y1="0" x2="{x(now):.1f}" y2="{height}" class="now"/>'
             f'<text x="{x(now) + 3:.1f}" y="10" class="small">现在</text>']
    for i, mark in enumerate(marks):
        y, due, outcome = 24 + i * row, x(mark["due"]), mark["outcome"]
        parts.append(f'<text x="{left - 8}" y="{y + 4}" text-anchor="end">{escape(mark["name"])}</text>'
                     f'<line x1="{x(start):.1f}" y1="{y}" x2="{due:.1f}" y2="{y}" class="span {outcome}"/>'
                     f'<rect x="{due - 2:.1f}" y="{y - 8}" width="4" height="16" class="{outcome}"/>')
        if mark.get("met"):
            parts.append(f'<circle cx="{x(mark["met"]):.1f}" cy="{y}" r="5" class="{outcome}"/>')
    for moment, anchor in ((first, "start"), (last, "end")):
        parts.append(f'<text x="{x(moment):.1f}" y="{height - 4}" text-anchor="{anchor}" class="small">'
                     f'{moment:%m-%d %H:%M}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

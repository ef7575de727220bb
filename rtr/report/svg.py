"""Small hand-built SVG charts for the per-patient and per-lot pages.

Ten thousand patient pages cannot each go through a chart compiler (~25 ms a chart); these charts are
a few dozen elements written directly, so a page renders in well under a millisecond.
"""

import datetime as dt
import math
from dataclasses import dataclass
from html import escape

from rtr.report.formatting import fmt_num

KIND_COLOURS = {
    "collection": "#1f77b4",
    "manufacturing": "#9467bd",
    "release": "#2ca02c",
    "infusion": "#d62728",
    "response": "#ff7f0e",
    "toxicity": "#8c564b",
    "follow_up": "#7f7f7f",
}


@dataclass(frozen=True)
class Event:
    """One dated step of a patient's chain (collection, release, infusion, response, ...)."""

    date: dt.date
    label: str
    kind: str


def timeline(events: list[Event], *, width: int = 760) -> str:
    """A horizontal timeline of dated events with the vein-to-vein span drawn as a bracket."""
    if not events:
        return ""
    events = sorted(events, key=lambda e: e.date)
    first, last = events[0].date, events[-1].date
    span = max((last - first).days, 1)
    left, right, axis_y = 20, width - 20, 40
    # One label row per event: events cluster (collection, manufacture, release within weeks).
    row_h, rows = 14, len(events)
    height = axis_y + 24 + row_h * rows

    def x(d: dt.date) -> float:
        return left + (right - left) * (d - first).days / span

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="timeline">',
        f'<line x1="{left}" y1="{axis_y}" x2="{right}" y2="{axis_y}" stroke="#444"/>',
    ]
    collection = next((e for e in events if e.kind == "collection"), None)
    infusion = next((e for e in events if e.kind == "infusion"), None)
    if collection and infusion:
        x0, x1 = x(collection.date), x(infusion.date)
        days = (infusion.date - collection.date).days
        parts.append(
            f'<path d="M{x0:.1f},22 V14 H{x1:.1f} V22" fill="none" stroke="#d62728"/>'
            f'<text x="{(x0 + x1) / 2:.1f}" y="11" text-anchor="middle" font-size="11">'
            f"vein-to-vein {days} d</text>"
        )
    for i, e in enumerate(events):
        colour = KIND_COLOURS.get(e.kind, "#333")
        xe = x(e.date)
        y = axis_y + 20 + row_h * (i % rows)
        day = (e.date - first).days
        anchor = "end" if xe > (left + right) / 2 else "start"
        parts.append(
            f'<circle cx="{xe:.1f}" cy="{axis_y}" r="5" fill="{colour}"><title>{e.date} '
            f"{escape(e.label)}</title></circle>"
            f'<line x1="{xe:.1f}" y1="{axis_y + 5}" x2="{xe:.1f}" y2="{y - 10}" stroke="{colour}" '
            f'stroke-dasharray="2,2"/>'
            f'<text x="{xe:.1f}" y="{y}" font-size="11" fill="{colour}" text-anchor="{anchor}">'
            f"d{day} {escape(e.label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _finite(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) and math.isfinite(v) else None


def range_strip(value: float | None, *, spec_lower: float | None, spec_upper: float | None,
                quantiles: dict[str, float | None], width: int = 180, height: int = 20) -> str:  # fmt: skip
    """One value against the cohort (p5-p95 whiskers, p25-p75 box, median) and its spec limits."""
    pts = [_finite(v) for v in (value, spec_lower, spec_upper, *quantiles.values())]
    known = [p for p in pts if p is not None]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    pad = (hi - lo) * 0.05
    lo, hi = lo - pad, hi + pad

    def x(v: float) -> float:
        return 4 + (width - 8) * (v - lo) / (hi - lo)

    mid = height / 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="strip" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">'
    ]
    q = {k: _finite(v) for k, v in quantiles.items()}
    if q.get("p5") is not None and q.get("p95") is not None:
        parts.append(f'<line x1="{x(q["p5"]):.1f}" y1="{mid}" x2="{x(q["p95"]):.1f}" y2="{mid}" '
                     'stroke="#999"/>')  # fmt: skip
    if q.get("p25") is not None and q.get("p75") is not None:
        parts.append(f'<rect x="{x(q["p25"]):.1f}" y="{mid - 5}" '
                     f'width="{max(x(q["p75"]) - x(q["p25"]), 1):.1f}" height="10" fill="#ddd" '
                     'stroke="#999"/>')  # fmt: skip
    if q.get("p50") is not None:
        parts.append(f'<line x1="{x(q["p50"]):.1f}" y1="{mid - 5}" x2="{x(q["p50"]):.1f}" '
                     f'y2="{mid + 5}" stroke="#555"/>')  # fmt: skip
    for limit in (_finite(spec_lower), _finite(spec_upper)):
        if limit is not None:
            parts.append(f'<line x1="{x(limit):.1f}" y1="1" x2="{x(limit):.1f}" y2="{height - 1}" '
                         'stroke="#2ca02c" stroke-width="2"><title>spec limit '
                         f"{fmt_num(limit)}</title></line>")  # fmt: skip
    v = _finite(value)
    if v is not None:
        outside = (_finite(spec_lower) is not None and v < spec_lower) or (  # type: ignore[operator]
            _finite(spec_upper) is not None and v > spec_upper  # type: ignore[operator]
        )
        colour = "#d62728" if outside else "#1f77b4"
        parts.append(f'<circle cx="{x(v):.1f}" cy="{mid}" r="4" fill="{colour}">'
                     f"<title>{fmt_num(v)}</title></circle>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def trajectory(points: list[tuple[float, float]], band: list[tuple[float, float, float, float]],
               *, title: str, unit: str = "", width: int = 340, height: int = 150) -> str:  # fmt: skip
    """One lot's in-process curve (day, value) over the golden profile band (day, low, median, high)."""
    values = [v for _, v in points] + [b for row in band for b in row[1:]]
    days = [d for d, _ in points] + [row[0] for row in band]
    if not values:
        return ""
    vlo, vhi = min(values), max(values)
    if vhi == vlo:
        vlo, vhi = vlo - 1, vhi + 1
    dlo, dhi = min(days), max(max(days), min(days) + 1)
    left, top, right, bottom = 56, 18, width - 8, height - 22

    def x(d: float) -> float:
        return left + (right - left) * (d - dlo) / (dhi - dlo)

    def y(v: float) -> float:
        return bottom - (bottom - top) * (v - vlo) / (vhi - vlo)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trajectory" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">',
        f'<text x="{left}" y="12" font-size="12" font-weight="bold">{escape(title)}'
        f"{' (' + escape(unit) + ')' if unit else ''}</text>",
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#444"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#444"/>',
        f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">{fmt_num(vhi)}</text>',
        f'<text x="{left - 4}" y="{bottom}" font-size="10" text-anchor="end">{fmt_num(vlo)}</text>',
        f'<text x="{left}" y="{height - 6}" font-size="10">day {fmt_num(dlo)}</text>',
        f'<text x="{right}" y="{height - 6}" font-size="10" text-anchor="end">day {fmt_num(dhi)}</text>',
    ]
    if band:
        upper = " ".join(f"{x(d):.1f},{y(h):.1f}" for d, _, _, h in band)
        lower = " ".join(f"{x(d):.1f},{y(lo):.1f}" for d, lo, _, _ in reversed(band))
        median = " ".join(f"{x(d):.1f},{y(m):.1f}" for d, _, m, _ in band)
        parts.append(f'<polygon points="{upper} {lower}" fill="#c7e9c0" stroke="none">'
                     "<title>golden profile band (released lots)</title></polygon>"
                     f'<polyline points="{median}" fill="none" stroke="#2ca02c" '
                     'stroke-dasharray="4,2"/>')  # fmt: skip
    if points:
        line = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in points)
        parts.append(f'<polyline points="{line}" fill="none" stroke="#d62728" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)

"""A screening report as an SVG timeline: one lane per voice, coloured by consent status."""

from __future__ import annotations

from html import escape

from sostenuto.voice._types import ScreeningReport

COLOURS = {"authorised": "#2e7d32", "unauthorised": "#c62828", "unknown-voice": "#9e9e9e"}
WIDTH = 900
LEFT = 170
LANE = 28
TOP = 24


def _nice_step(duration: float) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600):
        if duration / step <= 12:
            return float(step)
    return 1200.0


def timeline_svg(report: ScreeningReport) -> str:
    """Self-contained SVG: time on x, a lane per matched performer plus one for unknown voices."""
    lanes: list[tuple[int | None, str]] = []
    for item in report.ranges:
        key = (item.performer_id, item.performer_name or "unknown voice")
        if key not in lanes:
            lanes.append(key)
    lanes.sort(key=lambda lane: (lane[0] is None, lane[1]))
    height = TOP + LANE * max(len(lanes), 1) + 30
    span = max(report.duration_s, 0.001)
    scale = (WIDTH - LEFT - 10) / span

    def x(t: float) -> float:
        return LEFT + t * scale

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="voice matches in {escape(report.filename)}">',
        f"<title>Voice matches in {escape(report.filename)}</title>",
        "<style>text{font:12px sans-serif;fill:#222}</style>",
    ]
    for row, (pid, name) in enumerate(lanes):
        y = TOP + row * LANE
        parts.append(f'<text x="4" y="{y + 17}">{escape(name)}</text>')
        parts.append(
            f'<rect x="{LEFT}" y="{y + 4}" width="{WIDTH - LEFT - 10}" height="{LANE - 8}" '
            'fill="#f3f3f3"/>'
        )
        for item in report.ranges:
            if item.performer_id != pid:
                continue
            tip = f"{item.status} {item.start:.1f}–{item.end:.1f} s"
            if item.score is not None:
                tip += f", score {item.score:.3f}"
            parts.append(
                f'<rect x="{x(item.start):.1f}" y="{y + 4}" '
                f'width="{max(x(item.end) - x(item.start), 1.5):.1f}" height="{LANE - 8}" '
                f'fill="{COLOURS[item.status]}" data-status="{item.status}">'
                f"<title>{escape(tip)}</title></rect>"
            )
    axis = TOP + LANE * max(len(lanes), 1) + 4
    parts.append(f'<line x1="{LEFT}" y1="{axis}" x2="{WIDTH - 10}" y2="{axis}" stroke="#555"/>')
    step = _nice_step(span)
    tick = 0.0
    while tick <= span + 1e-9:
        parts.append(
            f'<line x1="{x(tick):.1f}" y1="{axis}" x2="{x(tick):.1f}" y2="{axis + 5}" '
            'stroke="#555"/>'
        )
        parts.append(f'<text x="{x(tick) - 6:.1f}" y="{axis + 18}">{tick:g}s</text>')
        tick += step
    if not lanes:
        parts.append(f'<text x="{LEFT}" y="{TOP + 17}">no voice found</text>')
    parts.append("</svg>")
    return "\n".join(parts)

"""Charts for the pages, drawn on the server as SVG: no script, no dependency.

Each function takes plain numbers and returns a :class:`Chart`: the SVG (``role="img"``
with a ``<title>`` and a ``<desc>`` that say what it shows) and a table of the same figures
for screen readers, which the page shows visually hidden next to the picture. The SVG has a
``viewBox`` and no fixed size, so it fills its column; the drawing is 400 units wide so that
its text stays legible on a 390 px phone. An empty chart says so in words (no bar, no
division by zero).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from sostenuto.errors import InvalidInput

WIDTH = 400
# Horizontal bars: the label on its own line above each bar, the figure at the bar's end.
ROW = 40
BAR = 14
TOP = 8
# Columns over time: room below the plot for the date labels, above it for the legend.
PLOT_HEIGHT = 160
LEGEND = 26
AXIS = 34
# The figure written at a bar's end needs this much room to its right.
FIGURE_ROOM = 96

# Colours with at least 3:1 contrast against white (WCAG 1.4.11, graphical objects).
PERMITTED = "#1b7f3b"
DENIED = "#b3261e"
NEUTRAL = "#3b5ea5"
_ids = itertools.count(1)


@dataclass(frozen=True)
class Bar:
    """One bar: what it is, how long (any non-negative number) and the figure to print."""

    label: str
    value: float
    shown: str
    colour: str = NEUTRAL


@dataclass(frozen=True)
class Day:
    """One column of the decisions chart: a day (or week) and its answers."""

    day: dt.date
    permitted: int
    denied: int


@dataclass(frozen=True)
class Chart:
    """An SVG picture and the same figures as an HTML table, for screen readers."""

    svg: str
    table: str
    empty: bool

    def html(self) -> Markup:
        """The picture with its table, for a template (``{{ chart.html() }}``)."""
        return Markup(f'<figure class="plot">{self.svg}{self.table}</figure>')


def scale(values: Sequence[float], length: float) -> list[float]:
    """Each value as a length: the largest gets ``length``, the others in proportion; all
    zero (or none) gives zeros. Values must be finite and not negative."""
    if length < 0:
        raise InvalidInput(f"a chart length must not be negative, got {length}")
    for value in values:
        if not value >= 0 or value == float("inf"):
            raise InvalidInput(f"a chart value must be finite and not negative, got {value}")
    largest = max(values, default=0)
    if largest == 0:
        return [0.0 for _ in values]
    return [min(length, value * length / largest) for value in values]


def _text(value: str) -> str:
    return escape(value, quote=True)


def _svg(title: str, description: str, height: float, body: list[str]) -> str:
    number = next(_ids)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img"'
        f' viewBox="0 0 {WIDTH} {height:g}" width="100%" preserveAspectRatio="xMinYMin meet"'
        f' aria-labelledby="plot-{number}-title plot-{number}-desc" font-family="system-ui,'
        f' sans-serif" font-size="13">'
        f'<title id="plot-{number}-title">{_text(title)}</title>'
        f'<desc id="plot-{number}-desc">{_text(description)}</desc>'
    )
    return head + "".join(body) + "</svg>"


def _table(caption: str, headings: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f'<th scope="col">{_text(h)}</th>' for h in headings)
    body = "".join(
        "<tr>"
        + f'<th scope="row">{_text(row[0])}</th>'
        + "".join(f'<td class="num">{_text(cell)}</td>' for cell in row[1:])
        + "</tr>"
        for row in rows
    )
    # Hidden by a wrapper: a table is never narrower than its cells, so a hidden table of
    # its own would still widen the page on a phone.
    return (
        f'<div class="visually-hidden"><table><caption>{_text(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _empty(title: str, saying: str, headings: Sequence[str]) -> Chart:
    body = [f'<text x="0" y="22" fill="#5f6368">{_text(saying)}</text>']
    return Chart(_svg(title, saying, 32, body), _table(title, headings, []), True)


def bar_chart(title: str, bars: Sequence[Bar], *, what: str, empty: str) -> Chart:
    """Horizontal bars, in the order given; ``what`` heads the figures' column, ``empty`` is
    said when there is nothing to draw (no bar, or every bar zero)."""
    headings = ("Item", what)
    if not bars or all(bar.value == 0 for bar in bars):
        return _empty(title, empty, headings)
    lengths = scale([bar.value for bar in bars], WIDTH - FIGURE_ROOM)
    body = []
    for row, (bar, length) in enumerate(zip(bars, lengths, strict=True)):
        top = TOP + row * ROW
        body.append(
            f'<g class="bar"><text x="0" y="{top + 12}" fill="#1d1d1f">{_text(bar.label)}</text>'
            f'<rect x="0" y="{top + 17}" width="{length:.2f}" height="{BAR}"'
            f' fill="{bar.colour}" data-value="{bar.value:g}"/>'
            f'<text x="{length + 6:.2f}" y="{top + 28}" fill="#1d1d1f">{_text(bar.shown)}</text>'
            "</g>"
        )
    listed = "; ".join(f"{bar.label}: {bar.shown}" for bar in bars)
    svg = _svg(title, f"{what} by item. {listed}.", TOP + len(bars) * ROW + 4, body)
    return Chart(svg, _table(title, headings, [(bar.label, bar.shown) for bar in bars]), False)


def decisions_chart(title: str, days: Sequence[Day], *, per: str = "day") -> Chart:
    """Columns over time, permitted below and denied stacked above, one column per entry of
    ``days`` (in the order given; the caller fills days without answers with zeros)."""
    headings = (per.capitalize(), "Permitted", "Denied")
    if not days or all(d.permitted == 0 and d.denied == 0 for d in days):
        return _empty(title, "No consent decisions in this period.", headings)
    heights = scale([d.permitted + d.denied for d in days], PLOT_HEIGHT)
    slot = WIDTH / len(days)
    gap = min(2.0, slot / 4)
    base = LEGEND + PLOT_HEIGHT
    body = [
        f'<rect x="0" y="4" width="12" height="12" fill="{PERMITTED}"/>'
        '<text x="17" y="15" fill="#1d1d1f">permitted</text>'
        f'<rect x="100" y="4" width="12" height="12" fill="{DENIED}"/>'
        '<text x="117" y="15" fill="#1d1d1f">denied</text>',
        f'<line x1="0" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#5f6368"/>',
    ]
    for column, (day, height) in enumerate(zip(days, heights, strict=True)):
        total = day.permitted + day.denied
        low = height * day.permitted / total if total else 0.0
        x = column * slot + gap / 2
        body.append(
            f'<g class="column" data-day="{day.day.isoformat()}">'
            f'<rect class="permitted" x="{x:.2f}" y="{base - low:.2f}" width="{slot - gap:.2f}"'
            f' height="{low:.2f}" fill="{PERMITTED}" data-value="{day.permitted}"/>'
            f'<rect class="denied" x="{x:.2f}" y="{base - height:.2f}" width="{slot - gap:.2f}"'
            f' height="{height - low:.2f}" fill="{DENIED}" data-value="{day.denied}"/></g>'
        )
    # Dates under the first and last columns only: more would overlap on a phone.
    first, last = days[0].day.isoformat(), days[-1].day.isoformat()
    body.append(f'<text x="0" y="{base + 18}" fill="#1d1d1f">{first}</text>')
    if len(days) > 1:
        body.append(
            f'<text x="{WIDTH}" y="{base + 18}" text-anchor="end" fill="#1d1d1f">{last}</text>'
        )
    permitted = sum(d.permitted for d in days)
    denied = sum(d.denied for d in days)
    busiest = max(d.permitted + d.denied for d in days)
    description = (
        f"From {first} to {last}, {permitted} permitted and {denied} denied in all;"
        f" the busiest {per} had {busiest}."
    )
    rows = [(d.day.isoformat(), str(d.permitted), str(d.denied)) for d in days]
    svg = _svg(title, description, base + AXIS - 8, body)
    return Chart(svg, _table(title, headings, rows), False)


def days_between(
    first: dt.date, last: dt.date, counts: dict[dt.date, tuple[int, int]]
) -> list[Day]:
    """Every day from ``first`` to ``last`` with its (permitted, denied), zeros where none."""
    if last < first:
        raise InvalidInput(f"a chart's period ends ({last}) before it begins ({first})")
    span = (last - first).days + 1
    return [
        Day(day, *counts.get(day, (0, 0)))
        for day in (first + dt.timedelta(days=n) for n in range(span))
    ]


# What each status of a corpus screening means, in the order the chart shows them.
SCREENING_OUTCOMES: tuple[tuple[str, str, str], ...] = (
    ("permitted", "Identified, permitted", PERMITTED),
    ("denied", "Identified, denied", DENIED),
    ("undecided", "Identified, undecided", NEUTRAL),
    ("unregistered", "Not identified", "#5f6368"),
    ("unreadable", "Unreadable", "#8a5a00"),
)


def screening_chart(summary: dict[str, int]) -> Chart:
    """A corpus screening's files by outcome."""
    total = sum(summary.values())
    bars = [
        Bar(label, summary.get(status, 0), _files(summary.get(status, 0), total), colour)
        for status, label, colour in SCREENING_OUTCOMES
    ]
    return bar_chart("Screening outcomes", bars, what="Files", empty="No file was screened.")


def _files(count: int, total: int) -> str:
    share = f" ({100 * count / total:.0f}%)" if total else ""
    return f"{count} file{'' if count == 1 else 's'}{share}"

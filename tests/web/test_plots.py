"""The SVG charts: well-formed, named for assistive technology, bars in proportion to the
data, and an empty state that draws nothing (and divides by nothing)."""

from __future__ import annotations

import datetime as dt
import itertools
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sostenuto.errors import InvalidInput
from sostenuto.web import plots

SVG = "{http://www.w3.org/2000/svg}"


def _parse(chart: plots.Chart) -> ET.Element:
    root = ET.fromstring(chart.svg)
    assert root.tag == f"{SVG}svg"
    return root


def _named(root: ET.Element) -> tuple[str, str]:
    """The title and description the SVG is labelled by, checked to be referenced."""
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert root.get("width") == "100%" and root.get("viewBox", "").startswith("0 0 400 ")
    return title.text or "", desc.text or ""


def _widths(root: ET.Element) -> list[float]:
    return [float(rect.get("width", "0")) for rect in root.iter(f"{SVG}rect")]


def test_bars_are_proportional_to_their_values_and_labelled() -> None:
    bars = [
        plots.Bar("Aurora Audio Labs", 300, "€3.00"),
        plots.Bar("Borealis <AI> & Co", 150, "€1.50"),
        plots.Bar("Cumulus", 75, "€0.75"),
    ]
    chart = plots.bar_chart("Money by source", bars, what="Net amount", empty="No money.")
    root = _parse(chart)
    title, desc = _named(root)
    assert title == "Money by source"
    assert "Borealis <AI> & Co: €1.50" in desc  # escaped in the markup, intact once parsed
    widths = _widths(root)
    assert widths[0] == pytest.approx(plots.WIDTH - plots.FIGURE_ROOM)
    assert widths[1] == pytest.approx(widths[0] / 2, abs=0.01)
    assert widths[2] == pytest.approx(widths[0] / 4, abs=0.01)
    # The same figures as a table for screen readers, also well-formed.
    hidden = ET.fromstring(chart.table)
    assert hidden.get("class") == "visually-hidden"
    table = hidden.find("table")
    assert table is not None
    rows = [[cell.text for cell in row] for row in table.iter("tr")]
    assert rows == [
        ["Item", "Net amount"],
        ["Aurora Audio Labs", "€3.00"],
        ["Borealis <AI> & Co", "€1.50"],
        ["Cumulus", "€0.75"],
    ]
    assert not chart.empty
    ET.fromstring(str(chart.html()))  # the figure a page inlines parses whole


@pytest.mark.parametrize(
    "bars", [[], [plots.Bar("nobody", 0, "€0.00"), plots.Bar("no one", 0, "€0.00")]]
)
def test_an_empty_bar_chart_says_so_and_draws_no_bar(bars: list[plots.Bar]) -> None:
    chart = plots.bar_chart("Money by source", bars, what="Net amount", empty="No money yet.")
    root = _parse(chart)
    _, desc = _named(root)
    assert chart.empty and desc == "No money yet."
    assert _widths(root) == []
    assert "No money yet." in "".join(root.itertext())


def test_the_decisions_chart_stacks_denials_on_permissions_per_day() -> None:
    first = dt.date(2026, 3, 1)
    counts = {first: (6, 2), dt.date(2026, 3, 3): (0, 4)}
    days = plots.days_between(first, dt.date(2026, 3, 4), counts)
    assert [(d.day.day, d.permitted, d.denied) for d in days] == [
        (1, 6, 2),
        (2, 0, 0),
        (3, 0, 4),
        (4, 0, 0),
    ]
    chart = plots.decisions_chart("Decisions", days)
    root = _parse(chart)
    _, desc = _named(root)
    assert "6 permitted and 6 denied" in desc and "busiest day had 8" in desc
    columns = {g.get("data-day"): g for g in root.iter(f"{SVG}g")}
    assert set(columns) == {"2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"}

    def heights(day: str) -> tuple[float, float]:
        permitted, denied = columns[day].iter(f"{SVG}rect")
        return float(permitted.get("height", "")), float(denied.get("height", ""))

    assert heights("2026-03-01") == pytest.approx((120.0, 40.0))  # 8 is the tallest: 160
    assert heights("2026-03-02") == (0.0, 0.0)
    assert heights("2026-03-03") == pytest.approx((0.0, 80.0))
    table = ET.fromstring(chart.table)
    assert [c.text for c in list(table.iter("tr"))[1]] == ["2026-03-01", "6", "2"]


def test_a_period_without_decisions_is_an_empty_chart() -> None:
    days = plots.days_between(dt.date(2026, 3, 1), dt.date(2026, 3, 30), {})
    chart = plots.decisions_chart("Decisions", days)
    root = _parse(chart)
    _named(root)
    assert chart.empty and _widths(root) == []
    assert plots.decisions_chart("Decisions", []).empty


def test_a_period_that_ends_before_it_begins_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"ends .* before it begins"):
        plots.days_between(dt.date(2026, 3, 2), dt.date(2026, 3, 1), {})


def test_the_screening_chart_names_every_outcome() -> None:
    summary = {"permitted": 3, "denied": 1, "undecided": 0, "unregistered": 4, "unreadable": 0}
    chart = plots.screening_chart(summary)
    root = _parse(chart)
    texts = "".join(root.itertext())
    for label in ("Identified, permitted", "Identified, denied", "Not identified", "Unreadable"):
        assert label in texts
    assert "4 files (50%)" in texts and "1 file (12%)" in texts
    widths = _widths(root)
    assert widths[0] == pytest.approx(widths[3] * 3 / 4)
    assert plots.screening_chart({}).empty


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_scale_refuses_values_it_cannot_draw(bad: float) -> None:
    with pytest.raises(InvalidInput, match="finite and not negative"):
        plots.scale([1.0, bad], 100)


@given(
    values=st.lists(
        st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False),
        max_size=50,
    ),
    length=st.floats(min_value=1, max_value=1e4),
)
def test_scaling_keeps_proportions_within_the_length(values: list[float], length: float) -> None:
    scaled = plots.scale(values, length)
    assert len(scaled) == len(values)
    assert all(0 <= x <= length for x in scaled)
    largest = max(values, default=0)
    if largest == 0:
        assert all(x == 0 for x in scaled)
        return
    assert max(scaled) == pytest.approx(length)
    for value, x in zip(values, scaled, strict=True):
        assert x == pytest.approx(value / largest * length, rel=1e-9, abs=1e-9)
    # Order is kept: a larger value never gets a shorter bar.
    pairs = sorted(zip(values, scaled, strict=True))
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(pairs))

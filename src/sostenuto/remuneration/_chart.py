"""The "where the money came from" chart of a statement, as an SVG string for the page."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sostenuto.remuneration._money import minor_exponent

_MAX_BARS = 12


def sources_chart_svg(document: Mapping[str, Any]) -> str:
    """Horizontal bars, one per source (largest first; the tail summed as "other"), one panel
    per currency. Empty string when the statement has no money."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no display

    by_currency: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for source in document.get("sources", ()):
        if source["amount_minor"]:
            by_currency[source["currency"]][source["label"]] += int(source["amount_minor"])
    if not by_currency:
        return ""
    panels = sorted(by_currency.items())
    heights = [min(len(items), _MAX_BARS + 1) for _, items in panels]
    figure = Figure(figsize=(7.5, 0.9 + 0.38 * sum(heights) + 0.6 * len(panels)))
    axes = figure.subplots(len(panels), 1, squeeze=False, height_ratios=heights)
    for (currency, items), (ax,) in zip(panels, axes, strict=True):
        ranked = sorted(items.items(), key=lambda kv: (-kv[1], kv[0]))
        if len(ranked) > _MAX_BARS + 1:
            rest = sum(v for _, v in ranked[_MAX_BARS:])
            ranked = [*ranked[:_MAX_BARS], (f"{len(items) - _MAX_BARS} others", rest)]
        scale = 10 ** minor_exponent(currency)
        labels = [label for label, _ in ranked][::-1]
        # Display only: the bar lengths are major units; the page's tables keep exact amounts.
        values = [amount / scale for _, amount in ranked][::-1]
        ax.barh(labels, values, color="#3b6ea5")
        for y, value in enumerate(values):
            ax.text(value, y, f" {value:,.{minor_exponent(currency)}f}", va="center", fontsize=8)
        ax.set_xlabel(currency)
        ax.spines[["top", "right"]].set_visible(False)
        ax.margins(x=0.25)
        ax.tick_params(axis="y", labelsize=8)
    figure.suptitle("Where the money came from", fontsize=11)
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    return svg[svg.find("<svg") :]

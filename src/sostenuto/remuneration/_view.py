"""A statement made readable: formatted amounts, a title and the chart, for pages and files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sostenuto.remuneration._chart import sources_chart_svg
from sostenuto.remuneration._finance import (
    STATEMENT_TITLES,
    finance_table,
    format_amount,
    party_label,
)


def statement_view(
    document: Mapping[str, Any],
    *,
    log_entries: list[dict[str, Any]] | None = None,
    titles: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Everything a page shows: title, party, totals and lines with amounts formatted for
    finance (thousands separators, the currency) and recordings' ``titles`` by ISRC."""
    party = document["party"]
    table = finance_table(document, titles or {})
    return {
        "title": STATEMENT_TITLES.get(party["kind"], "Statement"),
        "party": party,
        "party_label": party_label(party),
        "period": document["period"],
        "start": document.get("start"),
        "end": document.get("end"),
        "totals": [format_amount(v, c) for c, v in sorted(document.get("totals", {}).items())],
        "held": [format_amount(v, c) for c, v in sorted(document.get("held_minor", {}).items())],
        "table": table,
        "columns": [c.heading for c in table.columns],
        "rows": table.rows,
        "chart_svg": sources_chart_svg(document),
        "unlicensed": list(document.get("unlicensed", ())),
        "log_entries": log_entries or [],
    }

"""A statement made readable: formatted amounts, a title and the chart, for pages and files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sostenuto.remuneration._chart import sources_chart_svg
from sostenuto.remuneration._money import format_minor

_TITLES = {
    "performer": "Performer statement",
    "cmo": "CMO statement",
    "licensee": "Licensee statement",
}


def statement_view(
    document: Mapping[str, Any], *, log_entries: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Everything a page shows: title, party, totals and lines with amounts formatted."""
    party = document["party"]
    lines = list(document.get("lines", ()))
    columns: list[str] = []
    for line in lines:
        columns.extend(k for k in line if k not in columns)

    def cell(line: Mapping[str, Any], column: str) -> str:
        value = line.get(column, "")
        if column.endswith("_minor") and isinstance(value, int) and "currency" in line:
            return format_minor(value, str(line["currency"]))
        return "" if value is None or value == -1 else str(value)

    return {
        "title": _TITLES.get(party["kind"], "Statement"),
        "party": party,
        "period": document["period"],
        "start": document.get("start"),
        "end": document.get("end"),
        "totals": [format_minor(v, c) for c, v in sorted(document.get("totals", {}).items())],
        "held": [format_minor(v, c) for c, v in sorted(document.get("held_minor", {}).items())],
        "columns": [c.removesuffix("_minor") for c in columns],
        "rows": [[cell(line, c) for c in columns] for line in lines],
        "chart_svg": sources_chart_svg(document),
        "unlicensed": list(document.get("unlicensed", ())),
        "log_entries": log_entries or [],
    }

"""Printing helpers shared by the commands: JSON or a table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


def print_json(value: Any) -> None:
    print(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode())


def print_table(rows: Iterable[Mapping[str, Any]], *, title: str | None = None) -> None:
    rows = list(rows)
    if not rows:
        console.print("[dim](nothing)[/dim]")
        return
    table = Table(title=title)
    for column in rows[0]:
        table.add_column(str(column))
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(table)

"""Printing shared by the commands: JSON under ``--json``, tables for people otherwise."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from sostenuto.cli import _context

console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # messages whole, for grep and logs

_CELL = 60  # characters of a nested value shown in a table cell


def print_json(value: Any) -> None:
    print(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode())


def plain(value: Any) -> Any:
    """Service objects (dataclasses, dates) as the JSON values the API would answer."""
    return orjson.loads(orjson.dumps(value, default=str))


def print_table(rows: Iterable[Mapping[str, Any]], *, title: str | None = None) -> None:
    rows = list(rows)
    if not rows:
        console.print("[dim](nothing)[/dim]")
        return
    columns = list(dict.fromkeys(key for row in rows for key in row))
    table = Table(title=title)
    for column in columns:
        table.add_column(str(column), overflow="fold")  # an id folds, never loses its end
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    console.print(table)


def emit(value: Any, *, title: str | None = None) -> None:
    """The one way a command prints its answer: the JSON itself under ``--json``, else a
    table (a list, a page of a list, or one object's fields)."""
    if _context.json_output():
        print_json(value)
        return
    if isinstance(value, Mapping) and isinstance(value.get("items"), list):
        print_table(value["items"], title=title)
        rest = {
            k: v for k, v in value.items() if k not in ("items", "next_cursor") and v is not None
        }
        if rest:
            _fields(rest)
        if value.get("next_cursor"):
            console.print(f"[dim]more: --cursor {value['next_cursor']}[/dim]", highlight=False)
    elif isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
        print_table(value, title=title)
    elif isinstance(value, Mapping):
        _fields(value, title=title)
    else:
        print(value)


def _fields(value: Mapping[str, Any], *, title: str | None = None) -> None:
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, field in value.items():
        table.add_row(str(key), _cell(field, wide=True))
    console.print(table)


def _cell(value: Any, *, wide: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, str | int | float | bool):
        return str(value)
    text = orjson.dumps(value, default=str).decode()
    limit = _CELL * 4 if wide else _CELL
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""JSON in and out: orjson when the environment has it (3-10x faster on 10^4-item batch
answers), the standard library otherwise. It is never a dependency of the client."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def _stdlib_dumps(value: Any) -> bytes:
    return json.dumps(value, default=_default, separators=(",", ":")).encode()


def _choose() -> tuple[Callable[[Any], bytes], Callable[[bytes], Any]]:
    try:
        import orjson
    except ImportError:
        return _stdlib_dumps, json.loads

    def dumps(value: Any) -> bytes:
        # orjson writes dates itself; Paths and the rest go through the same default.
        return orjson.dumps(value, default=_default)

    return dumps, orjson.loads


dumps, loads = _choose()

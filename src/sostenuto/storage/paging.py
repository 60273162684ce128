"""One pagination shape for every listing: keyset pages with opaque cursors.

A :class:`Page` holds ``items``, ``next_cursor`` (null on the last page) and ``total`` (only
where counting is cheap, else null). A cursor is the base64url of a small JSON document: the
listing's name and a digest of its filters (so a cursor from one query is refused on
another) and the sort key of the last item returned. Listings continue *after* that key
(``WHERE key > :last ORDER BY key LIMIT n``), never with ``OFFSET``, so each page costs the
same however deep it lies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import orjson

from sostenuto.errors import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_CURSOR_LENGTH = 2048

Key = tuple[str | int, ...]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: its items, the cursor of the next page, and maybe the total."""

    items: list[T]
    next_cursor: str | None
    total: int | None = field(default=None)


def check_limit(limit: int) -> int:
    """The page size asked for, 1 to :data:`MAX_LIMIT`."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"invalid limit {limit}: a page holds 1 to {MAX_LIMIT} items",
            details={"field": "limit", "value": limit},
        )
    return limit


def query_tag(listing: str, filters: dict[str, Any]) -> str:
    """A short digest naming the listing and its filters (order-free, ``None`` left out)."""
    kept = {name: value for name, value in sorted(filters.items()) if value is not None}
    text = orjson.dumps([listing, kept], default=str, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(text, digest_size=8).hexdigest()


def encode_cursor(tag: str, key: Sequence[str | int]) -> str:
    """The opaque cursor continuing a listing tagged ``tag`` after ``key``."""
    text = orjson.dumps({"q": tag, "k": list(key)})
    return base64.urlsafe_b64encode(text).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str | None, tag: str, arity: int) -> Key | None:
    """The key a cursor continues after (``None`` for the first page).

    Raises :class:`InvalidInput` when the cursor is not one this API wrote, or when it was
    written for another listing or other filters.
    """
    if cursor is None or cursor == "":
        return None
    bad = InvalidInput(
        "invalid cursor: pass back the next_cursor of a previous page unchanged",
        details={"field": "cursor"},
    )
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        document = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise bad from None
    if not isinstance(document, dict) or not isinstance(document.get("k"), list):
        raise bad
    if document.get("q") != tag:
        raise InvalidInput(
            "invalid cursor: it belongs to another listing or other filters;"
            " start again without a cursor",
            details={"field": "cursor"},
        )
    key = document["k"]
    if len(key) != arity or not all(
        isinstance(part, str | int) and not isinstance(part, bool) for part in key
    ):
        raise bad
    return tuple(key)


def page_of(
    rows: Sequence[Any],
    limit: int,
    tag: str,
    key_of: Any,
    convert: Any,
    total: int | None = None,
) -> Page[Any]:
    """Build a page from up to ``limit + 1`` rows read in key order (the extra row only tells
    that another page follows)."""
    more = len(rows) > limit
    kept = rows[:limit]
    next_cursor = encode_cursor(tag, key_of(kept[-1])) if more and kept else None
    return Page([convert(row) for row in kept], next_cursor, total)

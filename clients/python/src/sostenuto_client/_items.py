"""Corpus items and their outcomes: what goes into a consent filter and what comes out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from sostenuto_client._errors import UsageError

Status = Literal["permitted", "denied", "unregistered", "unidentified", "invalid"]
"""``permitted``: the licensee may use it (the only status ever yielded by ``filter`` or
declared); ``denied``: the registry says no; ``unregistered``: no recording under that ISRC or
id; ``unidentified``: the item names no ISRC or recording id; ``invalid``: a malformed ISRC."""

STATUSES: tuple[Status, ...] = ("permitted", "denied", "unregistered", "unidentified", "invalid")

_ISRC_SHAPE = re.compile(r"[A-Z]{2}[A-Z0-9]{3}[0-9]{7}")
_SEPARATORS = str.maketrans("", "", "- \t")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def normalise_isrc(value: str) -> str | None:
    """The 12-character upper-case ISRC the server stores, or None when ``value`` is not
    shaped like one (``es-a7q-19-00101`` and ``ISRC ES A7Q 19 00101`` are ``ESA7Q1900101``)."""
    if len(value) == 12 and _ISRC_SHAPE.fullmatch(value):
        return value  # already in the stored form: the common case, kept cheap
    compact = value.translate(_SEPARATORS).upper()
    if compact.startswith("ISRC") and len(compact) == 16:
        compact = compact[4:]
    return compact if _ISRC_SHAPE.fullmatch(compact) else None


# Not frozen: a frozen dataclass's __init__ costs several times more, and a corpus has 10^7.
@dataclass(slots=True)
class CorpusItem:
    """One file of a corpus: the recording it is (ISRC or registry id, if known), its content
    hash (needed to declare it in a dataset manifest), its source and where it lives."""

    isrc: str | None = None
    recording_id: int | None = None
    sha256: str | None = None
    source: str = "licensed"
    path: str | None = None

    def __post_init__(self) -> None:
        if self.sha256 is not None and not _SHA256.fullmatch(self.sha256):
            raise UsageError(f"sha256 must be 64 lower-case hex digits, got {self.sha256!r}")
        if self.recording_id is not None and (
            isinstance(self.recording_id, bool)
            or not isinstance(self.recording_id, int)
            or self.recording_id < 1
        ):
            raise UsageError(f"recording_id must be a positive integer, got {self.recording_id!r}")


_new = object.__new__


def isrc_item(isrc: str) -> CorpusItem:
    """``CorpusItem(isrc=isrc)`` for an ISRC already checked, at a third of the cost (the
    filter makes one per permitted item)."""
    item: CorpusItem = _new(CorpusItem)
    item.isrc = isrc
    item.recording_id = item.sha256 = item.path = None
    item.source = "licensed"
    return item


ItemLike = CorpusItem | str | int
"""A filter takes ISRCs (str), recording ids (int) or :class:`CorpusItem` s."""


def as_item(value: ItemLike) -> CorpusItem:
    if isinstance(value, CorpusItem):
        return value
    if isinstance(value, str):
        return CorpusItem(isrc=value)
    if isinstance(value, int) and not isinstance(value, bool):
        return CorpusItem(recording_id=value)
    raise UsageError(f"an item is an ISRC, a recording id or a CorpusItem, not {value!r}")


@dataclass(slots=True)
class Outcome:
    """The consent answer for one item, at its position ``index`` in the input."""

    index: int
    item: CorpusItem
    status: Status
    decision_id: str | None = None
    recording_id: int | None = None
    isrc: str | None = None
    reason: str = ""

    @property
    def permitted(self) -> bool:
        return self.status == "permitted"

"""The filter's checkpoint: an append-only CSV journal, one row per input item, in input order.

Rows are written a chunk at a time; a progress mark says how many items are done with (a
yielded item once the caller asks for the next one), so a killed process loses at most the
item it was handling: on restart the mark is how many input items to skip. The journal
is also the filter's report (every item with its status and reason) and the source of the
dataset manifest, so what is declared is exactly what was yielded, each file once.
"""

from __future__ import annotations

import csv
import functools
import json
import mmap
import os
import re
import struct
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from sostenuto_client._errors import UsageError
from sostenuto_client._items import STATUSES, CorpusItem, Outcome, Status

MAGIC = "#sostenuto-filter 1 "
COLUMNS = (
    "index",
    "status",
    "isrc",
    "recording_id",
    "decision_id",
    "sha256",
    "source",
    "path",
    "reason",
)


PROGRESS = struct.Struct("<Q")  # the progress file: how many input items are done with
_UNSAFE = re.compile(r'[",\r\n]')


def field(value: str | None) -> str:
    """A CSV field: quoted only when it must be (most are ISRCs, ids and hashes)."""
    if not value:
        return ""
    if _UNSAFE.search(value) is None:
        return value
    # One row per line, always: the restart logic counts lines.
    flat = value.replace("\r", " ").replace("\n", " ").replace('"', '""')
    return f'"{flat}"'


def row_of(outcome: Outcome) -> str:
    """The journal line of ``outcome``, newline included. Answer fields (normalised ISRC,
    ids, hashes) need no quoting; what the caller gave (paths, raw ISRCs) may."""
    item = outcome.item
    isrc = outcome.isrc or (field(item.isrc) if item.isrc else "")
    path = field(item.path) if item.path else ""
    recording_id = outcome.recording_id or item.recording_id or ""
    return (
        f"{outcome.index},{outcome.status},{isrc},{recording_id},"
        f"{outcome.decision_id or ''},{item.sha256 or ''},{cached(item.source)},{path},"
        f"{cached(outcome.reason)}\n"
    )


@functools.lru_cache(maxsize=4096)
def cached(value: str) -> str:
    # Sources and reasons repeat (a batch has few bases): quote each once.
    return field(value)


def outcome_of(row: Sequence[str]) -> Outcome:
    index, status, isrc, recording_id, decision_id, sha256, source, path, reason = row
    if status not in STATUSES:
        raise UsageError(f"journal row {index}: unknown status {status!r}")
    return Outcome(
        index=int(index),
        item=CorpusItem(
            isrc=isrc or None,
            recording_id=int(recording_id) if recording_id else None,
            sha256=sha256 or None,
            source=source or "licensed",
            path=path or None,
        ),
        status=status,
        decision_id=decision_id or None,
        recording_id=int(recording_id) if recording_id else None,
        isrc=isrc or None,
        reason=reason,
    )


def _progress_path(path: Path) -> Path:
    return path.with_name(path.name + ".progress")


def _read_progress(path: Path) -> int:
    progress = _progress_path(path)
    if not progress.exists():
        return 0
    data = progress.read_bytes()
    return int(struct.unpack("<Q", data[:8])[0]) if len(data) >= 8 else 0


class Journal:
    """An open journal: resumes an existing one (after checking it belongs to the same
    question) or starts a new one.

    Rows are appended a chunk at a time (one system call), before any of them is handed
    out; how many items are done lives apart, in an 8-byte ``<journal>.progress`` file
    mapped into memory, so marking an item done is a store, not a system call, and still
    survives a SIGKILL (the page belongs to the kernel's cache). Rows past the progress mark
    are items decided but not yet handed out: a resumed run drops them and asks again.
    """

    def __init__(self, path: Path, params: Mapping[str, Any]) -> None:
        self.path = path
        self.params = dict(params)
        self.done = 0
        self.counts: dict[Status, int] = dict.fromkeys(STATUSES, 0)
        header = (MAGIC + json.dumps(self.params, sort_keys=True) + "\n").encode()
        if path.exists() and path.stat().st_size > 0:
            self._resume(header)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(header + (",".join(COLUMNS) + "\n").encode())
        progress = _progress_path(path)
        progress.write_bytes(struct.pack("<Q", self.done))
        self.progress_fd = os.open(progress, os.O_RDWR)
        self.progress = mmap.mmap(self.progress_fd, 8)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)

    def _resume(self, header: bytes) -> None:
        done = _read_progress(self.path)
        with self.path.open("rb") as existing:
            first = existing.readline()
            if first != header:
                raise UsageError(
                    f"{self.path} is the checkpoint of another filter "
                    f"({first.decode(errors='replace').strip()}); use a new checkpoint file"
                )
            existing.readline()  # the column names
            complete = existing.tell()
            for line in existing:
                if self.done == done or not line.endswith(b"\n"):
                    break
                row = next(csv.reader([line.decode()]))
                self.counts[cast(Status, row[1])] += 1
                self.done += 1
                complete = existing.tell()
        os.truncate(self.path, complete)

    def append(self, rows: str) -> None:
        """Write the rows of a chunk about to be handed out, in one system call."""
        if rows:
            os.write(self._fd, rows.encode())

    def mark(self, done: int) -> None:
        """The first ``done`` input items are done with."""
        self.done = done
        PROGRESS.pack_into(self.progress, 0, done)

    def close(self) -> None:
        if self._fd >= 0:
            self.progress.close()
            os.close(self.progress_fd)
            os.close(self._fd)
            self._fd = -1


def read_outcomes(path: Path, status: Status | None = None) -> Iterator[Outcome]:
    """The outcomes of the items done with, in input order (those of one status, if given)."""
    done = _read_progress(path)
    with path.open(newline="") as source:
        if not source.readline().startswith(MAGIC):
            raise UsageError(f"{path} is not a sostenuto filter checkpoint")
        reader = csv.reader(source)
        next(reader, None)  # the column names
        for number, row in enumerate(reader):
            if number >= done or len(row) != len(COLUMNS):
                break
            if status is None or row[1] == status:
                yield outcome_of(row)

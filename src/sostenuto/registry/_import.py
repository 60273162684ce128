"""Bulk import of a CMO's catalogue from CSV or DDEX-style JSON.

The file is streamed: rows are validated in Python, grouped by recording, and written in
chunks (SQLAlchemy Core ``executemany``; ``COPY`` on PostgreSQL, see ``_chunk_writer``), one
transaction per chunk. A crash loses at most
the chunk in flight and never leaves half of one; a re-run of the same file changes nothing.
"""

from __future__ import annotations

import csv
import gc
import io
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from sostenuto.audit import record_change
from sostenuto.auth import Principal
from sostenuto.errors import InvalidInput, NotFound
from sostenuto.identify import ShardedIndex, open_catalogue
from sostenuto.registry._chunk_writer import ChunkResult, PerformerIndex, write_chunk
from sostenuto.registry._grouping import Group, chunks, groups
from sostenuto.registry._import_audio import (
    AUDIO_CHUNK,
    POOL_FROM_FILES,
    FileAudio,
    audio_workers,
    prepare_audio,
    store_audio,
)
from sostenuto.registry._readers import (
    ParsedRow,
    RowError,
    read_csv,
    read_ddex_array,
    read_ddex_lines,
)
from sostenuto.settings import Settings, get_settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Cmo

FORMATS = ("csv", "ddex-json")
DEFAULT_CHUNK = 10_000
MAX_CHUNK = 20_000  # keeps every IN (...) list below SQLite's 32 766 bound parameters
SQLITE_CACHE_KIB = 262_144  # 256 MiB of page cache on the import's own connection


@dataclass
class ImportReport:
    """What an import did: recordings imported, updated, unchanged, and the rows it skipped."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    performers_created: int = 0
    contributions_written: int = 0
    fingerprinted: int = 0  # recordings whose audio (``audio_path``) was fingerprinted
    seconds: float = 0.0

    @property
    def recordings(self) -> int:
        return self.imported + self.updated + self.unchanged

    @property
    def rate(self) -> float:
        """Recordings per second, over the whole run."""
        return self.recordings / self.seconds if self.seconds > 0 else 0.0


def detect_format(path: Path, head: bytes) -> str:
    """``csv`` or ``ddex-json``, from the file name, else from its first character."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".json", ".jsonl", ".ndjson"):
        return "ddex-json"
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "ddex-json" if first in (b"{", b"[") else "csv"


def _rows(raw: io.BufferedReader, fmt: str) -> Iterator[ParsedRow | RowError]:
    """The file's rows; read as bytes and decoded line by line (see ``_readers``)."""
    if fmt == "csv":
        return read_csv(raw)
    if raw.peek(64).lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"[":
        return read_ddex_array(raw.read())
    return read_ddex_lines(raw)


_T = TypeVar("_T")
_DONE = object()


def _prefetched(items: Iterator[_T], depth: int = 2) -> Iterator[_T]:
    """Produce ``items`` in a worker thread, up to ``depth`` ahead of the consumer.

    SQLite releases the GIL while it writes a chunk and syncs it to disk; the next chunk is
    read and checked meanwhile. An error in the worker is raised in the consumer.
    """
    handoff: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(entry: tuple[bool, object]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not offer((True, item)):
                    return
            offer((True, _DONE))
        except BaseException as error:  # handed to the consumer, raised there
            offer((False, error))

    worker = threading.Thread(target=work, name="sostenuto-import-reader", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = handoff.get()
            if not ok:
                assert isinstance(item, BaseException)
                raise item
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk run.

    An import allocates millions of short-lived, acyclic objects while large long-lived ones
    (indexes of performers and ISRCs) stay in memory; the collector would rescan those again
    and again, costing about a third of the run. Reference counting still frees everything.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def import_catalogue(
    database: Database,
    principal: Principal,
    path: str | Path,
    *,
    cmo_id: int,
    format: str | None = None,
    progress: bool = False,
    chunk_size: int = DEFAULT_CHUNK,
    audio_root: str | Path | None = None,
    workers: int | None = None,
    settings: Settings | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import ``path`` into ``cmo_id``'s catalogue; bad rows are reported and skipped.

    Recordings already in the catalogue are updated where the file gives other values;
    contributions are added or updated, never removed. Re-running a file changes nothing.

    Rows may name their audio (``audio_path``, relative to ``audio_root``): it is read only
    when ``audio_root`` is given (a local import; a server never reads paths a client
    names), fingerprinted in ``workers`` processes into ``settings``' catalogue, and a
    recording whose audio cannot be read is a row error and is not written.

    ``on_progress(bytes_read, size)`` is called after each committed chunk (for pages that
    show an import as it runs).
    """
    principal.require_cmo(cmo_id)
    path = Path(path)
    if format is not None and format not in FORMATS:
        raise InvalidInput(
            f"unknown import format {format!r}; formats: {', '.join(FORMATS)}",
            details={"field": "format", "value": format},
        )
    if not 1 <= chunk_size <= MAX_CHUNK:
        raise InvalidInput(
            f"invalid chunk_size {chunk_size}: from 1 to {MAX_CHUNK}",
            details={"field": "chunk_size", "value": chunk_size},
        )
    if not path.is_file():
        raise NotFound(f"no file at {path}", details={"path": str(path)})
    with database.reader() as session:
        if session.get(Cmo, cmo_id) is None:
            raise NotFound(f"no cmo with id {cmo_id}", details={"cmo": cmo_id})
    started = time.perf_counter()
    report = ImportReport()
    size = path.stat().st_size
    with ExitStack() as stack:
        stack.enter_context(_collector_paused())
        raw = stack.enter_context(path.open("rb"))
        fmt = format or detect_format(path, raw.peek(64))
        bar = None
        if progress:
            from rich.progress import Progress

            bar = stack.enter_context(Progress(transient=False))
            task = bar.add_task(f"importing {path.name}", total=size)
        connection = stack.enter_context(database.engine.connect())
        if database.is_sqlite:
            # Random index inserts (audio hashes, performer ids) touch pages all over the
            # indexes: a cache that holds a whole chunk's dirty pages writes each page once
            # per commit instead of spilling it again and again. Reset when the import ends.
            connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            stack.callback(connection.exec_driver_sql, "PRAGMA cache_size=-2000")
        performers = PerformerIndex(connection, cmo_id)
        connection.commit()
        # A file that does not fit its format raises while its header (or, for a JSON
        # array, its whole text) is read, before the first chunk; past that point every
        # bad row is a row error, so an import never both writes and refuses.
        reading = chunks(groups(_rows(raw, fmt), report.errors), chunk_size)
        audio = _AudioStep(stack, audio_root, workers, settings)
        for chunk in _prefetched(reading):
            if any(group.audio_path is not None for group in chunk):
                for start in range(0, len(chunk), AUDIO_CHUNK):
                    part, read, errors = audio.prepare(
                        connection, chunk[start : start + AUDIO_CHUNK]
                    )
                    report.errors.extend(errors)
                    if part:
                        _commit_chunk(
                            connection,
                            principal,
                            cmo_id,
                            part,
                            performers,
                            report,
                            path,
                            audio=read,
                            catalogue=audio.catalogue(),
                        )
            else:
                _commit_chunk(connection, principal, cmo_id, chunk, performers, report, path)
            if bar is not None:
                bar.update(task, completed=raw.tell())
            if on_progress is not None:
                on_progress(raw.tell(), size)
        if bar is not None:
            bar.update(task, completed=size)
    report.errors.sort(key=lambda error: error.line)
    report.seconds = time.perf_counter() - started
    return report


class _AudioStep:
    """The audio of an import's rows: worker processes and the catalogue, opened when needed."""

    def __init__(
        self,
        stack: ExitStack,
        root: str | Path | None,
        workers: int | None,
        settings: Settings | None,
    ) -> None:
        self.stack = stack
        self.root = Path(root) if root is not None else None
        self.workers = workers
        self.settings = settings
        self._pool: list[Executor | None] = []
        self._catalogue: ShardedIndex | None = None

    def prepare(
        self, connection: Connection, part: list[Group]
    ) -> tuple[list[Group], dict[str, FileAudio], list[RowError]]:
        try:
            return prepare_audio(connection, part, self.root, self._executor)
        finally:
            connection.rollback()  # ends the read, so that the chunk opens its own transaction

    def _executor(self, files: int) -> Executor | None:
        """Worker processes for ``files`` to fingerprint (None: fingerprint here), started on
        first use and stopped when the import ends. Without an explicit ``workers``, a small
        batch is fingerprinted here: starting workers would cost more than they save."""
        if self.workers is None and files < POOL_FROM_FILES and not self._pool:
            return None
        if not self._pool:
            self._pool.append(self.stack.enter_context(audio_workers(self.workers)))
        return self._pool[0]

    def catalogue(self) -> ShardedIndex:
        if self._catalogue is None:
            self._catalogue = open_catalogue(self.settings or get_settings())
        return self._catalogue


def _commit_chunk(
    connection: Connection,
    principal: Principal,
    cmo_id: int,
    chunk: list[Group],
    performers: PerformerIndex,
    report: ImportReport,
    path: Path,
    *,
    audio: dict[str, FileAudio] | None = None,
    catalogue: ShardedIndex | None = None,
) -> None:
    """Write one chunk and its audit event in one transaction: all of it or none of it.

    The chunk's fingerprints enter the index just before the commit and leave it again if
    the commit fails."""
    fingerprinted: list[tuple[str, str]] = []
    try:
        with connection.begin(), Session(bind=connection) as session:
            result = write_chunk(connection, cmo_id, chunk, performers)
            if audio and catalogue is not None:
                fingerprinted = store_audio(connection, cmo_id, audio, catalogue)
            _audit_chunk(session, principal, cmo_id, chunk, result, fingerprinted, path)
    except BaseException:
        if fingerprinted and catalogue is not None:
            catalogue.reload().remove([key for _, key in fingerprinted])
        raise
    _count(result, performers, report)
    report.fingerprinted += len(fingerprinted)


def _audit_chunk(
    session: Session,
    principal: Principal,
    cmo_id: int,
    chunk: list[Group],
    result: ChunkResult,
    fingerprinted: list[tuple[str, str]],
    path: Path,
) -> None:
    if not (result.imported or result.updated or result.new_performers or fingerprinted):
        return
    after: dict[str, object] = {
        "source": path.name,
        "lines": [chunk[0].line, chunk[-1].line],
        "imported": result.imported,
        "updated": result.updated,
        "performers_created": [pid for _, pid in result.new_performers],
    }
    if fingerprinted:
        after["fingerprinted"] = [isrc for isrc, _ in fingerprinted]
    record_change(
        session,
        principal,
        action="import",
        entity_type="catalogue",
        entity_id=cmo_id,
        before=None,
        after=after,
    )
    session.flush()


def _count(result: ChunkResult, performers: PerformerIndex, report: ImportReport) -> None:
    # Only what is committed becomes known: a failed chunk leaves the indexes as they were.
    for contributor, pid in result.new_performers:
        performers.learn(contributor, pid)
    report.imported += len(result.imported)
    report.updated += len(result.updated)
    report.unchanged += result.unchanged
    report.errors.extend(result.errors)
    report.performers_created += len(result.new_performers)
    report.contributions_written += result.contributions


def write_row_errors(path: Path, errors: list[RowError]) -> None:
    """Every skipped row as CSV (line, reason, record), for the CMO to fix and re-import."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("line", "reason", "record"))
        for error in errors:
            writer.writerow((error.line, error.reason, error.record or ""))

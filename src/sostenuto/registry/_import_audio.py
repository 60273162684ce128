"""Audio named by an import's rows: fingerprinted in worker processes, stored with its recording.

A row's audio is hashed and fingerprinted before its chunk is written. A file that is missing
or cannot be decoded makes its recording a row error, like any other bad value, and the
recording is not written: no recording of an import is stored without the fingerprint of the
audio it names. What was fingerprinted goes into the chunk's transaction (the fingerprint
rows) and into the catalogue index just before the commit (taken out again if it fails).
Audio already fingerprinted with the same SHA-256 is hashed only, so a re-run is cheap, and
worker processes start only when more than one file is to be fingerprinted.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.engine import Connection

from sostenuto.errors import SostenutoError
from sostenuto.identify import Fingerprint, ShardedIndex, fingerprint_file, recording_key
from sostenuto.identify._params import VERSION
from sostenuto.registry._audio import audio_duration_ms
from sostenuto.registry._grouping import Group
from sostenuto.registry._readers import RowError
from sostenuto.registry._validate import file_sha256
from sostenuto.storage.models.identify import RecordingFingerprint
from sostenuto.storage.models.registry import Recording

_recording: Table = Recording.__table__  # type: ignore[assignment]
_fingerprint: Table = RecordingFingerprint.__table__  # type: ignore[assignment]

# A worker process costs about 1.3 CPU-s to start (it imports numpy, scipy and Sostenuto),
# the fingerprint of four minutes of music about 0.2 CPU-s: unless asked for, workers start
# only for a batch that repays them.
POOL_FROM_FILES = 16

# Recordings per transaction when rows name audio: their fingerprints are held in memory
# until the commit (about 0.5 MB for four minutes of music).
AUDIO_CHUNK = 64


@dataclass(frozen=True)
class FileAudio:
    """One audio file as read: its SHA-256 and fingerprint (None when already stored)."""

    sha256: str
    duration_ms: int
    fingerprint: Fingerprint | None = None


def fingerprint_audio(path: str) -> Fingerprint | str:
    """Fingerprint ``path`` (in a worker process); a reason (text) when it cannot be read."""
    try:
        return fingerprint_file(path)
    except SostenutoError as error:
        return error.message
    except Exception as error:  # a fault no check foresaw is this row's, not the import's
        return f"cannot read audio {path}: {error}"


@contextmanager
def audio_workers(workers: int | None) -> Iterator[Executor | None]:
    """A pool of ``workers`` processes (default: one per core); None means this process."""
    count = workers if workers is not None else min(os.cpu_count() or 1, 8)
    if count <= 1:
        yield None
        return
    # Spawned, not forked: the importing process holds a database connection and threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        yield pool


def prepare_audio(
    connection: Connection,
    groups: list[Group],
    audio_root: Path | None,
    pool: Callable[[int], Executor | None],
) -> tuple[list[Group], dict[str, FileAudio], list[RowError]]:
    """Read the audio the groups name; the groups to write, their audio by ISRC, the errors.

    Files are hashed here (cheap, and a re-run stops there for audio already fingerprinted);
    the others are fingerprinted in the processes ``pool(number of files)`` gives, if any.
    A group whose audio is read gets its SHA-256 and, when the row gave none, its
    duration."""
    errors: list[RowError] = []
    wanted: dict[str, Path] = {}
    for group in groups:
        if group.audio_path is None:
            continue
        if audio_root is None:
            errors.append(
                RowError(group.line, "audio_path is read only by a local import (the CLI)")
            )
            continue
        path = Path(group.audio_path)
        wanted[group.isrc] = path if path.is_absolute() else audio_root / path
    stored = _stored_audio(connection, list(wanted))
    read: dict[str, FileAudio | str] = {}
    todo: dict[str, tuple[Path, str]] = {}
    for isrc, path in wanted.items():
        try:
            sha256 = file_sha256(path)
        except SostenutoError as error:
            read[isrc] = error.message
            continue
        known = stored.get(isrc)
        if known is not None and known[0] == sha256:
            read[isrc] = FileAudio(sha256, audio_duration_ms(known[1]))
        else:
            todo[isrc] = (path, sha256)
    paths = [str(path) for path, _ in todo.values()]
    executor = pool(len(paths)) if len(paths) > 1 else None
    prints = (
        list(executor.map(fingerprint_audio, paths))
        if executor is not None
        else [fingerprint_audio(path) for path in paths]
    )
    for (isrc, (_, sha256)), printed in zip(todo.items(), prints, strict=True):
        read[isrc] = (
            printed
            if isinstance(printed, str)
            else FileAudio(sha256, audio_duration_ms(printed.duration), printed)
        )
    audio: dict[str, FileAudio] = {}
    kept: list[Group] = []
    for group in groups:
        if group.audio_path is None:
            kept.append(group)
            continue
        found = read.get(group.isrc)
        if found is None:
            continue  # refused above (no audio root)
        if isinstance(found, str):
            errors.append(RowError(group.line, f"audio_path {group.audio_path!r}: {found}"))
            continue
        if group.audio_sha256 is not None and group.audio_sha256 != found.sha256:
            errors.append(
                RowError(
                    group.line,
                    f"audio_path {group.audio_path!r} has SHA-256 {found.sha256}, "
                    f"not the audio_sha256 {group.audio_sha256} the row gives",
                )
            )
            continue
        group.audio_sha256 = found.sha256
        if group.duration_ms is None:
            group.duration_ms = found.duration_ms
        audio[group.isrc] = found
        kept.append(group)
    return kept, audio, errors


def _stored_audio(connection: Connection, isrcs: list[str]) -> dict[str, tuple[str, float]]:
    """SHA-256 and duration of the audio already fingerprinted (this version) per ISRC."""
    if not isrcs:
        return {}
    rows = connection.execute(
        select(_recording.c.isrc, _fingerprint.c.audio_sha256, _fingerprint.c.duration_s)
        .join(_fingerprint, _fingerprint.c.recording_id == _recording.c.id)
        .where(_recording.c.isrc.in_(isrcs), _fingerprint.c.fingerprint_version == VERSION)
    )
    return {isrc: (sha, float(duration)) for isrc, sha, duration in rows}


def store_audio(
    connection: Connection, cmo_id: int, audio: dict[str, FileAudio], catalogue: ShardedIndex
) -> list[tuple[str, str]]:
    """Fingerprint rows for the chunk's new audio, and its entries in the index.

    Runs in the chunk's transaction after its recordings are written; only a recording of
    this CMO that now holds the very SHA-256 read is fingerprinted (a row refused while
    writing is not). Returns the index keys added, for the caller to take out if the commit
    fails, with the ISRC of each."""
    fresh = {isrc: item for isrc, item in audio.items() if item.fingerprint is not None}
    if not fresh:
        return []
    rows = connection.execute(
        select(_recording.c.id, _recording.c.isrc, _recording.c.audio_sha256).where(
            _recording.c.isrc.in_(list(fresh)), _recording.c.registered_by_cmo_id == cmo_id
        )
    )
    prints: list[tuple[str, Fingerprint]] = []
    added: list[tuple[str, str]] = []
    values: list[dict[str, object]] = []
    for recording_id, isrc, sha256 in rows:
        item = fresh[isrc]
        if sha256 != item.sha256 or item.fingerprint is None:
            continue
        key = recording_key(recording_id)
        prints.append((key, item.fingerprint))
        added.append((isrc, key))
        values.append(
            {
                "recording_id": recording_id,
                "index_key": key,
                "audio_sha256": sha256,
                "duration_s": round(item.fingerprint.duration, 3),
                "hashes": len(item.fingerprint),
                "fingerprint_version": VERSION,
            }
        )
    if not values:
        return []
    ids = [value["recording_id"] for value in values]
    connection.execute(delete(_fingerprint).where(_fingerprint.c.recording_id.in_(ids)))
    connection.execute(insert(_fingerprint), values)
    catalogue.add_many(prints, replace=True)
    return added

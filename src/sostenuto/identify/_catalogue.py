"""The registry's catalogue: registered recordings fingerprinted into the on-disk index."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.audit import record_change
from sostenuto.auth import OPERATOR, Principal, authorize
from sostenuto.errors import IntegrityFailure, InvalidInput, NotFound
from sostenuto.identify._fingerprint import Fingerprint, fingerprint_file
from sostenuto.identify._index import IndexStats, TrackInfo
from sostenuto.identify._params import VERSION
from sostenuto.identify._shards import ShardedIndex
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.identify import RecordingFingerprint
from sostenuto.storage.models.registry import Recording

_PREFIX = "recording:"


def catalogue_path(settings: Settings) -> Path:
    return settings.data_dir / "identify" / "index"


def open_catalogue(settings: Settings) -> ShardedIndex:
    """The catalogue index of this data directory (created empty on first use)."""
    return ShardedIndex.create(catalogue_path(settings))


def recording_key(recording_id: int) -> str:
    return f"{_PREFIX}{recording_id}"


def recording_of(key: str) -> int | None:
    """The recording id behind an index key, or ``None`` for keys that are not recordings."""
    if key.startswith(_PREFIX) and key[len(_PREFIX) :].isdigit():
        return int(key[len(_PREFIX) :])
    return None


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes; a missing or unreadable file is :class:`InvalidInput`."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        raise InvalidInput(f"cannot read {path}: {error.strerror or error}") from None
    return digest.hexdigest()


@dataclass(frozen=True)
class RegisteredAudio:
    recording_id: int
    index_key: str
    audio_sha256: str
    duration_s: float
    hashes: int


def register_recording_audio(
    database: Database,
    settings: Settings,
    recording_id: int,
    path: str | Path,
    *,
    principal: Principal = OPERATOR,
) -> RegisteredAudio:
    """Fingerprint a recording's audio into the catalogue (replacing earlier audio).

    The file must be the audio the registry holds: when ``Recording.audio_sha256`` is set,
    a file with another hash is refused. The index is written first; if the database write
    then fails, the new fingerprint is taken out again, so the two never disagree for long.
    """
    with database.reader() as session:
        recording = session.get(Recording, recording_id)
        if recording is None:
            raise NotFound(f"no recording {recording_id}")
        # A recording no CMO registered is the operator's to fingerprint.
        authorize(principal, "recording.change", cmo_id=recording.registered_by_cmo_id)
        expected = recording.audio_sha256
    sha256 = file_sha256(path)
    if expected and expected != sha256:
        raise IntegrityFailure(
            f"this file is not the audio registered for recording {recording_id}",
            details={"registered_sha256": expected, "file_sha256": sha256},
        )
    fingerprint = fingerprint_file(path)
    key = recording_key(recording_id)
    catalogue = open_catalogue(settings)
    catalogue.add(key, fingerprint, replace=True)
    try:
        with database.transaction() as session:
            store_fingerprint_row(session, principal, recording_id, key, sha256, fingerprint)
    except BaseException:
        catalogue.reload().remove([key])
        raise
    return RegisteredAudio(recording_id, key, sha256, fingerprint.duration, len(fingerprint))


def unregister_recording_audio(
    database: Database, settings: Settings, recording_id: int, *, principal: Principal = OPERATOR
) -> None:
    """Take a recording's fingerprints out of the catalogue."""
    with database.transaction() as session:
        row = session.get(RecordingFingerprint, recording_id)
        if row is None:
            raise NotFound(f"recording {recording_id} has no fingerprinted audio")
        recording = session.get(Recording, recording_id)
        authorize(
            principal,
            "recording.change",
            cmo_id=recording.registered_by_cmo_id if recording is not None else None,
        )
        record_change(
            session,
            principal,
            action="unfingerprint",
            entity_type="recording",
            entity_id=recording_id,
            before=_snapshot(row),
            after=None,
        )
        session.delete(row)
        catalogue = open_catalogue(settings)
        if row.index_key in catalogue:
            catalogue.remove([row.index_key])


def fingerprinted_recordings(database: Database) -> dict[int, str]:
    """Recording id → audio SHA-256 of every fingerprinted recording."""
    with database.reader() as session:
        rows = session.execute(
            select(RecordingFingerprint.recording_id, RecordingFingerprint.audio_sha256)
        ).all()
    return {int(r[0]): str(r[1]) for r in rows}


def store_fingerprint_row(
    session: Session,
    principal: Principal,
    recording_id: int,
    key: str,
    sha256: str,
    fingerprint: Fingerprint,
) -> None:
    """The row tying a recording to its fingerprint in the index, with its audit event."""
    row = session.get(RecordingFingerprint, recording_id)
    before = _snapshot(row) if row is not None else None
    if row is None:
        row = RecordingFingerprint(recording_id=recording_id, index_key=key)
        session.add(row)
    row.audio_sha256 = sha256
    row.duration_s = round(fingerprint.duration, 3)
    row.hashes = len(fingerprint)
    row.fingerprint_version = VERSION
    record_change(
        session,
        principal,
        action="fingerprint",
        entity_type="recording",
        entity_id=recording_id,
        before=before,
        after=_snapshot(row),
    )


def _snapshot(row: RecordingFingerprint) -> dict[str, object]:
    return {
        "index_key": row.index_key,
        "audio_sha256": row.audio_sha256,
        "duration_s": row.duration_s,
        "hashes": row.hashes,
        "fingerprint_version": row.fingerprint_version,
    }


def index_files(
    settings: Settings,
    principal: Principal,
    items: list[tuple[str, Path]],
    *,
    replace: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[TrackInfo]:
    """Fingerprint files under free-form keys (reference audio outside the registry).

    Every file is fingerprinted before anything is written, and all go in as one segment:
    one unreadable file leaves the index as it was.
    """
    authorize(principal, "catalogue.maintain")
    for key, _ in items:
        if recording_of(key) is not None:
            raise InvalidInput(
                f"key {key!r} is reserved for registered recordings: use --recording"
            )
    prints = []
    for done, (key, path) in enumerate(items, 1):
        prints.append((key, fingerprint_file(path)))
        if progress:
            progress(done, len(items))
    return open_catalogue(settings).add_many(prints, replace=replace)


def remove_from_catalogue(settings: Settings, principal: Principal, keys: list[str]) -> int:
    """Remove free-form keys (recordings go through :func:`unregister_recording_audio`)."""
    authorize(principal, "catalogue.maintain")
    return open_catalogue(settings).remove(keys)


def catalogue_stats(settings: Settings) -> IndexStats:
    return open_catalogue(settings).stats()


def compact_catalogue(settings: Settings, principal: Principal) -> IndexStats:
    authorize(principal, "catalogue.maintain")
    catalogue = open_catalogue(settings)
    catalogue.compact()
    return catalogue.stats()

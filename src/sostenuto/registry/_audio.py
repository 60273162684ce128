"""A recording's audio: its SHA-256 kept in the registry, its fingerprint in the catalogue."""

from __future__ import annotations

from pathlib import Path

from sostenuto.audit import record_change, snapshot
from sostenuto.auth import Principal
from sostenuto.errors import Conflict, NotFound
from sostenuto.identify import (
    RegisteredAudio,
    fingerprint_file,
    open_catalogue,
    recording_key,
    register_recording_audio,
    store_fingerprint_row,
)
from sostenuto.registry._recordings import NewContribution, add_recording
from sostenuto.registry._records import RecordingInfo
from sostenuto.registry._validate import file_sha256
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Recording


def audio_duration_ms(duration_s: float) -> int:
    """Milliseconds of audio as the fingerprint row keeps it (seconds to 3 decimals), at least 1."""
    return max(1, round(round(duration_s, 3) * 1000))


def add_recording_with_audio(
    database: Database,
    settings: Settings,
    principal: Principal,
    audio: str | Path,
    *,
    cmo_id: int,
    isrc: str,
    title: str,
    duration_ms: int | None = None,
    fixation_year: int | None = None,
    contributions: list[NewContribution] | None = None,
) -> tuple[RecordingInfo, RegisteredAudio]:
    """Add a recording with its audio, all or nothing.

    The audio is hashed and fingerprinted before anything is written, so a file that cannot
    be decoded leaves no recording behind and a second try does not meet a conflict. The
    recording (with the audio's SHA-256 and, unless given, its duration), its contributions,
    its fingerprint row and their audit events are written in one transaction; the index
    entry is added last inside it and taken out again should the commit fail.
    """
    principal.require_cmo(cmo_id)  # refused before the (costly) decode
    audio = Path(audio)
    sha256 = file_sha256(audio)
    fingerprint = fingerprint_file(audio)
    measured_ms = audio_duration_ms(fingerprint.duration)
    catalogue = open_catalogue(settings)
    added: str | None = None
    try:
        with database.transaction() as session:
            info = add_recording(
                session,
                principal,
                cmo_id=cmo_id,
                isrc=isrc,
                title=title,
                duration_ms=duration_ms if duration_ms is not None else measured_ms,
                fixation_year=fixation_year,
                audio_sha256=sha256,
                contributions=contributions,
            )
            key = recording_key(info.id)
            store_fingerprint_row(session, principal, info.id, key, sha256, fingerprint)
            session.flush()  # a refused row fails here, before the index is touched
            catalogue.add(key, fingerprint, replace=True)
            added = key
    except BaseException:
        if added is not None:
            catalogue.reload().remove([added])
        raise
    registered = RegisteredAudio(info.id, key, sha256, fingerprint.duration, len(fingerprint))
    return info, registered


def attach_audio(
    database: Database,
    settings: Settings,
    principal: Principal,
    recording_id: int,
    path: str | Path,
) -> RegisteredAudio:
    """Register ``path`` as the audio of a recording, so screening can recognise it.

    The file is fingerprinted first (an undecodable file changes nothing); then its SHA-256
    is stored on the recording, with an audit event, unless the same hash is already there,
    and so is its duration when the recording has none. A recording whose stored hash
    differs keeps it: replacing audio is a conflict to resolve explicitly, not a side effect.
    """
    registered = register_recording_audio(
        database, settings, recording_id, path, principal=principal
    )
    with database.transaction() as session:
        recording = session.get(Recording, recording_id)
        if recording is None:
            raise NotFound(f"no recording {recording_id}")
        if recording.audio_sha256 not in (None, registered.audio_sha256):
            raise Conflict(
                f"recording {recording_id} already has other audio registered",
                details={"registered_sha256": recording.audio_sha256},
            )
        if recording.audio_sha256 is not None and recording.duration_ms is not None:
            return registered
        before = snapshot(recording)
        recording.audio_sha256 = registered.audio_sha256
        if recording.duration_ms is None:
            recording.duration_ms = audio_duration_ms(registered.duration_s)
        record_change(
            session,
            principal,
            action="update",
            entity_type="recording",
            entity_id=recording_id,
            before=before,
            after=snapshot(recording),
        )
    return registered

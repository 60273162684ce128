"""A recording's audio: its SHA-256 kept in the registry, its fingerprint in the catalogue."""

from __future__ import annotations

from pathlib import Path

from sostenuto.audit import record_change, snapshot
from sostenuto.auth import Principal
from sostenuto.errors import Conflict, NotFound
from sostenuto.identify import RegisteredAudio, register_recording_audio
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Recording


def attach_audio(
    database: Database,
    settings: Settings,
    principal: Principal,
    recording_id: int,
    path: str | Path,
) -> RegisteredAudio:
    """Register ``path`` as the audio of a recording, so screening can recognise it.

    The file is fingerprinted first (an undecodable file changes nothing); then its SHA-256
    is stored on the recording, with an audit event, unless the same hash is already there.
    A recording whose stored hash differs keeps it: replacing audio is a conflict to resolve
    explicitly, not a side effect.
    """
    registered = register_recording_audio(
        database, settings, recording_id, path, principal=principal
    )
    with database.transaction() as session:
        recording = session.get(Recording, recording_id)
        if recording is None:
            raise NotFound(f"no recording {recording_id}")
        if recording.audio_sha256 == registered.audio_sha256:
            return registered
        if recording.audio_sha256 is not None:
            raise Conflict(
                f"recording {recording_id} already has other audio registered",
                details={"registered_sha256": recording.audio_sha256},
            )
        before = snapshot(recording)
        recording.audio_sha256 = registered.audio_sha256
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

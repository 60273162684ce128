"""The office's reference audio: upload the audio of a recording in the CMO's catalogue (by
ISRC) so that screenings can recognise it.

The file goes through ``registry.attach_audio``, the service of ``sostenuto registry
recording audio``: fingerprinted into the screening index, its SHA-256 stored on the
recording. The service decides who may (``recording.change`` on the recording's own CMO);
its refusal is shown beside the form.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from sostenuto import registry
from sostenuto.api.deps import AppSettings, Db, role_gate
from sostenuto.api.params import Code
from sostenuto.auth import Principal
from sostenuto.errors import InvalidInput, SostenutoError
from sostenuto.storage import Database

router = APIRouter(include_in_schema=False)

# A CMO's admin, who changes the recordings of its own catalogue (the service checks which).
AudioKeeper = Annotated[
    Principal, Depends(role_gate("recording.change", does="register a recording's audio"))
]
MAX_AUDIO = 200 * 1024 * 1024  # bytes; a longer master goes through the CLI
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
_COPY_BLOCK = 1024 * 1024


def _save(upload: UploadFile, folder: FilePath) -> FilePath:
    """The upload under ``folder``, keeping its suffix (the decoder reads it); refused when
    missing, of a format the screening does not read, empty or too big."""
    name = FilePath(upload.filename or "").name
    if not name:
        raise InvalidInput("choose an audio file to upload", details={"field": "file"})
    suffix = FilePath(name).suffix.lower()
    if suffix not in AUDIO_SUFFIXES:
        raise InvalidInput(f"{name} is not a WAV, FLAC, Ogg or MP3 file", details={"field": "file"})
    path = folder / f"audio{suffix}"
    written = 0
    with path.open("wb") as handle:
        while block := upload.file.read(_COPY_BLOCK):
            written += len(block)
            if written > MAX_AUDIO:
                raise InvalidInput(
                    f"the file is larger than {MAX_AUDIO // 2**20} MiB; register it with "
                    "'sostenuto registry recording audio'",
                    details={"field": "file"},
                )
            handle.write(block)
    if written == 0:
        raise InvalidInput(f"{name} is empty", details={"field": "file"})
    return path


def _page(
    request: Request,
    *,
    isrc: str = "",
    result: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    from sostenuto.web import templates

    context = {"isrc": isrc, "result": result, "audio_error": error}
    return templates.TemplateResponse(request, "office_audio.html", context, status_code=status)


@router.get("/office/audio", response_class=HTMLResponse)
def audio_page(request: Request, caller: AudioKeeper) -> Any:
    return _page(request)


@router.post("/office/audio", response_model=None)
def register_audio(
    request: Request,
    caller: AudioKeeper,
    database: Db,
    settings: AppSettings,
    isrc: Annotated[Code, Form()],
    file: Annotated[UploadFile, File(description="The recording's audio.")],
) -> Response:
    """Fingerprint the file as the recording's audio and show what was stored; a refusal
    (another CMO's recording, other audio already registered, an undecodable file) is shown
    beside the form, which keeps the ISRC typed."""
    isrc = isrc.strip()
    folder = FilePath(tempfile.mkdtemp(prefix="sostenuto-office-audio-"))
    try:
        path = _save(file, folder)
        recording_id = _recording_id(database, isrc)
        registered = registry.attach_audio(database, settings, caller, recording_id, path)
    except SostenutoError as refused:
        return _page(request, isrc=isrc, error=refused.message, status=refused.http_status)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = {
        "isrc": isrc,
        "duration_s": f"{registered.duration_s:.1f}",
        "hashes": registered.hashes,
        "sha256": registered.audio_sha256,
    }
    return _page(request, isrc=isrc, result=result)


def _recording_id(database: Database, isrc: str) -> int:
    if isrc.isdigit():  # the service resolves ids too; the form asks for an ISRC
        raise InvalidInput(f"{isrc} is not an ISRC", details={"field": "isrc"})
    with database.reader() as session:
        return registry.resolve_recording(session, isrc).id

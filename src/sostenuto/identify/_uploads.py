"""Screening a few uploaded files: a job that keeps the files, screens them as a corpus in the
background and, on request, declares the permitted ones to the transparency log.

The files are written to the job's own folder and screened by :func:`screen_corpus`, exactly
as ``sostenuto screen`` screens a folder, so the report is also listed with the corpus
screenings. ``job.json`` holds the job's state and progress (replaced whole on each change,
so a reader never sees half of it); only the licensee that uploaded may read it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import secrets
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from sostenuto.auth import Principal, authorize
from sostenuto.errors import Conflict, InvalidInput, NotFound, SostenutoError
from sostenuto.identify._screen import ScreenRequest, get_screen_report, screen_corpus
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.vocabulary import check_territories, check_uses

UPLOAD_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
MAX_UPLOAD_FILES = 20
MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # per file: six minutes of CD-quality WAV
_ID_LENGTH = 16
_JOB = "job.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_log = logging.getLogger(__name__)

JobState = Literal["screening", "done", "failed"]


@dataclass(frozen=True)
class UploadJob:
    """A screening of uploaded files, and where it stands."""

    job_id: str
    licensee_id: int
    use: str
    territory: str
    names: list[str]  # the files as uploaded, in order
    created_at: str
    state: JobState = "screening"
    done: int = 0
    screen_id: str | None = None
    error: str | None = None
    declaration: dict[str, Any] | None = None
    stored_names: list[str] = field(default_factory=list)  # the files in the job's folder

    @property
    def total(self) -> int:
        return len(self.names)


def uploads_dir(settings: Settings) -> Path:
    return settings.data_dir / "identify" / "uploads"


def _folder(settings: Settings, job_id: str) -> Path:
    return uploads_dir(settings) / job_id


def _save(settings: Settings, job: UploadJob) -> None:
    path = _folder(settings, job.job_id) / _JOB
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(asdict(job)), encoding="utf-8")
    os.replace(partial, path)


def _load(settings: Settings, job_id: str) -> UploadJob:
    if len(job_id) != _ID_LENGTH or any(c not in "0123456789abcdef" for c in job_id):
        raise NotFound(f"no screening job {job_id!r}")
    path = _folder(settings, job_id) / _JOB
    if not path.is_file():
        raise NotFound(f"no screening job {job_id!r}")
    return UploadJob(**json.loads(path.read_text(encoding="utf-8")))


def _stored_name(position: int, name: str) -> str:
    stem = _UNSAFE.sub("_", Path(name).name)[-80:].lstrip(".") or "file"
    return f"{position:02d}-{stem}"


def check_uploads(files: Sequence[tuple[str, int]]) -> None:
    """Refuse an upload that is not 1 to :data:`MAX_UPLOAD_FILES` audio files of a kind the
    screening reads, naming the first file at fault. ``files``: (name, size in bytes)."""
    if not files:
        raise InvalidInput("choose at least one audio file")
    if len(files) > MAX_UPLOAD_FILES:
        raise InvalidInput(f"screen at most {MAX_UPLOAD_FILES} files at once; got {len(files)}")
    for name, size in files:
        if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
            raise InvalidInput(
                f"{name!r} is not a WAV, FLAC, Ogg or MP3 file (by its name)",
                details={"file": name},
            )
        if size > MAX_UPLOAD_BYTES:
            raise InvalidInput(
                f"{name!r} is larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MiB",
                details={"file": name},
            )
        if size == 0:
            raise InvalidInput(f"{name!r} is empty", details={"file": name})


def start_upload_screening(
    database: Database,
    settings: Settings,
    principal: Principal,
    *,
    files: Sequence[tuple[str, bytes]],
    use: str,
    territory: str,
    wait: bool = False,
) -> UploadJob:
    """Keep the files and screen them in the background for the caller's licensee (or in
    this thread when ``wait``); the job's state is read with :func:`get_upload_job`."""
    licensee_id = principal.licensee_id
    if licensee_id is None:
        raise InvalidInput("a screening is asked in a licensee's name; this token has none")
    authorize(principal, "identify.screen-corpus", licensee_id=licensee_id)
    (use,) = check_uses([use])
    (territory,) = check_territories([territory])
    check_uploads([(name, len(content)) for name, content in files])
    job = UploadJob(
        job_id=secrets.token_hex(_ID_LENGTH // 2),
        licensee_id=licensee_id,
        use=use,
        territory=territory,
        names=[Path(name).name for name, _ in files],
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        stored_names=[_stored_name(i, name) for i, (name, _) in enumerate(files, 1)],
    )
    source = _folder(settings, job.job_id) / "files"
    source.mkdir(parents=True)
    for stored, (_, content) in zip(job.stored_names, files, strict=True):
        (source / stored).write_bytes(content)
    _save(settings, job)
    if wait:
        _screen(database, settings, principal, job)
    else:
        threading.Thread(
            target=_screen,
            args=(database, settings, principal, job),
            name=f"screen-upload-{job.job_id}",
            daemon=True,
        ).start()
    return job


def _screen(database: Database, settings: Settings, principal: Principal, job: UploadJob) -> None:
    """Run the screening, recording progress and the outcome in ``job.json``."""
    request = ScreenRequest(
        source=_folder(settings, job.job_id) / "files",
        licensee_id=job.licensee_id,
        use=job.use,
        territory=job.territory,
    )

    def progress(done: int, total: int) -> None:
        _save(settings, replace(job, done=done))

    try:
        report = screen_corpus(database, settings, principal, request, progress=progress)
    except SostenutoError as error:
        _save(settings, replace(job, state="failed", error=error.message))
        return
    except Exception:  # a background job has no caller to raise to: keep the why in the job
        _log.exception("screening job %s failed", job.job_id)
        _save(settings, replace(job, state="failed", error="the screening failed unexpectedly"))
        return
    _save(settings, replace(job, state="done", done=job.total, screen_id=report.screen_id))


def get_upload_job(settings: Settings, principal: Principal, job_id: str) -> UploadJob:
    """A screening job, for the licensee that uploaded the files only."""
    job = _load(settings, job_id)
    authorize(principal, "identify.screen-corpus", licensee_id=job.licensee_id)
    return job


def upload_report(settings: Settings, principal: Principal, job: UploadJob) -> dict[str, Any]:
    """The finished job's report, each file row named as uploaded (``name``)."""
    if job.state != "done" or job.screen_id is None:
        raise Conflict(f"screening job {job.job_id} has not finished")
    report = get_screen_report(settings, principal, job.screen_id)
    uploaded = dict(zip(job.stored_names, job.names, strict=True))
    for row in report["files"]:
        row["name"] = uploaded.get(Path(row["path"]).name, Path(row["path"]).name)
    return report


def declare_upload(
    database: Database, settings: Settings, principal: Principal, job_id: str
) -> UploadJob:
    """Declare the job's permitted files to the log as one dataset manifest citing their
    consent decisions; files not identified are not declared (nothing permits them)."""
    from sostenuto.declarations import declare  # declarations sits above identify

    job = get_upload_job(settings, principal, job_id)
    authorize(principal, "log.declare", licensee_id=job.licensee_id)
    report = upload_report(settings, principal, job)
    files = [
        {
            "sha256": row["sha256"],
            "recording_id": found["recording_id"],
            "isrc": found["isrc"],
            "decision_id": found["decision"]["id"],
            "duration_s": row["duration_s"],
        }
        for row in report["files"]
        if row["status"] == "permitted"
        for found in row["recordings"]
    ]
    if not files:
        raise InvalidInput("nothing to declare: no file of this screening is permitted")
    receipt = declare(
        database,
        settings,
        principal,
        "dataset-manifest",
        {"licensee_id": job.licensee_id, "name": f"upload {job.job_id}", "files": files},
    )
    declared = replace(job, declaration={**receipt.as_json(), "files": len(files)})
    _save(settings, declared)
    return declared

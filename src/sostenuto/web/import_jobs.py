"""Catalogue imports started from the office, run in a background thread held in process.

A job keeps what its pages show: how far the import has read, its report, and the bad rows'
own lines (with the file's header) so that the admin can download them, fix them and upload
them again. The uploaded file is deleted when the import ends. Jobs live as long as the
process, up to ``KEPT`` of them; each is shown only to admins of the CMO it imported into.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sostenuto import registry
from sostenuto.auth import Principal
from sostenuto.errors import NotFound, SostenutoError
from sostenuto.storage import Database

State = Literal["running", "done", "failed"]
KEPT = 50  # jobs remembered per process; the oldest finished one goes first
JOB_ID_PATTERN = r"^[A-Za-z0-9_-]{16}$"


@dataclass
class ImportJob:
    id: str
    cmo_id: int
    started_by: str
    filename: str
    started_at: dt.datetime
    state: State = "running"
    read: int = 0
    size: int = 0
    report: registry.ImportReport | None = None
    failure: str | None = None
    # The file's header line and each bad row's own line, by line number.
    header: str = ""
    bad_lines: dict[int, str] = field(default_factory=dict)

    @property
    def percent(self) -> int:
        if self.state != "running":
            return 100
        return min(99, self.read * 100 // self.size) if self.size else 0

    def status(self) -> dict[str, object]:
        """What the page's progress poll reads."""
        report = self.report
        return {
            "id": self.id,
            "state": self.state,
            "percent": self.percent,
            "imported": report.imported if report else None,
            "updated": report.updated if report else None,
            "bad_rows": len(report.errors) if report else None,
            "failure": self.failure,
        }

    def bad_rows_csv(self) -> str:
        """The header and the bad rows as the file gave them, to fix and upload again."""
        lines = [self.header] + [self.bad_lines[n] for n in sorted(self.bad_lines)]
        return "\n".join(lines) + "\n"


def _lines_of(path: Path, wanted: set[int]) -> tuple[str, dict[int, str]]:
    """Line 1 and the ``wanted`` lines of the file (1-based, as the readers count them)."""
    header = ""
    found: dict[int, str] = {}
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 or number in wanted:
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                if number == 1:
                    header = text.removeprefix("\ufeff")
                if number in wanted:
                    found[number] = text
            if number >= max(wanted, default=1):
                break
    return header, found


class ImportJobs:
    """The process's import jobs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, ImportJob] = OrderedDict()

    def start(
        self, database: Database, caller: Principal, upload: Path, filename: str
    ) -> ImportJob:
        """Import ``upload`` (a CSV in a folder of its own, deleted at the end) into the
        caller's CMO in a background thread; the job, at once."""
        if caller.cmo_id is None:
            raise NotFound("this account is bound to no CMO")
        job = ImportJob(
            id=secrets.token_urlsafe(12),
            cmo_id=caller.cmo_id,
            started_by=caller.name,
            filename=filename,
            started_at=dt.datetime.now(dt.UTC),
            size=upload.stat().st_size,
        )
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
        worker = threading.Thread(
            target=self._run,
            args=(job, database, caller, upload),
            name=f"sostenuto-office-import-{job.id}",
            daemon=True,
        )
        worker.start()
        return job

    def _run(self, job: ImportJob, database: Database, caller: Principal, upload: Path) -> None:
        def progressed(read: int, size: int) -> None:
            job.read, job.size = read, size

        try:
            report = registry.import_catalogue(
                database,
                caller,
                upload,
                cmo_id=job.cmo_id,
                format="csv",
                on_progress=progressed,
            )
            job.header, job.bad_lines = _lines_of(upload, {e.line for e in report.errors})
            job.report = report
            job.state = "done"
        except SostenutoError as error:
            job.failure = error.message
            job.state = "failed"
        except Exception as error:  # the page must say the import stopped, whatever the cause
            job.failure = f"the import stopped: {type(error).__name__}"
            job.state = "failed"
        finally:
            shutil.rmtree(upload.parent, ignore_errors=True)

    def get(self, caller: Principal, job_id: str) -> ImportJob:
        """The job, if it imported into the caller's CMO (else, as if it did not exist)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.cmo_id != caller.cmo_id:
            raise NotFound(f"no import {job_id}")
        return job

    def of_cmo(self, caller: Principal) -> list[ImportJob]:
        """The caller's CMO's jobs, newest first."""
        with self._lock:
            return [j for j in reversed(self._jobs.values()) if j.cmo_id == caller.cmo_id]

    def _forget_old(self) -> None:
        while len(self._jobs) > KEPT:
            finished = next((k for k, j in self._jobs.items() if j.state != "running"), None)
            if finished is None:
                return
            del self._jobs[finished]

"""Output screening: which registered recordings a generated track reproduces, and where."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sostenuto.audio import decode_bytes
from sostenuto.auth import Principal, authorize
from sostenuto.identify._calibrate import catalogue_threshold
from sostenuto.identify._catalogue import file_sha256, open_catalogue, recording_of
from sostenuto.identify._fingerprint import fingerprint_file, fingerprint_samples
from sostenuto.identify._params import SAMPLE_RATE
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Recording


@dataclass(frozen=True)
class OutputReport:
    """Every registered recording found in an output, with its time span in both files."""

    sha256: str
    duration_s: float
    segments: list[dict[str, Any]]

    @property
    def regurgitated_seconds(self) -> float:
        return round(sum(float(s["query_end"]) - float(s["query_start"]) for s in self.segments), 2)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "duration_s": self.duration_s,
            "regurgitated_seconds": self.regurgitated_seconds,
            "segments": self.segments,
        }


def check_output(
    database: Database,
    settings: Settings,
    principal: Principal,
    source: str | Path | bytes,
    *,
    threshold: float | None = None,
) -> OutputReport:
    """Screen a generated file (a path, or the bytes of an upload) against the catalogue.

    ``threshold`` defaults to the catalogue's calibrated one (:func:`catalogue_threshold`).
    """
    authorize(principal, "identify.check-output")
    if threshold is None:
        threshold = catalogue_threshold(settings)
    if isinstance(source, bytes):
        import hashlib

        sha256 = hashlib.sha256(source).hexdigest()
        audio = decode_bytes(source, sample_rate=SAMPLE_RATE, mono=True, fast_resample=True)
        fingerprint = fingerprint_samples(audio.samples, query=True)
    else:
        sha256 = file_sha256(source)
        fingerprint = fingerprint_file(source, query=True)
    matches = open_catalogue(settings).search(fingerprint, threshold=threshold, max_results=50)
    ids = {rid for m in matches if (rid := recording_of(m.key)) is not None}
    titles: dict[int, tuple[str, str]] = {}
    if ids:
        with database.reader() as session:
            for rec in session.scalars(select(Recording).where(Recording.id.in_(ids))):
                titles[rec.id] = (rec.isrc, rec.title)
    segments = []
    for match in sorted(matches, key=lambda m: m.query_start):
        rid = recording_of(match.key)
        isrc, title = titles.get(rid, (None, None)) if rid is not None else (None, None)
        segments.append({**match.as_dict(), "recording_id": rid, "isrc": isrc, "title": title})
    return OutputReport(sha256, round(fingerprint.duration, 3), segments)

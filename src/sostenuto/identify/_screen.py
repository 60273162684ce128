"""Corpus screening: identify every file, ask the consent engine, write the report.

The job is resumable: each finished file is appended (and flushed to disk) to
``state.jsonl`` in the output folder before the next begins, and a rerun of the same command
skips the files already there. The report is written only once every file is done. A screen
is one threshold against one catalogue version: another threshold, or a catalogue that has
changed since, is another screen (another id and folder), so stored verdicts are never
relabelled with a threshold or catalogue they were not screened at.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sostenuto.auth import Principal, allowed, authorize, authorize_role
from sostenuto.consent import decide_batch
from sostenuto.errors import Conflict, InvalidInput, NotFound
from sostenuto.identify._calibrate import catalogue_threshold
from sostenuto.identify._catalogue import catalogue_path, open_catalogue, recording_of
from sostenuto.identify._corpus import FileResult, identify_file, list_corpus
from sostenuto.identify._report import load_report, write_reports
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import AiModel, Licensee, Recording
from sostenuto.vocabulary import check_territories, check_uses

Progress = Callable[[int, int], None]
_STATE = "state.jsonl"
_IDENTITY = "screen.json"  # which screen the folder's verdicts belong to


@dataclass(frozen=True)
class ScreenRequest:
    """What to screen, for whom, and for which use."""

    source: Path
    licensee_id: int
    use: str
    territory: str
    model: str | None = None  # an AI model of the licensee: id or name
    output_dir: Path | None = None
    # None: the catalogue's calibrated threshold, else DEFAULT_THRESHOLD (resolved when the
    # screening starts, written to the report and part of the screen id).
    threshold: float | None = None
    declare: bool = False
    ray_address: str | None = None


@dataclass
class ScreenReport:
    """The outcome of a screening, as written to report.json."""

    screen_id: str
    output_dir: Path
    summary: dict[str, int]
    files: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "screen_id": self.screen_id,
            "meta": self.meta,
            "summary": self.summary,
            "files": self.files,
        }


def screen_id_of(request: ScreenRequest, threshold: float, catalogue_version: str) -> str:
    """The same command at the same threshold against the same catalogue screens into the
    same folder, which is what makes it resumable; anything else is a new screen."""
    text = "|".join(
        [
            str(request.source.resolve()),
            str(request.licensee_id),
            str(request.model or ""),
            request.use,
            request.territory,
            f"{threshold:.6g}",
            catalogue_version,
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _claim_folder(output: Path, identity: dict[str, Any]) -> None:
    """Mark ``output`` as this screen's, or refuse it when it holds another screen's verdicts
    (a folder given with ``--output`` and reused at another threshold or catalogue)."""
    marker = output / _IDENTITY
    if marker.exists():
        held = json.loads(marker.read_text(encoding="utf-8"))
        if held != identity:
            raise Conflict(
                f"{output} holds screen {held.get('screen_id')} (threshold "
                f"{held.get('threshold')}, catalogue {held.get('catalogue_version')}): "
                "its verdicts are not relabelled; give another --output",
                details={"held": held, "wanted": identity},
            )
        return
    if (output / _STATE).exists():
        raise Conflict(
            f"{output} holds verdicts of a screen of unknown threshold; give another --output"
        )
    marker.write_text(json.dumps(identity), encoding="utf-8")


def screens_dir(settings: Settings) -> Path:
    return settings.data_dir / "identify" / "screens"


def _read_state(path: Path) -> dict[str, FileResult]:
    """The verdicts an earlier run wrote; a last line torn by an interruption is cut off,
    so that the next verdict appended starts a line of its own."""
    done: dict[str, FileResult] = {}
    if not path.exists():
        return done
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        with open(path, "r+b") as state:
            state.truncate(keep)
            os.fsync(state.fileno())
        data = data[:keep]
    for line in data.decode("utf-8").splitlines():
        try:
            result = FileResult.from_dict(json.loads(line))
        except (json.JSONDecodeError, TypeError):
            continue  # a line torn by an interruption: that file is screened again
        done[result.path] = result
    return done


def _check_request(
    database: Database, principal: Principal, request: ScreenRequest
) -> dict[str, Any]:
    authorize(principal, "identify.screen-corpus", licensee_id=request.licensee_id)
    (use,) = check_uses([request.use])
    (territory,) = check_territories([request.territory])
    with database.reader() as session:
        licensee = session.get(Licensee, request.licensee_id)
        if licensee is None:
            raise NotFound(f"no licensee {request.licensee_id}")
        model: AiModel | None = None
        if request.model is not None:
            query = select(AiModel).where(AiModel.licensee_id == request.licensee_id)
            if request.model.isdigit():
                query = query.where(AiModel.id == int(request.model))
            else:
                query = query.where(AiModel.name == request.model)
            model = session.scalars(query).first()
            if model is None:
                raise NotFound(f"licensee {request.licensee_id} has no AI model {request.model!r}")
    return {
        "licensee_id": licensee.id,
        "licensee": licensee.name,
        "model_id": model.id if model else None,
        "model": f"{model.name} {model.version}" if model else None,
        "use": use,
        "territory": territory,
    }


def _identify_all(
    settings: Settings,
    request: ScreenRequest,
    pending: Sequence[Path],
    threshold: float,
    catalogue_version: str,
) -> Iterator[FileResult]:
    if request.ray_address:
        from sostenuto.identify._ray import identify_on_ray

        yield from identify_on_ray(
            request.ray_address, catalogue_path(settings), catalogue_version, pending, threshold
        )
        return
    catalogue = open_catalogue(settings)
    for path in pending:
        yield identify_file(catalogue, path, threshold=threshold)


def screen_corpus(
    database: Database,
    settings: Settings,
    principal: Principal,
    request: ScreenRequest,
    *,
    progress: Progress | None = None,
) -> ScreenReport:
    """Screen a corpus folder or manifest; resumable, never stopped by one bad file."""
    meta = _check_request(database, principal, request)
    threshold = catalogue_threshold(settings) if request.threshold is None else request.threshold
    if not math.isfinite(threshold) or threshold < 0.0:
        raise InvalidInput(f"the threshold must be a number of at least 0, not {threshold}")
    files = list_corpus(request.source)
    if not files:
        raise InvalidInput(f"no audio files in {request.source}")
    catalogue_version = open_catalogue(settings).version()
    screen_id = screen_id_of(request, threshold, catalogue_version)
    output = request.output_dir or screens_dir(settings) / screen_id
    output.mkdir(parents=True, exist_ok=True)
    _claim_folder(
        output,
        {"screen_id": screen_id, "threshold": threshold, "catalogue_version": catalogue_version},
    )
    state_path = output / _STATE
    done = _read_state(state_path)
    pending = [p for p in files if str(p) not in done]
    if progress:
        progress(len(files) - len(pending), len(files))
    with open(state_path, "a", encoding="utf-8") as state:
        for result in _identify_all(settings, request, pending, threshold, catalogue_version):
            state.write(json.dumps(result.as_dict()) + "\n")
            state.flush()
            os.fsync(state.fileno())
            done[result.path] = result
            if progress:
                progress(len(done), len(files))
    results = [done[str(p)] for p in files]
    rows = _decide(database, principal, meta, results)
    summary = {
        status: sum(1 for row in rows if row["status"] == status)
        for status in ("permitted", "denied", "undecided", "unregistered", "unreadable")
    }
    meta.update(
        source=str(request.source),
        files=len(files),
        threshold=threshold,
        catalogue_version=catalogue_version,
        screened_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    report = ScreenReport(screen_id, output, summary, rows, meta)
    if request.declare:
        report.meta["declaration"] = _declare(database, settings, principal, report)
    write_reports(report.as_dict(), output)
    return report


def _decide(
    database: Database, principal: Principal, meta: dict[str, Any], results: list[FileResult]
) -> list[dict[str, Any]]:
    """One row per file: its recordings and the consent decision for each."""
    recording_ids = sorted(
        {rid for r in results for m in r.matches if (rid := recording_of(m["key"])) is not None}
    )
    decisions: dict[int, dict[str, Any]] = {}
    recordings: dict[int, tuple[str, str]] = {}
    with database.transaction() as session:
        if recording_ids:
            for rec in session.scalars(select(Recording).where(Recording.id.in_(recording_ids))):
                recordings[rec.id] = (rec.isrc, rec.title)
            known = [rid for rid in recording_ids if rid in recordings]
            decisions = _consent(session, principal, meta, known)
    rows: list[dict[str, Any]] = []
    for result in results:
        found = []
        for match in result.matches:
            rid = recording_of(match["key"])
            if rid is None or rid not in recordings:
                continue
            isrc, title = recordings[rid]
            decision = decisions.get(rid, {"outcome": "undecided", "reason": "no decision"})
            found.append(
                {**match, "recording_id": rid, "isrc": isrc, "title": title, "decision": decision}
            )
        status = result.status
        if status == "identified":
            outcomes = {f["decision"]["outcome"] for f in found}
            if not found:
                status = "unregistered"
            elif "deny" in outcomes:
                status = "denied"
            elif outcomes == {"permit"}:
                status = "permitted"
            else:
                status = "undecided"
        rows.append(
            {
                "path": result.path,
                "status": status,
                "sha256": result.sha256,
                "duration_s": result.duration_s,
                "error": result.error,
                "recordings": found,
            }
        )
    return rows


def _consent(
    session: Any, principal: Principal, meta: dict[str, Any], recording_ids: list[int]
) -> dict[int, dict[str, Any]]:
    if not recording_ids:
        return {}
    batch = decide_batch(
        session,
        principal,
        licensee_id=meta["licensee_id"],
        recording_ids=recording_ids,
        use=meta["use"],
        territory=meta["territory"],
    )
    return {
        decision_recording: {
            "id": result.id,
            "outcome": result.outcome,
            "reason": result.reason,
            "conditions": list(result.conditions),
        }
        for decision_recording, result in zip(batch.recording_ids, batch.results, strict=True)
    }


def _declare(
    database: Database, settings: Settings, principal: Principal, report: ScreenReport
) -> dict[str, Any]:
    """Declare the usable part of the corpus (permitted and unregistered files) in one entry."""
    from sostenuto.declarations import declare

    files: list[dict[str, Any]] = []
    for row in report.files:
        if row["status"] == "permitted":
            for found in row["recordings"]:
                files.append(
                    {
                        "sha256": row["sha256"],
                        "recording_id": found["recording_id"],
                        "isrc": found["isrc"],
                        "decision_id": found["decision"]["id"],
                        "duration_s": row["duration_s"],
                    }
                )
        elif row["status"] == "unregistered":
            files.append(
                {"sha256": row["sha256"], "source": "other", "duration_s": row["duration_s"]}
            )
    if not files:
        raise InvalidInput("nothing to declare: no file of this corpus is permitted or free")
    payload: dict[str, Any] = {
        "licensee_id": report.meta["licensee_id"],
        "name": Path(report.meta["source"]).name[:200] or "corpus",
        "files": files,
    }
    if report.meta.get("model_id"):
        payload["model_id"] = report.meta["model_id"]
    receipt = declare(database, settings, principal, "dataset-manifest", payload)
    return {
        "index": receipt.index,
        "leaf_hash": receipt.leaf_hash,
        "entry_id": receipt.entry_id,
        "files": len(files),
    }


def get_screen_report(settings: Settings, principal: Principal, screen_id: str) -> dict[str, Any]:
    """A finished screening report, for its licensee and auditors: a licensee's corpus is its
    own business (a CMO sees the decisions on its repertoire, not the corpus)."""
    authorize_role(principal, "identify.screen.read")
    if len(screen_id) != 16 or any(c not in "0123456789abcdef" for c in screen_id):
        raise NotFound(f"no screening {screen_id!r}")
    report = load_report(screens_dir(settings) / screen_id)
    authorize(principal, "identify.screen.read", licensee_id=int(report["meta"]["licensee_id"]))
    return report


def list_screen_reports(settings: Settings, principal: Principal) -> list[dict[str, Any]]:
    """Summaries of the finished screenings the caller may see, newest first."""
    authorize_role(principal, "identify.screen.read")
    found: list[dict[str, Any]] = []
    root = screens_dir(settings)
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if not (folder / "report.json").exists():
            continue
        report = load_report(folder)
        licensee = int(report["meta"]["licensee_id"])
        if not allowed(principal, "identify.screen.read", licensee_id=licensee):
            continue
        found.append(
            {"screen_id": report["screen_id"], "summary": report["summary"], **report["meta"]}
        )
    found.sort(key=lambda r: str(r.get("screened_at")), reverse=True)
    return found

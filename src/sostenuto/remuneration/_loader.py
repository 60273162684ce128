"""Fill usage records from the transparency log.

* ``training-run`` entries name dataset manifests; each manifest file identified as a
  registered recording becomes a :class:`TrainingUse` of the run's model, dated by the run's
  end (or start), with the run, the manifest and the file's consent decision as evidence.
* ``output-declaration`` entries become :class:`OutputUse`; a resemblance naming a recording
  is a regurgitated segment, one naming a performer a voice match, spread evenly over the
  recordings where that performer's voice is registered. ``voice-match`` entries add voice
  matches to the output with the same content hash (blocked outputs were never released).

Weights are match scores in millionths.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.remuneration._usage import OutputUse, Resemblance, TrainingUse, Usage
from sostenuto.storage.models.registry import Contribution
from sostenuto.storage.models.transparency import LogEntry

SCORE_SCALE = 10**6
USAGE_ENTRY_TYPES = ("dataset-manifest", "training-run", "output-declaration", "voice-match")


@dataclass(frozen=True)
class LoggedEntry:
    """A log entry as the loader needs it: id (leaf hash, hex), type and payload."""

    entry_id: str
    entry_type: str
    payload: Mapping[str, Any]


def _score(value: Any) -> int:
    return round(float(value) * SCORE_SCALE)


def _voice(
    performer: int, score: int, evidence: tuple[str, ...], voices: Mapping[int, Sequence[int]]
) -> list[Resemblance]:
    recordings = sorted(voices.get(performer, ()))
    if not recordings:
        return []
    each = score // len(recordings)
    if each <= 0:
        return []
    return [Resemblance(r, "voice", each, evidence) for r in recordings]


def usage_from_entries(
    entries: Iterable[LoggedEntry], voice_recordings: Mapping[int, Sequence[int]]
) -> Usage:
    """Usage records from log entries (any order); ``voice_recordings`` maps a performer to
    the recordings where their voice is registered."""
    manifests: dict[str, Mapping[str, Any]] = {}
    runs: list[LoggedEntry] = []
    outputs: list[LoggedEntry] = []
    voice_matches: dict[str, list[LoggedEntry]] = defaultdict(list)
    for entry in entries:
        if entry.entry_type == "dataset-manifest":
            manifests[entry.entry_id] = entry.payload
        elif entry.entry_type == "training-run":
            runs.append(entry)
        elif entry.entry_type == "output-declaration":
            outputs.append(entry)
        elif entry.entry_type == "voice-match" and entry.payload.get("action") != "blocked":
            voice_matches[str(entry.payload["output_sha256"])].append(entry)

    training: list[TrainingUse] = []
    for run in runs:
        payload = run.payload
        on = dt.date.fromisoformat(str(payload.get("ended_on") or payload["started_on"]))
        for manifest_id in payload["manifests"]:
            manifest = manifests.get(manifest_id)
            if manifest is None:
                continue
            for file in manifest["files"]:
                recording = file.get("recording_id")
                if recording is None:
                    continue
                evidence = (run.entry_id, manifest_id, str(file.get("decision_id") or ""))
                training.append(
                    TrainingUse(
                        model_id=int(payload["model_id"]),
                        recording_id=int(recording),
                        declared_on=on,
                        evidence=tuple(e for e in evidence if e),
                    )
                )

    uses: list[OutputUse] = []
    for output in outputs:
        payload = output.payload
        found: list[Resemblance] = []
        for match in payload.get("resemblances", ()):
            score = _score(match["score"])
            if score <= 0:
                continue
            if match.get("recording_id") is not None:
                found.append(Resemblance(int(match["recording_id"]), "segment", score))
            elif match.get("performer_id") is not None:
                found.extend(_voice(int(match["performer_id"]), score, (), voice_recordings))
        for voice in voice_matches.get(str(payload["output_sha256"]), ()):
            found.extend(
                _voice(
                    int(voice.payload["performer_id"]),
                    _score(voice.payload["score"]),
                    (voice.entry_id,),
                    voice_recordings,
                )
            )
        uses.append(
            OutputUse(
                output_id=output.entry_id,
                model_id=int(payload["model_id"]),
                declared_on=dt.date.fromisoformat(str(payload["generated_on"])),
                resemblances=tuple(found),
                evidence=(output.entry_id,),
            )
        )
    return Usage(training=training, outputs=uses)


def voice_recordings(session: Session) -> dict[int, list[int]]:
    """Performer id → recordings where the registry lists their voice."""
    result: dict[int, list[int]] = defaultdict(list)
    rows = session.execute(
        select(Contribution.performer_id, Contribution.recording_id).where(
            Contribution.kind == "voice"
        )
    )
    for performer, recording in rows:
        result[performer].append(recording)
    return dict(result)


def load_usage(session: Session) -> Usage:
    """All usage the transparency log holds (the run keeps what falls in its period)."""
    rows = session.execute(
        select(LogEntry.leaf_hash, LogEntry.entry_type, LogEntry.body)
        .where(LogEntry.entry_type.in_(USAGE_ENTRY_TYPES))
        .order_by(LogEntry.idx)
    )
    entries = [
        LoggedEntry(bytes(leaf).hex(), entry_type, orjson.loads(body)["payload"])
        for leaf, entry_type, body in rows
    ]
    return usage_from_entries(entries, voice_recordings(session))

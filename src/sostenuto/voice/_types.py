"""What the voice service hands back: voiceprints, screening reports and their ranges."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["authorised", "unauthorised", "unknown-voice"]
STATUSES: tuple[Status, ...] = ("authorised", "unauthorised", "unknown-voice")


@dataclass(frozen=True)
class VoiceprintInfo:
    """A stored voiceprint, without its embedding."""

    id: int
    performer_id: int
    performer_name: str
    model_name: str
    model_version: str
    clips: int
    clip_sha256: list[str]
    voiced_seconds: float
    current: bool
    created_at: dt.datetime
    created_by: str

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        return data


@dataclass(frozen=True)
class ClipCheck:
    """One reference clip as enrolment measured it; ``problem`` refuses the enrolment."""

    name: str
    seconds: float
    voiced_seconds: float
    level_dbfs: float | None
    similarity: float | None  # to the mean of the other clips (three clips or more)
    clipped: float  # share of samples at full scale
    problem: str | None = None
    warnings: tuple[str, ...] = ()
    decoded: bool = True  # False: not audio, or a format that cannot be decoded

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["warnings"] = list(self.warnings)
        return data


@dataclass(frozen=True)
class EnrolmentReport:
    """Every clip of one enrolment, checked in one pass."""

    clips: list[ClipCheck]
    voiced_seconds: float
    recommended_seconds: float
    expected_miss: float | None  # share of segments screening missed with this much voice
    problems: list[str]
    warnings: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "clips": [c.as_json() for c in self.clips],
            "voiced_seconds": self.voiced_seconds,
            "recommended_seconds": self.recommended_seconds,
            "expected_miss": self.expected_miss,
            "problems": self.problems,
            "warnings": self.warnings,
        }


@dataclass(frozen=True)
class Enrolment:
    """The voiceprints an enrolment stored and the report of its clips."""

    voiceprints: list[VoiceprintInfo]
    report: EnrolmentReport


@dataclass(frozen=True)
class RangeReport:
    """A stretch of the file: whose voice it is (if enrolled) and whether that is allowed."""

    start: float
    end: float
    status: Status
    performer_id: int | None = None
    performer_name: str | None = None
    score: float | None = None
    false_match_rate: float | None = None
    decision_id: str | None = None
    reason: str | None = None
    # Evidence (screenings since the cohort-normalised decision): the best segment's lead
    # over the next voice, and the pitch shift (semitones) under which it matched.
    margin: float | None = None
    pitch_shift: int | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ScreeningReport:
    """The result of screening one file against every enrolled voice."""

    id: str
    filename: str
    audio_sha256: str
    duration_s: float
    voiced_seconds: float
    model_name: str
    model_version: str
    emphasis: str
    threshold: float
    voices_searched: int
    licensee_id: int | None
    territory: str | None
    on_date: dt.date | None
    screened_at: dt.datetime
    ranges: list[RangeReport]
    declared: dict[int, int] = field(default_factory=dict)  # performer id -> log index
    # Voices with a current print of one model but not the other (enrolled before the fused
    # score existed): they cannot be searched until they are enrolled again.
    voices_not_searched: int = 0

    @property
    def unauthorised(self) -> list[RangeReport]:
        return [r for r in self.ranges if r.status == "unauthorised"]

    @property
    def matched_performers(self) -> list[int]:
        return sorted({r.performer_id for r in self.ranges if r.performer_id is not None})

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "filename": self.filename,
            "audio_sha256": self.audio_sha256,
            "duration_s": self.duration_s,
            "voiced_seconds": self.voiced_seconds,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "emphasis": self.emphasis,
            "threshold": self.threshold,
            "voices_searched": self.voices_searched,
            "voices_not_searched": self.voices_not_searched,
            "licensee_id": self.licensee_id,
            "territory": self.territory,
            "on_date": self.on_date.isoformat() if self.on_date else None,
            "screened_at": self.screened_at.isoformat(),
            "ranges": [r.as_json() for r in self.ranges],
            "declared": {str(k): v for k, v in self.declared.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScreeningReport:
        return cls(
            id=data["id"],
            filename=data["filename"],
            audio_sha256=data["audio_sha256"],
            duration_s=float(data["duration_s"]),
            voiced_seconds=float(data["voiced_seconds"]),
            model_name=data["model_name"],
            model_version=data["model_version"],
            emphasis=data["emphasis"],
            threshold=float(data["threshold"]),
            voices_searched=int(data["voices_searched"]),
            voices_not_searched=int(data.get("voices_not_searched", 0)),
            licensee_id=data["licensee_id"],
            territory=data["territory"],
            on_date=dt.date.fromisoformat(data["on_date"]) if data["on_date"] else None,
            screened_at=dt.datetime.fromisoformat(data["screened_at"]),
            ranges=[RangeReport(**r) for r in data["ranges"]],
            declared={int(k): int(v) for k, v in data.get("declared", {}).items()},
        )

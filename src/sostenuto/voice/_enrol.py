"""Enrolment: reference clips of a performer's voice become a stored voiceprint.

Every clip is decoded, checked and embedded before anything is written; the voiceprints (the
GE2E embedding, and the MFCC statistics fused with it at screening) are then stored in one
transaction. Every clip is checked in one pass and one report lists them all (seconds of
voice, level, clipping, similarity to the other clips, and each problem); any problem aborts
the enrolment and the previous voiceprint stays current.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sostenuto.audio import decode, decode_bytes
from sostenuto.audit import record_change
from sostenuto.auth import Principal, authorize_role
from sostenuto.errors import InvalidInput, UnsupportedFormat
from sostenuto.storage import Database
from sostenuto.voice import _mfcc
from sostenuto.voice._calibration import calibration_key, fusion, screening_miss_by_enrolment
from sostenuto.voice._embed import EMPHASES, Emphasis, Floats, normalised_mean, partials
from sostenuto.voice._model import SAMPLE_RATE, SpeakerModel, load_model
from sostenuto.voice._store import info, performer_or_404, require_manager, save_voiceprint
from sostenuto.voice._types import ClipCheck, Enrolment, EnrolmentReport, VoiceprintInfo
from sostenuto.voice._vad import Region, is_silent, level_dbfs

MIN_CLIP_SECONDS = 0.5
MIN_CLIP_VOICED = 0.5
MIN_TOTAL_VOICED = 3.0
RECOMMENDED_VOICED = 20.0  # below it screening misses markedly more (docs/voice.md)
CLIP_LEVEL = 0.999  # a sample at full scale: clipped
MAX_CLIPPED = 0.01
MAX_CLIPS = 100
# A clip whose embedding is this far from the other clips' mean is not the same voice
# (measured: same voice 0.75-0.95 on 1-4 s clips, a different voice 0.55-0.65).
CONSISTENCY_FLOOR = 0.65
SHORT_CONSISTENCY_FLOOR = 0.5  # clips with under 2 s of voice


@dataclass(frozen=True)
class Clip:
    """A reference recording: a file on disk, or uploaded bytes with their file name."""

    name: str
    data: bytes | None = None
    path: Path | None = None

    @classmethod
    def from_path(cls, path: str | Path) -> Clip:
        path = Path(path)
        return cls(name=path.name, path=path)

    def read(self) -> tuple[Floats, str]:
        """The clip at 16 kHz mono and the SHA-256 of its bytes as received."""
        if self.path is not None:
            if not self.path.is_file():
                raise InvalidInput(f"no such audio file: {self.path}")
            digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
            return decode(self.path, sample_rate=SAMPLE_RATE).samples, digest
        raw = self.data or b""
        digest = hashlib.sha256(raw).hexdigest()
        return decode_bytes(raw, sample_rate=SAMPLE_RATE).samples, digest


@dataclass(frozen=True)
class _Embedded:
    name: str
    sha256: str
    voiced_seconds: float
    vectors: dict[Emphasis, Floats]
    mfcc: Floats  # raw MFCC statistics of the voiced frames


def _measure(model: SpeakerModel, clip: Clip) -> tuple[ClipCheck, _Embedded | None]:
    """Check one clip; a problem is reported in its check, never raised."""
    try:
        samples, digest = clip.read()
    except UnsupportedFormat as error:
        check = ClipCheck(clip.name, 0.0, 0.0, None, None, 0.0, error.message, decoded=False)
        return check, None
    except InvalidInput as error:
        return ClipCheck(clip.name, 0.0, 0.0, None, None, 0.0, problem=error.message), None
    duration = samples.size / SAMPLE_RATE
    level = level_dbfs(samples)
    clipped = float(np.mean(np.abs(samples) >= CLIP_LEVEL)) if samples.size else 0.0
    shown = round(level, 1) if np.isfinite(level) else None
    check = ClipCheck(clip.name, round(duration, 2), 0.0, shown, None, round(clipped, 4))
    if duration < MIN_CLIP_SECONDS:
        return replace(
            check,
            problem=f"too short: {duration:.2f} s; at least {MIN_CLIP_SECONDS} s is needed",
        ), None
    if is_silent(samples):
        return replace(check, problem="silent: no voice to enrol"), None
    vectors: dict[Emphasis, Floats] = {}
    voiced = 0.0
    regions: list[Region] = []
    for emphasis in EMPHASES:
        found = partials(model, samples, emphasis)
        voiced = found.voiced_seconds
        if voiced < MIN_CLIP_VOICED or found.embeddings.shape[0] == 0:
            return replace(
                check,
                voiced_seconds=round(voiced, 2),
                problem=f"holds {voiced:.2f} s of voice; at least {MIN_CLIP_VOICED} s is needed",
            ), None
        vectors[emphasis] = normalised_mean(found.embeddings)
        regions = found.regions
    warnings = []
    if clipped > MAX_CLIPPED:
        warnings.append(f"{clipped:.1%} of samples clipped: distortion lowers the match")
    check = replace(check, voiced_seconds=round(voiced, 2), warnings=tuple(warnings))
    mfcc = _mfcc.signal_statistics(samples, regions)
    return check, _Embedded(clip.name, digest, voiced, vectors, mfcc)


def _consistency(checks: list[ClipCheck], embedded: list[_Embedded | None]) -> list[ClipCheck]:
    """Each usable clip's similarity to the mean of the others; a clear outlier is refused."""
    usable = [i for i, e in enumerate(embedded) if e is not None]
    if len(usable) < 3:
        return checks
    matrix = np.stack([embedded[i].vectors["none"] for i in usable])  # type: ignore[union-attr]
    out = list(checks)
    for row, i in enumerate(usable):
        others = normalised_mean(np.delete(matrix, row, axis=0))
        similarity = float(matrix[row] @ others)
        # Short clips embed noisily: a 1 s shout of the same speaker can fall to 0.6.
        floor = CONSISTENCY_FLOOR if checks[i].voiced_seconds >= 2.0 else SHORT_CONSISTENCY_FLOOR
        problem = None
        if similarity < floor:
            problem = (
                f"does not sound like the other clips (similarity {similarity:.2f} < {floor}); "
                "enrol one voice at a time"
            )
        out[i] = replace(checks[i], similarity=round(similarity, 3), problem=problem)
    return out


def expected_miss(voiced_seconds: float) -> float | None:
    """Share of a voice's segments screening missed, measured for prints of this much speech."""
    rows = screening_miss_by_enrolment()
    for upto, miss in rows:
        if voiced_seconds < upto:
            return miss
    return rows[-1][1] if rows else None


def check_clips(
    clips: Sequence[Clip], *, accept_short: bool = False, model: SpeakerModel | None = None
) -> tuple[EnrolmentReport, list[_Embedded]]:
    """Check every clip in one pass; the report lists every problem at once."""
    if not clips:
        raise InvalidInput("enrolment needs at least one reference clip")
    if len(clips) > MAX_CLIPS:
        raise InvalidInput(f"at most {MAX_CLIPS} clips per enrolment; got {len(clips)}")
    model = model or load_model()
    measured = [_measure(model, clip) for clip in clips]
    checks = _consistency([m[0] for m in measured], [m[1] for m in measured])
    embedded = [e for (_, e), c in zip(measured, checks, strict=True) if e and not c.problem]
    total = sum(e.voiced_seconds for e in embedded)
    problems = [f"clip {c.name!r}: {c.problem}" for c in checks if c.problem]
    warnings = [f"clip {c.name!r}: {w}" for c in checks for w in c.warnings]
    miss = expected_miss(total)
    if not problems and total < MIN_TOTAL_VOICED:
        problems.append(
            f"the clips hold {total:.1f} s of voice in all; enrolment needs at least "
            f"{MIN_TOTAL_VOICED} s ({RECOMMENDED_VOICED:.0f} s or more recommended)"
        )
    elif total < RECOMMENDED_VOICED:
        expected = f"; expect about {miss:.0%} of its segments to be missed" if miss else ""
        note = (
            f"{total:.1f} s of voice is below the recommended {RECOMMENDED_VOICED:.0f} s{expected}"
        )
        if accept_short:
            warnings.append(f"{note} (accepted on request)")
        elif not problems:
            problems.append(f"{note}: add clips, or accept a weaker voiceprint explicitly")
    report = EnrolmentReport(
        clips=checks,
        voiced_seconds=round(total, 2),
        recommended_seconds=RECOMMENDED_VOICED,
        expected_miss=miss,
        problems=problems,
        warnings=warnings,
    )
    return report, embedded


def enrol_voice(
    database: Database,
    principal: Principal,
    *,
    performer_id: int,
    clips: Sequence[Clip],
    model: SpeakerModel | None = None,
    accept_short: bool = False,
) -> list[VoiceprintInfo]:
    """Enrol a performer's voice from reference clips; returns the new current voiceprints."""
    return enrol_with_report(
        database,
        principal,
        performer_id=performer_id,
        clips=clips,
        model=model,
        accept_short=accept_short,
    ).voiceprints


def enrol_with_report(
    database: Database,
    principal: Principal,
    *,
    performer_id: int,
    clips: Sequence[Clip],
    model: SpeakerModel | None = None,
    accept_short: bool = False,
) -> Enrolment:
    """Check every clip, refuse with one report listing every problem, else enrol.

    Less voice than recommended is refused unless ``accept_short`` (the report then keeps
    the warning and the miss rate to expect).
    """
    authorize_role(principal, "voiceprint.enrol")
    with database.reader() as session:
        require_manager(session, principal, performer_or_404(session, performer_id))
    model = model or load_model()
    report, embedded = check_clips(clips, accept_short=accept_short, model=model)
    if report.problems:
        message = (
            f"{len(report.problems)} problem(s) with the clips, nothing enrolled:\n  "
            + "\n  ".join(report.problems)
        )
        bad = [c for c in report.clips if c.problem]
        if bad and not any(c.decoded for c in bad):  # only undecodable files: as before
            raise UnsupportedFormat(message, details=report.as_json())
        raise InvalidInput(message, details=report.as_json())
    total = sum(e.voiced_seconds for e in embedded)
    hashes = [e.sha256 for e in embedded]
    constants = fusion()  # read before writing: a broken calibration must not half-enrol
    prints: list[tuple[str, str, Floats]] = [
        (
            calibration_key(model.name, emphasis),
            model.version,
            normalised_mean(np.stack([e.vectors[emphasis] for e in embedded])),
        )
        for emphasis in EMPHASES
    ]
    raw = np.mean(np.stack([e.mfcc for e in embedded]), axis=0).astype(np.float32)
    mfcc = _mfcc.standardise(raw, constants.mfcc_mean, constants.mfcc_std)[0]
    prints.append((_mfcc.MODEL_NAME, _mfcc.model_version(), mfcc))
    created: list[VoiceprintInfo] = []
    with database.transaction() as session:
        performer = performer_or_404(session, performer_id)
        for model_name, model_version, vector in prints:
            row = save_voiceprint(
                session,
                principal,
                performer_id=performer_id,
                model_name=model_name,
                model_version=model_version,
                vector=vector,
                clip_sha256=hashes,
                voiced_seconds=total,
            )
            view = info(row, performer.name)
            record_change(
                session,
                principal,
                action="enrol",
                entity_type="voiceprint",
                entity_id=row.id,
                before=None,
                after=view.as_json(),
            )
            created.append(view)
    return Enrolment(created, report)

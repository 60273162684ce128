"""Enrolment: reference clips of a performer's voice become a stored voiceprint.

Every clip is decoded, checked and embedded before anything is written; the voiceprints (the
GE2E embedding, and the MFCC statistics fused with it at screening) are then stored in one
transaction. A clip that fails any check aborts the enrolment and the previous voiceprint
stays current.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sostenuto.audio import decode, decode_bytes
from sostenuto.audit import record_change
from sostenuto.auth import Principal, authorize_role
from sostenuto.errors import InvalidInput
from sostenuto.storage import Database
from sostenuto.voice import _mfcc
from sostenuto.voice._calibration import calibration_key, fusion
from sostenuto.voice._embed import EMPHASES, Emphasis, Floats, normalised_mean, partials
from sostenuto.voice._model import SAMPLE_RATE, SpeakerModel, load_model
from sostenuto.voice._store import info, performer_or_404, require_manager, save_voiceprint
from sostenuto.voice._types import VoiceprintInfo
from sostenuto.voice._vad import Region, is_silent

MIN_CLIP_SECONDS = 0.5
MIN_CLIP_VOICED = 0.5
MIN_TOTAL_VOICED = 3.0
MAX_CLIPS = 100
# A clip whose embedding is this far from the other clips' mean is not the same voice
# (measured: same voice 0.75-0.95 on 1-4 s clips, a different voice 0.55-0.65).
CONSISTENCY_FLOOR = 0.65


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


def _embed_clip(model: SpeakerModel, clip: Clip) -> _Embedded:
    samples, digest = clip.read()
    duration = samples.size / SAMPLE_RATE
    where = {"clip": clip.name}
    if duration < MIN_CLIP_SECONDS:
        raise InvalidInput(
            f"clip {clip.name!r} is too short: {duration:.2f} s; at least "
            f"{MIN_CLIP_SECONDS} s is needed",
            details=where,
        )
    if is_silent(samples):
        raise InvalidInput(f"clip {clip.name!r} is silent: no voice to enrol", details=where)
    vectors: dict[Emphasis, Floats] = {}
    voiced = 0.0
    regions: list[Region] = []
    for emphasis in EMPHASES:
        found = partials(model, samples, emphasis)
        voiced = found.voiced_seconds
        if voiced < MIN_CLIP_VOICED or found.embeddings.shape[0] == 0:
            raise InvalidInput(
                f"clip {clip.name!r} holds {voiced:.2f} s of voice; at least "
                f"{MIN_CLIP_VOICED} s is needed",
                details=where,
            )
        vectors[emphasis] = normalised_mean(found.embeddings)
        regions = found.regions
    return _Embedded(clip.name, digest, voiced, vectors, _mfcc.signal_statistics(samples, regions))


def _check_consistency(embedded: list[_Embedded]) -> None:
    """Refuse a set of clips in which one is clearly another voice."""
    if len(embedded) < 3:
        return
    matrix = np.stack([e.vectors["none"] for e in embedded])
    for i, clip in enumerate(embedded):
        others = normalised_mean(np.delete(matrix, i, axis=0))
        similarity = float(matrix[i] @ others)
        if similarity < CONSISTENCY_FLOOR:
            raise InvalidInput(
                f"clip {clip.name!r} does not sound like the other clips "
                f"(similarity {similarity:.2f} < {CONSISTENCY_FLOOR}); enrol one voice at a time",
                details={"clip": clip.name, "similarity": round(similarity, 3)},
            )


def enrol_voice(
    database: Database,
    principal: Principal,
    *,
    performer_id: int,
    clips: Sequence[Clip],
    model: SpeakerModel | None = None,
) -> list[VoiceprintInfo]:
    """Enrol a performer's voice from reference clips; returns the new current voiceprints."""
    authorize_role(principal, "voiceprint.enrol")
    if not clips:
        raise InvalidInput("enrolment needs at least one reference clip")
    if len(clips) > MAX_CLIPS:
        raise InvalidInput(f"at most {MAX_CLIPS} clips per enrolment; got {len(clips)}")
    with database.reader() as session:
        require_manager(session, principal, performer_or_404(session, performer_id))
    model = model or load_model()
    embedded = [_embed_clip(model, clip) for clip in clips]
    total = sum(e.voiced_seconds for e in embedded)
    if total < MIN_TOTAL_VOICED:
        raise InvalidInput(
            f"the clips hold {total:.1f} s of voice in all; enrolment needs at least "
            f"{MIN_TOTAL_VOICED} s (30 s or more recommended)",
            details={"voiced_seconds": round(total, 2)},
        )
    _check_consistency(embedded)
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
    return created

"""Score thresholds calibrated on impostor trials, and the false-match rate of a score.

``calibration.json`` beside this module is written by ``python benchmarks/voice.py
--write-calibration``: for each model version it holds the impostor-score curve measured on
real voices (3 s probe segments against voiceprints from other utterances) and the threshold
that gives the target false-match rate. A score is reported with the false-match rate that
curve gives it, so a reader sees how surprising a match would be from a stranger.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sostenuto.errors import IntegrityFailure

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
# Voiceprints of synthetic voices that join every screening's cohort (docs/voice.md).
COHORT_FILE = Path(__file__).with_name("cohort.json")
TARGET_FMR = 0.01
# The fused score: GE2E cosine and MFCC-statistics cosine, each standardised by the mean and
# standard deviation of its clean impostor scores, summed (docs/voice.md).
FUSION_KEY = "resemblyzer-ge2e+mfcc-stats"


@dataclass(frozen=True)
class Calibration:
    """Threshold and impostor curve of one embedding model."""

    model_name: str
    threshold: float
    target_fmr: float
    # (score, fraction of impostor trials scoring at or above it), scores increasing.
    curve: tuple[tuple[float, float], ...]
    source: str

    def false_match_rate(self, score: float) -> float:
        """Fraction of impostor trials that scored at least ``score`` (interpolated)."""
        if not self.curve:
            return 1.0 if score < self.threshold else self.target_fmr
        xs = np.array([point[0] for point in self.curve])
        ys = np.array([point[1] for point in self.curve])
        return float(np.interp(score, xs, ys, left=1.0, right=float(ys[-1])))


def threshold_for_rate(impostor_scores: list[float], rate: float) -> float:
    """The lowest threshold at which at most ``rate`` of the impostor scores pass."""
    if not impostor_scores:
        raise IntegrityFailure("no impostor scores to calibrate on")
    ordered = np.sort(np.asarray(impostor_scores, dtype=np.float64))
    allowed = int(np.floor(rate * ordered.size))
    # Scores strictly above the threshold pass; keep ``allowed`` of them at most.
    index = ordered.size - allowed - 1
    return float(np.nextafter(ordered[index], np.inf))


def impostor_curve(impostor_scores: list[float], points: int = 41) -> list[tuple[float, float]]:
    """A compact curve of the impostor score distribution for :meth:`false_match_rate`."""
    ordered = np.sort(np.asarray(impostor_scores, dtype=np.float64))
    quantiles = np.linspace(0.0, 1.0, points) ** 0.25  # denser in the upper tail
    scores = np.quantile(ordered, quantiles)
    curve = []
    for score in scores:
        rate = float(np.mean(ordered >= score))
        curve.append((round(float(score), 5), round(rate, 6)))
    return curve


def calibration_key(model_name: str, emphasis: str) -> str:
    return model_name if emphasis == "none" else f"{model_name}+{emphasis}"


@lru_cache(maxsize=8)
def calibration_for(model_name: str, emphasis: str = "none") -> Calibration:
    """The stored calibration of ``model_name`` with ``emphasis`` applied to both sides."""
    key = calibration_key(model_name, emphasis)
    try:
        data = json.loads(CALIBRATION_FILE.read_text())
        entry = data[key]
        return Calibration(
            model_name=key,
            threshold=float(entry["threshold"]),
            target_fmr=float(entry["target_fmr"]),
            curve=tuple((float(s), float(r)) for s, r in entry["curve"]),
            source=str(entry["source"]),
        )
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise IntegrityFailure(
            f"no usable calibration for voice model {key!r} in {CALIBRATION_FILE.name}",
            details={"error": str(error)},
        ) from error


@dataclass(frozen=True)
class Fusion:
    """How the two scores are combined, the MFCC standardisation, and the fused threshold."""

    calibration: Calibration
    ge2e: tuple[float, float]  # impostor mean and standard deviation of the GE2E cosine
    mfcc: tuple[float, float]  # the same for the MFCC-statistics cosine
    mfcc_mean: npt.NDArray[np.float32]
    mfcc_std: npt.NDArray[np.float32]

    def score(
        self, ge2e: npt.NDArray[np.float32], mfcc: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        """The fused score of aligned GE2E and MFCC cosine matrices."""
        fused = (ge2e - self.ge2e[0]) / self.ge2e[1] + (mfcc - self.mfcc[0]) / self.mfcc[1]
        return np.asarray(fused, dtype=np.float32)


@lru_cache(maxsize=1)
def fusion() -> Fusion:
    """The stored fusion of GE2E and MFCC statistics."""
    calibration = calibration_for(FUSION_KEY)
    try:
        data = json.loads(CALIBRATION_FILE.read_text())
        terms = data[FUSION_KEY]["terms"]
        mfcc = data["mfcc-stats"]
        ge2e_mean, ge2e_std = (float(v) for v in terms["resemblyzer-ge2e"])
        mfcc_mean, mfcc_std = (float(v) for v in terms["mfcc-stats"])
        mean = np.asarray(mfcc["mean"], dtype=np.float32)
        std = np.asarray(mfcc["std"], dtype=np.float32)
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise IntegrityFailure(
            f"no usable score fusion in {CALIBRATION_FILE.name}", details={"error": str(error)}
        ) from error
    if mean.shape != std.shape or mean.ndim != 1 or ge2e_std <= 0 or mfcc_std <= 0:
        raise IntegrityFailure(f"malformed score fusion in {CALIBRATION_FILE.name}")
    return Fusion(calibration, (ge2e_mean, ge2e_std), (mfcc_mean, mfcc_std), mean, std)


# The screening decision (docs/voice.md): Silero VAD, the fused score at each pitch shift,
# normalised against the cohort of other enrolled voices, best over the shifts, smoothed in
# time. Its constants and threshold are fitted by ``benchmarks/voice.py --write-calibration``.
SCREENING_KEY = "screening"


@dataclass(frozen=True)
class Screening:
    """Everything the screening decision needs besides the voiceprints."""

    fusion: Fusion
    shifts: tuple[int, ...]
    cohort_top: int
    cohort_floor: float  # the least cohort spread divided by
    cohort_prior: float  # the typical cohort score, for registries with few voices
    gate: float  # a raw fused score below this never matches
    switch: float  # the smoothing's price of a change of voice, in score units
    # A continuous stretch is also scored once as a whole: (seconds at least, threshold),
    # seconds increasing; a stretch shorter than the first entry is judged per segment only.
    stretch: tuple[tuple[float, float], ...] = ()
    # Fixed cohort voices beside the enrolled ones: GE2E prints and raw MFCC statistics.
    cohort_ge2e: npt.NDArray[np.float32] | None = None
    cohort_mfcc: npt.NDArray[np.float32] | None = None

    @property
    def threshold(self) -> float:
        return self.fusion.calibration.threshold

    def stretch_threshold(self, seconds: float) -> float | None:
        """The threshold of a whole stretch of ``seconds``; ``None`` when too short."""
        chosen = None
        for at_least, value in self.stretch:
            if seconds >= at_least:
                chosen = value
        return chosen


def _cohort(name: str | None) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]] | None:
    """The fixed cohort's prints from ``COHORT_FILE`` (``None`` when the entry names none)."""
    if name is None:
        return None
    if name != COHORT_FILE.name:
        raise ValueError(f"unknown cohort file {name!r}")
    data = json.loads(COHORT_FILE.read_text())
    ge2e = np.asarray(data["ge2e"], dtype=np.float32)
    mfcc = np.asarray(data["mfcc"], dtype=np.float32)
    if ge2e.ndim != 2 or mfcc.ndim != 2 or ge2e.shape[0] != mfcc.shape[0]:
        raise ValueError("cohort prints are malformed")
    return ge2e, mfcc


@lru_cache(maxsize=1)
def screening() -> Screening:
    """The stored screening decision."""
    try:
        data = json.loads(CALIBRATION_FILE.read_text())
        entry = data[SCREENING_KEY]
        calibration = Calibration(
            model_name=SCREENING_KEY,
            threshold=float(entry["threshold"]),
            target_fmr=float(entry["target_fmr"]),
            curve=tuple((float(s), float(r)) for s, r in entry["curve"]),
            source=str(entry["source"]),
        )
        ge2e_mean, ge2e_std = (float(v) for v in entry["terms"]["resemblyzer-ge2e"])
        mfcc_mean, mfcc_std = (float(v) for v in entry["terms"]["mfcc-stats"])
        # The MFCC standardisation voiceprints were stored with (shared with ``fusion``).
        mean = np.asarray(data["mfcc-stats"]["mean"], dtype=np.float32)
        std = np.asarray(data["mfcc-stats"]["std"], dtype=np.float32)
        shifts = tuple(int(s) for s in entry["shifts"])
        cohort = entry["cohort"]
        top, floor, prior = int(cohort["top"]), float(cohort["floor"]), float(cohort["prior"])
        switch = float(entry["switch"])
        gate = float(entry.get("gate", 0.0))
        stretch = tuple((float(a), float(t)) for a, t in entry.get("stretch", []))
        fixed = _cohort(cohort.get("fixed"))
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise IntegrityFailure(
            f"no usable screening calibration in {CALIBRATION_FILE.name}",
            details={"error": str(error)},
        ) from error
    if (
        mean.shape != std.shape
        or mean.ndim != 1
        or ge2e_std <= 0
        or mfcc_std <= 0
        or 0 not in shifts
    ):
        raise IntegrityFailure(f"malformed screening calibration in {CALIBRATION_FILE.name}")
    if fixed is not None and fixed[1].shape[1] != mean.shape[0]:
        raise IntegrityFailure(f"malformed cohort prints in {COHORT_FILE.name}")
    fused = Fusion(calibration, (ge2e_mean, ge2e_std), (mfcc_mean, mfcc_std), mean, std)
    return Screening(
        fused,
        shifts,
        top,
        floor,
        prior,
        gate,
        switch,
        tuple(sorted(stretch)),
        None if fixed is None else fixed[0],
        None if fixed is None else fixed[1],
    )


@lru_cache(maxsize=1)
def screening_miss_by_enrolment() -> tuple[tuple[float, float], ...]:
    """(voiced seconds up to, share of segments missed), as measured for prints of that size."""
    try:
        data = json.loads(CALIBRATION_FILE.read_text())
        rows = data[SCREENING_KEY].get("miss_by_enrolment", [])
        return tuple((float(upto), float(miss)) for upto, miss in rows)
    except (OSError, KeyError, ValueError, TypeError):
        return ()

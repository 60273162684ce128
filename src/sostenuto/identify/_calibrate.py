"""The match threshold of one catalogue, measured on music known not to be in it.

Evidence is -log10 of a binomial chance probability, which is optimistic for music (shared
keys and tempos), so the threshold that keeps false positives at a target rate is measured:
random excerpts of unregistered audio are searched against the deployed catalogue at
threshold 0 and the top score of each is the null distribution. Screens search whole files
and output checks whole tracks, so every file is also searched whole: the null scores are
kept per length band (:data:`BANDS`), each band gets its own threshold, and the threshold in
force is the highest of them (one threshold that holds for excerpts and whole files alike).
A band's threshold is the least value that at most ``floor(fp_rate * n)`` of its null
scores reach, plus a margin of 1.0 (a factor 10 in chance: the catalogue grows after
calibration), and never below 1.0. It is stored as ``calibration.json`` in the catalogue
folder and applies while the fingerprint ``VERSION`` it was measured with is current. What
was used (files, their length, excerpts) and skipped (with why) is stored with it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from sostenuto.audio import AUDIO_SUFFIXES
from sostenuto.auth import Principal, authorize
from sostenuto.errors import DependencyMissing, IntegrityFailure, InvalidInput, SostenutoError
from sostenuto.identify._catalogue import catalogue_path, open_catalogue
from sostenuto.identify._corpus import list_corpus
from sostenuto.identify._fingerprint import fingerprint_samples, load_audio
from sostenuto.identify._index import _atomic_json
from sostenuto.identify._match import DEFAULT_THRESHOLD
from sostenuto.identify._params import SAMPLE_RATE, VERSION
from sostenuto.identify._shards import ShardedIndex
from sostenuto.settings import Settings

CALIBRATION_FILE = "calibration.json"
MIN_QUERIES = 100
MARGIN = 1.0
# An excerpt this strong plainly contains a registered recording: its file is not null music.
CONTAINED_SCORE = 20.0
_MAX_EXCERPT_SECONDS = 120.0

Progress = Callable[[int, int], None]


class LeftOutFile(NamedTuple):
    """A file given as unregistered whose excerpts found a registered recording."""

    path: str
    key: str
    score: float


class SkippedFile(NamedTuple):
    """A file that gave no excerpt: unreadable, shorter than every excerpt length, or not
    named as audio."""

    path: str
    reason: str


class UsedFile(NamedTuple):
    """A file whose excerpts (and whole length) went into the null distribution."""

    path: str
    seconds: float
    excerpts: int
    whole_score: float | None  # None: not searched whole


# Length bands of the null scores, in seconds of query: (label, from, up to).
BANDS: tuple[tuple[str, float, float], ...] = (
    ("up to 15 s", 0.0, 15.0),
    ("15-60 s", 15.0, 60.0),
    ("60-240 s", 60.0, 240.0),
    ("over 240 s", 240.0, math.inf),
)


def band_of(seconds: float) -> str:
    """The label of the length band a query of ``seconds`` falls in."""
    for label, low, high in BANDS:
        if low <= seconds < high:
            return label
    return BANDS[-1][0]


class Band(NamedTuple):
    """The null scores of one length band and the threshold they give."""

    band: str
    queries: int
    max_score: float
    threshold: float


@dataclass(frozen=True)
class Calibration:
    """The null distribution of a catalogue and the threshold taken from it."""

    queries: int
    fp_rate: float
    threshold: float
    max_score: float
    p99: float
    p999: float
    seconds: tuple[float, ...]
    catalogue_tracks: int
    fingerprint_version: int
    created_at: str
    margin: float = MARGIN
    seed: int | None = None
    left_out: tuple[LeftOutFile, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()
    # Top score of every excerpt, highest first: other rates can be read off them later.
    scores: tuple[float, ...] = field(default=(), repr=False)
    bands: tuple[Band, ...] = ()
    used: tuple[UsedFile, ...] = field(default=(), repr=False)

    @property
    def current(self) -> bool:
        """Measured with the fingerprints this code makes (else it no longer applies)."""
        return self.fingerprint_version == VERSION

    def as_dict(self) -> dict[str, Any]:
        return {
            "queries": self.queries,
            "fp_rate": self.fp_rate,
            "threshold": self.threshold,
            "max_score": self.max_score,
            "p99": self.p99,
            "p999": self.p999,
            "seconds": list(self.seconds),
            "catalogue_tracks": self.catalogue_tracks,
            "fingerprint_version": self.fingerprint_version,
            "created_at": self.created_at,
            "margin": self.margin,
            "seed": self.seed,
            "left_out": [f._asdict() for f in self.left_out],
            "skipped": [f._asdict() for f in self.skipped],
            "scores": list(self.scores),
            "bands": [b._asdict() for b in self.bands],
            "used": [f._asdict() for f in self.used],
        }

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Calibration:
        return cls(
            queries=int(value["queries"]),
            fp_rate=float(value["fp_rate"]),
            threshold=float(value["threshold"]),
            max_score=float(value["max_score"]),
            p99=float(value["p99"]),
            p999=float(value["p999"]),
            seconds=tuple(float(s) for s in value["seconds"]),
            catalogue_tracks=int(value["catalogue_tracks"]),
            fingerprint_version=int(value["fingerprint_version"]),
            created_at=str(value["created_at"]),
            margin=float(value.get("margin", MARGIN)),
            seed=None if value.get("seed") is None else int(value["seed"]),
            left_out=tuple(
                LeftOutFile(str(f["path"]), str(f["key"]), float(f["score"]))
                for f in value.get("left_out", [])
            ),
            skipped=tuple(
                SkippedFile(str(f["path"]), str(f["reason"])) for f in value.get("skipped", [])
            ),
            scores=tuple(float(s) for s in value.get("scores", [])),
            bands=tuple(
                Band(
                    str(b["band"]), int(b["queries"]), float(b["max_score"]), float(b["threshold"])
                )
                for b in value.get("bands", [])
            ),
            used=tuple(
                UsedFile(
                    str(f["path"]),
                    float(f["seconds"]),
                    int(f["excerpts"]),
                    None if f.get("whole_score") is None else float(f["whole_score"]),
                )
                for f in value.get("used", [])
            ),
        )


def calibration_path(settings: Settings) -> Path:
    """``calibration.json`` in the catalogue folder, beside the shards it was measured on."""
    return catalogue_path(settings) / CALIBRATION_FILE


def threshold_for(scores: Sequence[float], fp_rate: float, margin: float = MARGIN) -> float:
    """The least value at most ``floor(fp_rate * n)`` of ``scores`` reach, plus ``margin``.

    With the null scores sorted highest first, that value is just above the
    ``floor(fp_rate * n) + 1``-th; the margin is added to it, and the result is never below 1.
    """
    if not scores:
        raise InvalidInput("no null scores to calibrate on")
    _check_rate(fp_rate)
    ordered = sorted(scores, reverse=True)
    allowed = math.floor(fp_rate * len(ordered))
    return max(1.0, ordered[allowed] + margin)


def load_calibration(settings: Settings) -> Calibration | None:
    """The catalogue's saved calibration, or ``None`` when it has never been calibrated."""
    path = calibration_path(settings)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return Calibration.from_dict(json.loads(text))
    except (ValueError, KeyError, TypeError) as error:
        raise IntegrityFailure(
            f"{path} is not a readable calibration: run 'sostenuto identify calibrate' again",
            details={"error": str(error)},
        ) from None


@dataclass(frozen=True)
class ActiveThreshold:
    """The threshold matching uses by default, and where it comes from."""

    value: float
    calibrated_at: str | None  # None: DEFAULT_THRESHOLD applies
    source: str  # in words, for people

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "calibrated_at": self.calibrated_at, "source": self.source}


def active_threshold(settings: Settings) -> ActiveThreshold:
    """The calibrated threshold if one was measured with the current fingerprints, else
    :data:`DEFAULT_THRESHOLD`, with a word on which."""
    calibration = load_calibration(settings)
    if calibration is None:
        return ActiveThreshold(DEFAULT_THRESHOLD, None, "default")
    if not calibration.current:
        return ActiveThreshold(
            DEFAULT_THRESHOLD,
            None,
            f"default (calibration of fingerprint version {calibration.fingerprint_version})",
        )
    return ActiveThreshold(
        calibration.threshold,
        calibration.created_at,
        f"calibrated {calibration.created_at} on {calibration.catalogue_tracks} tracks",
    )


def catalogue_threshold(settings: Settings) -> float:
    """The threshold matching uses by default: see :func:`active_threshold`."""
    return active_threshold(settings).value


def calibrate_catalogue(
    settings: Settings,
    principal: Principal,
    sources: Sequence[str | Path],
    *,
    count: int = 1000,
    seconds: Sequence[float] = (5.0, 10.0),
    fp_rate: float = 0.001,
    seed: int = 0,
    save: bool = True,
    whole_files: bool = True,
    progress: Progress | None = None,
) -> Calibration:
    """Measure the catalogue's null distribution on ``sources`` (folders, manifests or audio
    files of music not in the catalogue) and derive the threshold; ``save`` stores it.

    ``count`` excerpts are spread evenly over the files (in a seeded random order), their
    lengths taking turns among ``seconds``. A file any of whose excerpts reaches
    :data:`CONTAINED_SCORE` holds a registered recording: all its excerpts are left out (its
    share goes to the other files) and it is listed. Unreadable or too short files are
    skipped and listed, as are files in the folders not named as audio. Fewer than ``count``
    excerpts are used only when the files run out. With ``whole_files`` every file used is
    also searched whole, and its score goes to its length band (:data:`BANDS`).
    Nothing is written unless the calibration succeeds; saving needs a CMO admin (or the
    local operator), as changing the catalogue does.
    """
    lengths = _check_request(count, seconds, fp_rate)
    authorize(principal, "catalogue.maintain" if save else "catalogue.measure")
    catalogue = open_catalogue(settings)
    if len(catalogue) == 0:
        raise InvalidInput("the catalogue is empty: index recordings before calibrating it")
    files, ignored = _audio_files(sources)
    sampler = _Sampler(
        catalogue, np.random.default_rng(seed), lengths, count, progress, whole=whole_files
    )
    sampler.skipped.extend(ignored)
    sampler.run(files)
    scores = sampler.scores
    if not scores and not sampler.left_out:
        raise InvalidInput(
            f"none of the {len(files)} audio file(s) gave an excerpt",
            details={"skipped": [f._asdict() for f in sampler.skipped]},
        )
    if len(scores) < MIN_QUERIES:
        raise InvalidInput(
            f"only {len(scores)} excerpts could be scored, at least {MIN_QUERIES} are "
            "needed: give more unregistered audio",
            details={
                "skipped": [f._asdict() for f in sampler.skipped],
                "left_out": [f._asdict() for f in sampler.left_out],
            },
        )
    calibration = _summarise(sampler, scores, fp_rate, lengths, len(catalogue), seed)
    if save:
        path = calibration_path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_json(path, calibration.as_dict())
    return calibration


def _check_rate(fp_rate: float) -> None:
    if not 0.0 < fp_rate < 0.5:
        raise InvalidInput(f"the false-positive rate must lie between 0 and 0.5, not {fp_rate}")


def _check_request(count: int, seconds: Sequence[float], fp_rate: float) -> tuple[float, ...]:
    _check_rate(fp_rate)
    if count < MIN_QUERIES:
        raise InvalidInput(f"calibrating takes at least {MIN_QUERIES} excerpts, not {count}")
    lengths = tuple(float(s) for s in seconds)
    if not lengths or any(not 1.0 <= s <= _MAX_EXCERPT_SECONDS for s in lengths):
        raise InvalidInput(
            f"excerpt lengths must be 1 to {_MAX_EXCERPT_SECONDS:g} seconds, not {list(seconds)}"
        )
    return lengths


def _audio_files(sources: Sequence[str | Path]) -> tuple[list[Path], list[SkippedFile]]:
    """Audio files named directly, in folders (recursively) or in manifests, no duplicates;
    and the other files of those folders, which are not read (listed, never silently)."""
    found: dict[Path, None] = {}
    ignored: list[SkippedFile] = []
    for source in map(Path, sources):
        listed = (
            [source]
            if source.is_file() and source.suffix.lower() in AUDIO_SUFFIXES
            else list_corpus(source)
        )
        found.update(dict.fromkeys(listed))
        if source.is_dir():
            ignored.extend(
                SkippedFile(str(path), f"not named as audio ({path.suffix or 'no extension'})")
                for path in sorted(source.rglob("*"))
                if path.is_file()
                and path.suffix.lower() not in AUDIO_SUFFIXES
                and not path.name.startswith(".")
            )
    if not found:
        raise InvalidInput(f"no audio files in {', '.join(map(str, sources)) or 'no path'}")
    return list(found), ignored


class _Sampler:
    """Cuts each file's share of excerpts, scores them, and keeps what is null music."""

    def __init__(
        self,
        catalogue: ShardedIndex,
        rng: np.random.Generator,
        lengths: tuple[float, ...],
        count: int,
        progress: Progress | None,
        *,
        whole: bool = True,
    ) -> None:
        self.catalogue = catalogue
        self.whole = whole
        self.banded: dict[Path, list[tuple[str, float]]] = {}  # (band, score) of each query
        self.used: dict[Path, UsedFile] = {}
        self.rng = rng
        self.lengths = lengths
        self.remaining = count
        self.progress = progress
        self.by_file: dict[Path, list[float]] = {}
        self.left_out: list[LeftOutFile] = []
        self.skipped: list[SkippedFile] = []
        self.turns = 0  # excerpts cut so far: lengths take turns
        self.discarded = 0  # excerpts of left-out files, counted for progress only

    @property
    def scores(self) -> list[float]:
        return [score for scores in self.by_file.values() for score in scores]

    def run(self, files: list[Path]) -> None:
        """Passes over the files until ``count`` excerpts are scored or no file is left.

        A later pass (over the files kept so far) is needed only when files were skipped or
        left out after the others had taken their share.
        """
        order = [files[int(n)] for n in self.rng.permutation(len(files))]
        while order and self.remaining > 0:
            kept = []
            for position, path in enumerate(order):
                if self.remaining == 0:
                    break
                if self.take(path, len(order) - position):
                    kept.append(path)
            order = kept

    def take(self, path: Path, files_left: int) -> bool:
        """Score this file's share; ``False`` when it is skipped or left out."""
        try:
            samples = load_audio(path).samples
        except DependencyMissing:
            raise
        except SostenutoError as error:
            self.skipped.append(SkippedFile(str(path), error.message))
            return False
        if samples.size < min(self.lengths) * SAMPLE_RATE:
            self.skipped.append(SkippedFile(str(path), f"shorter than {min(self.lengths):g} s"))
            return False
        share = math.ceil(self.remaining / files_left)
        top: list[tuple[float, str]] = []
        bands: list[str] = []
        for _ in range(share):
            excerpt = self._excerpt(samples)
            bands.append(band_of(excerpt.size / SAMPLE_RATE))
            top.append(self._top_score(excerpt))
            self._report(len(top))
        whole: tuple[float, str] | None = None
        if self.whole and path not in self.used:
            whole = self._top_score(samples)
            top.append(whole)
        best, key = max(top)
        if best >= CONTAINED_SCORE:
            # Its excerpts of an earlier pass go too: the file is not null music at all.
            earlier = self.by_file.pop(path, [])
            self.used.pop(path, None)
            self.banded.pop(path, None)
            self.remaining += len(earlier)
            self.discarded += share + len(earlier)
            self.left_out.append(LeftOutFile(str(path), key, round(best, 3)))
            return False
        excerpts = [round(score, 4) for score, _ in top[:share]]
        self.by_file.setdefault(path, []).extend(excerpts)
        banded = self.banded.setdefault(path, [])
        banded.extend(zip(bands, excerpts, strict=True))
        seconds = round(samples.size / SAMPLE_RATE, 3)
        earlier_used = self.used.get(path)
        whole_score = round(whole[0], 4) if whole else None
        if whole_score is not None:
            banded.append((band_of(seconds), whole_score))
        self.used[path] = UsedFile(
            str(path),
            seconds,
            share + (earlier_used.excerpts if earlier_used else 0),
            whole_score if earlier_used is None else earlier_used.whole_score,
        )
        self.remaining -= share
        return True

    def _excerpt(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """An excerpt of this turn's length (or the longest that fits), at a random start."""
        wanted = self.lengths[self.turns % len(self.lengths)]
        self.turns += 1
        fitting = [s for s in self.lengths if s * SAMPLE_RATE <= samples.size]
        seconds = wanted if wanted in fitting else max(fitting)
        size = int(seconds * SAMPLE_RATE)
        start = int(self.rng.integers(0, samples.size - size + 1))
        return samples[start : start + size]

    def _top_score(self, excerpt: npt.NDArray[np.float32]) -> tuple[float, str]:
        fingerprint = fingerprint_samples(excerpt, query=True)
        matches = self.catalogue.search(fingerprint, threshold=0.0, max_results=1)
        return (matches[0].score, matches[0].key) if matches else (0.0, "")

    def _report(self, pending: int) -> None:
        """Excerpts scored so far, of all that will be (left-out files' excerpts included)."""
        if self.progress:
            finished = _count_of(self.by_file) + self.discarded
            self.progress(finished + pending, finished + self.remaining)


def _count_of(by_file: dict[Path, list[float]]) -> int:
    return sum(len(scores) for scores in by_file.values())


def _summarise(
    sampler: _Sampler,
    null_scores: list[float],
    fp_rate: float,
    lengths: tuple[float, ...],
    tracks: int,
    seed: int,
) -> Calibration:
    scores = np.sort(np.asarray(null_scores, dtype=np.float64))[::-1]
    by_band: dict[str, list[float]] = {}
    for banded in sampler.banded.values():
        for label, score in banded:
            by_band.setdefault(label, []).append(score)
    bands = tuple(
        Band(label, len(band), max(band), round(threshold_for(band, fp_rate), 4))
        for label, _, _ in BANDS
        if (band := by_band.get(label))
    )
    # One threshold for every query length: the highest any band needs.
    threshold = max([threshold_for(null_scores, fp_rate)] + [b.threshold for b in bands])
    return Calibration(
        queries=int(scores.size),
        fp_rate=fp_rate,
        threshold=round(threshold, 4),
        max_score=float(scores[0]),
        p99=round(float(np.percentile(scores, 99)), 4),
        p999=round(float(np.percentile(scores, 99.9)), 4),
        seconds=lengths,
        catalogue_tracks=tracks,
        fingerprint_version=VERSION,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        seed=seed,
        left_out=tuple(sampler.left_out),
        skipped=tuple(sampler.skipped),
        scores=tuple(float(s) for s in scores),
        bands=bands,
        used=tuple(sampler.used.values()),
    )

"""Voice protection as a performer relies on it: open-set attribution at 1 % false matches.

Run through ``python benchmarks/voice.py [--protection-probes N]`` (the default section,
``protection``); features are computed in ``SOSTENUTO_BENCH_WORKERS`` processes (default 3)
and cached, ``--reuse --write-calibration`` then refits and writes the calibration.

Registry: most voices are enrolled (prints of up to 30 s, at most half a voice's audio);
whole performer groups are left out as **unenrolled voices**; espeak-ng voices are
**synthetic impostors**. Every probe (≈ 3 s of other utterances) is screened against every
enrolled voice under each condition: clean, MP3 64 kbit/s, music 10 dB and 5 dB under the
voice, pitch shifted ±2 semitones (sox ``pitch``, duration kept, formants move with the pitch).

Tuning corpora (constants and thresholds fitted here): hedgewars, warzone2100, 0ad.
Held out (never tuned on): ktuberling (KDE word sounds, 12 languages), espeak-ng impostors.

Systems, on the same probes and prints:
- ``today``: WebRTC VAD, GE2E + MFCC statistics, fixed z-norm fusion (the shipped decision);
- ``MFCC baseline``: MFCC statistics alone (WebRTC VAD);
- ``Silero`` rows: Silero VAD, the same fusion refitted, then cohort normalisation and/or the
  search over pitch shifts; the last row is what screening ships.

A probe is **attributed** when its best voice passes the threshold; it is a **miss** when the
probe's own performer is not the one attributed; an enrolled-voice probe attributed to another
performer, or an unenrolled or synthetic probe attributed at all, is a **false attribution**.
The threshold of each system gives 1 % false matches per probe on the tuning corpora's clean
probes: at most 1 % of them have another performer's voice passing it (trial-level rates are
reported too).

The same probes are then grouped into stretches of one voice and measured again per stretch
(``benchmarks/voice_stretches.py``): what a range on the timeline holds, not one segment.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

import corpus
import voice as base
import voice_corpus
from sostenuto.audio import decode, write_wav
from sostenuto.voice import _calibration, _mfcc, _model, _probe, _score, _vad

SR = _model.SAMPLE_RATE
console = Console(width=200)
CONDITIONS = ("clean", "mp3-64k", "music-10dB", "music-5dB", "pitch+2", "pitch-2")
TUNING = ("hedgewars", "warzone2100", "0ad")
UNENROLLED_GROUPS = (
    "warzone-male?",
    "Marine Hasselvender",
    "Mostafa Lotfi",
    "hedgewars-uk",
    "ktuberling-lt",
    "ktuberling-el",
    "ktuberling-sl",
)
SHIFTS = (-2, -1, 0, 1, 2)
GATE = 0.0  # raw fused score below the mean impostor: never a match (not tuned)
COHORT_TOPS = (3, 5, 8, 12)
SEPARATED = "+sep"  # suffix of a music condition after vocal separation
ALL_CONDITIONS = (*CONDITIONS, f"music-10dB{SEPARATED}", f"music-5dB{SEPARATED}")
FEATURES = corpus.CACHE / "voice-protection-features.pkl"
RESULTS = Path(__file__).resolve().parent / "results" / "voice_protection.json"


@dataclass(frozen=True)
class ProbeItem:
    voice: str
    corpus: str
    performer: str
    kind: str  # "enrolled", "unenrolled", "synthetic"
    clean: np.ndarray


def load(
    quick: bool, per_voice: int
) -> tuple[list[base.Voice], list[list[np.ndarray]], list[ProbeItem]]:
    voices = base.load_voices(quick)
    for language, files in voice_corpus.ktuberling_voices().items():
        if quick and language not in ("en", "de", "lt", "ca"):
            continue
        performer = voice_corpus.KTUBERLING_GROUP.get(language, f"ktuberling-{language}")
        clips = base._decode_all(files)
        voices.append(base.Voice(f"ktuberling-{language}", "ktuberling", performer, clips))
    enrol, probes = base.split(voices, per_voice, enrol_seconds=30.0, probe_seconds=3.0)
    items = []
    for probe in probes:
        v = voices[probe.voice]
        kind = "unenrolled" if v.performer in UNENROLLED_GROUPS else "enrolled"
        items.append(ProbeItem(v.name, v.corpus, v.performer, kind, probe.clean))
    for name, clips in voice_corpus.espeak_probes(SR).items():
        for clip in clips:
            items.append(ProbeItem(name, "espeak-ng", name, "synthetic", clip[: 3 * SR]))
    return voices, enrol, items


def sox_pitch(samples: np.ndarray, cents: int, folder: Path) -> np.ndarray:
    """Pitch shift keeping duration (sox ``pitch``: WSOLA then resampling)."""
    source, target = folder / "in.wav", folder / "out.wav"
    write_wav(source, samples, SR)
    subprocess.run(
        ["sox", "-G", str(source), str(target), "pitch", str(cents)],
        check=True,
        capture_output=True,
    )
    return decode(target, sample_rate=SR).samples[: samples.size].astype(np.float32)


def features(
    model: _model.SpeakerModel,
    signals: list[np.ndarray],
    vad: _vad.Backend,
    shifts: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """GE2E ``(shifts, n, 256)`` and raw MFCC ``(shifts, n, 40)`` of one whole-signal segment
    each (zeros when no voice is found: such a probe can match nothing)."""
    ge2e = np.zeros((len(shifts), len(signals), model.dim), np.float32)
    mfcc = np.zeros((len(shifts), len(signals), 40), np.float32)
    for i, signal in enumerate(signals):
        found = _probe.analyse(model, signal, shifts, vad=vad, whole=True)
        if found.spans:
            ge2e[:, i] = found.ge2e[:, 0]
            mfcc[:, i] = found.mfcc[:, 0]
    return ge2e, mfcc


def prints_of(
    model: _model.SpeakerModel, enrol: list[list[np.ndarray]], vad: _vad.Backend
) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """As enrolment makes them: normalised mean of clip embeddings, mean of clip statistics;
    and every clip's own rows (for prints of several centroids)."""
    ge2e, mfcc, clips_out = [], [], []
    for clips in enrol:
        g, m = features(model, clips, vad, (0,))
        keep = np.linalg.norm(g[0], axis=1) > 0
        mean = g[0][keep].mean(axis=0)
        ge2e.append(mean / np.linalg.norm(mean))
        mfcc.append(m[0][keep].mean(axis=0))
        clips_out.append((g[0][keep], m[0][keep]))
    return np.stack(ge2e), np.stack(mfcc), clips_out


WORKERS = int(os.environ.get("SOSTENUTO_BENCH_WORKERS", "3"))  # processes, 1 torch thread each
_STATE: dict[str, Any] = {}


def _init_worker(music: list[np.ndarray]) -> None:
    import torch

    torch.set_num_threads(1)
    _STATE["model"] = _model.load_model()
    _STATE["music"] = music


def degrade_one(index: int, clean: np.ndarray, music: list[np.ndarray], folder: Path) -> Any:
    """Every condition of one probe (its own random stream, so workers agree with a serial
    run): MP3, music 10 / 5 dB under it (and after vocal separation), pitch ±2."""
    rng = np.random.default_rng([3, index])
    bed = music[int(rng.integers(len(music)))]
    out = {"clean": clean, "mp3-64k": base.mp3_roundtrip(clean, folder)}
    for snr in (10, 5):
        mixed = base.mix_music(clean, bed, snr, rng)
        out[f"music-{snr}dB"] = mixed.probe
        if snr == 10:
            # Offline vocal separation (REPET-SIM soft mask over the probe and the music
            # around it): measured on the new decision only, without pitch search, at 10 dB
            # only (CPU on a shared machine).
            out[f"music-{snr}dB{SEPARATED}"] = base.repet_sim(mixed)
    for steps in (2, -2):
        out[f"pitch{steps:+d}"] = sox_pitch(clean, 100 * steps, folder)
    return out


def _item_task(task: tuple[int, np.ndarray]) -> tuple[int, dict[Any, Any], dict[str, float]]:
    index, clean = task
    with tempfile.TemporaryDirectory() as tmp:
        signals = degrade_one(index, clean, _STATE["music"], Path(tmp))
    model = _STATE["model"]
    rows: dict[Any, Any] = {}
    seconds: dict[str, float] = {}
    for vad, shifts in (("webrtc", (0,)), ("silero", SHIFTS)):
        started = time.process_time()
        for condition, signal in signals.items():
            separated = condition.endswith(SEPARATED)
            if separated and vad == "webrtc":
                continue
            g, m = features(model, [signal], vad, (0,) if separated else shifts)
            if separated:  # every shift holds the unshifted rows: no search after separation
                g, m = np.repeat(g, len(shifts), axis=0), np.repeat(m, len(shifts), axis=0)
            rows[(vad, condition)] = (g[:, 0], m[:, 0])
        seconds[vad] = time.process_time() - started
        for condition in ("clean", "music-10dB"):
            found = _vad.voiced_regions(signals[condition], SR, vad)
            rows[("voiced", vad, condition)] = (
                sum(r.length for r in found),
                signals[condition].size,
            )
    return index, rows, seconds


def _enrol_task(task: tuple[int, list[np.ndarray]]) -> tuple[int, dict[str, Any]]:
    index, clips = task
    return index, {vad: features(_STATE["model"], clips, vad, (0,)) for vad in ("webrtc", "silero")}


def _print_rows(g: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray, Any]:
    keep = np.linalg.norm(g[0], axis=1) > 0
    mean = g[0][keep].mean(axis=0)
    return mean / np.linalg.norm(mean), m[0][keep].mean(axis=0), (g[0][keep], m[0][keep])


def compute(quick: bool, per_voice: int) -> dict[str, Any]:
    """Every probe under every condition and every print, in ``WORKERS`` processes."""
    import multiprocessing

    voices, enrol, items = load(quick, per_voice)
    music = base.music_bank(4 if quick else 16)
    out: dict[str, Any] = {
        "voices": [(v.name, v.corpus, v.performer, round(v.seconds, 1)) for v in voices],
        "enrol_seconds": [round(sum(c.size for c in clips) / SR, 1) for clips in enrol],
        "items": [(i.voice, i.corpus, i.performer, i.kind) for i in items],
        "prints": {},
        "probes": {},
        "seconds": {"webrtc": 0.0, "silero": 0.0},
    }
    per_item: dict[int, dict[Any, Any]] = {}
    per_voice_rows: dict[int, dict[str, Any]] = {}
    context = multiprocessing.get_context("fork")
    with (
        context.Pool(WORKERS, initializer=_init_worker, initargs=(music,)) as pool,
        Progress(console=console, transient=True) as bar,
    ):
        task = bar.add_task("prints and probes", total=len(items) + len(enrol))
        for v, rows in pool.imap_unordered(_enrol_task, list(enumerate(enrol))):
            per_voice_rows[v] = rows
            bar.advance(task)
        tasks = [(i, item.clean) for i, item in enumerate(items)]
        for i, rows, seconds in pool.imap_unordered(_item_task, tasks, chunksize=2):
            per_item[i] = rows
            for vad, value in seconds.items():
                out["seconds"][vad] += value
            bar.advance(task)
    for vad in ("webrtc", "silero"):
        made = [_print_rows(*per_voice_rows[v][vad]) for v in range(len(enrol))]
        out["prints"][vad] = (np.stack([r[0] for r in made]), np.stack([r[1] for r in made]))
        out.setdefault("clip_prints", {})[vad] = [r[2] for r in made]
    for key in per_item[0]:
        if key[0] == "voiced":
            continue
        g = np.stack([per_item[i][key][0] for i in range(len(items))], axis=1)
        m = np.stack([per_item[i][key][1] for i in range(len(items))], axis=1)
        out["probes"][key] = (g, m)
    model = _model.load_model()
    # Prints of a fixed synthetic impostor cohort (Silero VAD, as screening enrols).
    cohort = list(voice_corpus.espeak_cohort(SR).values())
    out["cohort_prints"] = prints_of(model, cohort, "silero")
    out["vad"] = vad_check(per_item, music)
    return out


def vad_check(per_item: dict[int, dict[Any, Any]], music: list[np.ndarray]) -> dict[str, Any]:
    """Share of samples each VAD calls voiced: on music alone (should be none) and on the
    first 200 voice probes, clean and under music at 10 dB."""
    rng = np.random.default_rng(5)
    excerpts = []
    for track in music:
        for _ in range(4):
            start = int(rng.integers(0, max(1, track.size - 10 * SR)))
            excerpts.append(track[start : start + 10 * SR])
    result: dict[str, Any] = {}
    for vad in ("webrtc", "silero"):
        flagged = sum(sum(r.length for r in _vad.voiced_regions(x, SR, vad)) for x in excerpts)
        row = {"music_alone_voiced_pct": 100 * flagged / sum(x.size for x in excerpts)}
        for condition in ("clean", "music-10dB"):
            counts = [
                per_item[i][("voiced", vad, condition)] for i in range(min(200, len(per_item)))
            ]
            row[f"{condition}_voiced_pct"] = (
                100 * sum(c[0] for c in counts) / sum(c[1] for c in counts)
            )
        result[vad] = row
    return result


# --- scoring ---------------------------------------------------------------------------------


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)


@dataclass
class Setup:
    voices: list[tuple[str, str, str, float]]
    items: list[tuple[str, str, str, str]]

    def __post_init__(self) -> None:
        self.enrolled = [i for i, v in enumerate(self.voices) if v[2] not in UNENROLLED_GROUPS]
        self.groups = np.array([self.voices[i][2] for i in self.enrolled])
        self.voice_corpus = np.array([self.voices[i][1] for i in self.enrolled])
        self.performer = np.array([it[2] for it in self.items])
        self.kind = np.array([it[3] for it in self.items])
        self.corpus = np.array([it[1] for it in self.items])
        self.tuning = np.isin(self.corpus, TUNING)
        # Impostor trials: a probe of a real voice against an enrolled voice of another
        # performer (warzone's same-sex voices may be one actor: never impostors).
        self.impostor = (self.performer[:, None] != self.groups[None, :]) & (
            self.kind[:, None] != "synthetic"
        )


def raw_scores(
    data: dict[str, Any], vad: str, condition: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GE2E cosine ``(shifts, probes, voices)``, raw MFCC probe rows, enrolled MFCC rows."""
    setup_rows = data["_setup"].enrolled
    prints, mfcc_prints = data["prints"][vad]
    ge2e, mfcc = data["probes"][(vad, condition)]
    return unit(ge2e) @ prints[setup_rows].T, mfcc, mfcc_prints[setup_rows]


def fitted_fusion(data: dict[str, Any], vad: str) -> _calibration.Fusion:
    """The shipped MFCC standardisation; z-terms from clean tuning impostor trials."""
    setup: Setup = data["_setup"]
    # The MFCC standardisation stored voiceprints were made with (kept, so they stay valid).
    shipped = _calibration.fusion()
    mean, std = shipped.mfcc_mean, shipped.mfcc_std
    ge2e, mfcc, enrolled_mfcc = raw_scores(data, vad, "clean")
    zero = data["shifts"][vad].index(0)
    mfcc_cos = unit((mfcc[zero] - mean) / std) @ unit((enrolled_mfcc - mean) / std).T
    mask = setup.impostor & setup.tuning[:, None]
    g, m = ge2e[zero][mask], mfcc_cos[mask]
    dummy = _calibration.Calibration("fit", 0.0, 0.01, (), "benchmark")
    return _calibration.Fusion(
        dummy,
        (float(g.mean()), float(g.std())),
        (float(m.mean()), float(m.std())),
        mean.astype(np.float32),
        std.astype(np.float32),
    )


def system_scores(
    data: dict[str, Any],
    vad: str,
    fusion: _calibration.Fusion,
    *,
    shifts: tuple[int, ...],
    top: int = 0,
    floor: float = 0.0,
    prior: float = 0.0,
    mfcc_only: bool = False,
) -> dict[str, np.ndarray]:
    setup: Setup = data["_setup"]
    searched = [data["shifts"][vad].index(s) for s in shifts]
    groups = np.unique(setup.groups, return_inverse=True)[1].astype(np.int64)
    out = {}
    for condition in measured(data):
        ge2e, mfcc, enrolled_mfcc = raw_scores(data, vad, condition)
        prints = unit((enrolled_mfcc - fusion.mfcc_mean) / fusion.mfcc_std)
        rows = []
        for k in searched:
            mfcc_cos = unit((mfcc[k] - fusion.mfcc_mean) / fusion.mfcc_std) @ prints.T
            if mfcc_only:
                rows.append(mfcc_cos)
            else:
                rows.append(fusion.score(ge2e[k].astype(np.float32), mfcc_cos.astype(np.float32)))
        stacked = np.stack(rows)
        normed = _score.cohort_normalise(stacked, groups, top, floor, prior)
        if top:
            normed = _score.gated(normed, stacked, GATE)
        best = normed.max(axis=0)
        # A probe where no voice was found matches nothing.
        silent = np.linalg.norm(data["probes"][(vad, condition)][0][0], axis=1) == 0
        best[silent] = -np.inf
        out[condition] = best
    return out


def measured(data: dict[str, Any]) -> tuple[str, ...]:
    """The conditions the cached features hold for both VADs (a partial run skips some)."""
    return tuple(
        c for c in CONDITIONS if ("webrtc", c) in data["probes"] and ("silero", c) in data["probes"]
    )


def impostor_best(matrix: np.ndarray, setup: Setup) -> np.ndarray:
    """Per probe: its best score against voices of *other* performers (−inf if none)."""
    return np.where(setup.impostor, matrix, -np.inf).max(axis=1)


def threshold(scores: dict[str, np.ndarray], setup: Setup) -> float:
    """1 % false matches per probe: of the tuning corpora's clean real-voice probes, at most
    1 % have another performer's voice pass (what a performer relies on, whatever the
    number of enrolled voices; 1 % of trials would let 1 probe in 3 pass at 30 voices)."""
    best = impostor_best(scores["clean"], setup)
    chosen = best[setup.tuning & (setup.kind != "synthetic") & np.isfinite(best)]
    return _calibration.threshold_for_rate(chosen.tolist(), 0.01)


def measure(scores: dict[str, np.ndarray], setup: Setup, cut: float) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for condition, matrix in scores.items():
        best = matrix.argmax(axis=1)
        top = matrix[np.arange(matrix.shape[0]), best]
        attributed = top >= cut
        right = setup.groups[best] == setup.performer
        row: dict[str, Any] = {}
        for part, where in (
            ("all", np.ones_like(setup.tuning)),
            ("tuning", setup.tuning),
            ("held-out", ~setup.tuning),
        ):
            enrolled = where & (setup.kind == "enrolled")
            unenrolled = where & (setup.kind == "unenrolled")
            impostor = setup.impostor & where[:, None]
            real = where & (setup.kind != "synthetic")
            row[part] = {
                "false_match_probes_pct": 100
                * float(np.mean(impostor_best(matrix, setup)[real] >= cut)),
                "fmr_trials_pct": 100 * float(np.mean(matrix[impostor] >= cut)),
                "miss_pct": 100 * float(np.mean(~(attributed & right)[enrolled])),
                "wrong_performer_pct": 100 * float(np.mean((attributed & ~right)[enrolled])),
                "unenrolled_attributed_pct": 100 * float(np.mean(attributed[unenrolled])),
                "enrolled_probes": int(enrolled.sum()),
                "unenrolled_probes": int(unenrolled.sum()),
            }
        synthetic = setup.kind == "synthetic"
        row["synthetic_attributed_pct"] = 100 * float(np.mean(attributed[synthetic]))
        row["synthetic_probes"] = int(synthetic.sum())
        rows[condition] = row
    return rows


def evaluate(data: dict[str, Any]) -> dict[str, Any]:
    setup = Setup(data["voices"], data["items"])
    data["_setup"] = setup
    data["shifts"] = {"webrtc": [0], "silero": list(SHIFTS)}
    systems: dict[str, Any] = {}
    today = fitted_fusion(data, "webrtc")
    silero = fitted_fusion(data, "silero")

    def add(name: str, scores: dict[str, np.ndarray], extra: dict[str, Any]) -> None:
        cut = threshold(scores, setup)
        systems[name] = {"threshold": cut, **extra, "conditions": measure(scores, setup, cut)}

    add(
        "today: WebRTC VAD, GE2E+MFCC fixed z-norm",
        system_scores(data, "webrtc", today, shifts=(0,)),
        {},
    )
    add(
        "MFCC baseline (WebRTC VAD)",
        system_scores(data, "webrtc", today, shifts=(0,), mfcc_only=True),
        {},
    )
    add("Silero VAD, fused", system_scores(data, "silero", silero, shifts=(0,)), {})
    add("Silero + pitch search", system_scores(data, "silero", silero, shifts=SHIFTS), {})
    plain = system_scores(data, "silero", silero, shifts=(0,))["clean"]
    # Choose the cohort size and spread floor on the tuning corpora only: fewest misses
    # summed over clean, music 10 dB and both pitch shifts.
    # The prior (mean) and the floor of the spread are the typical cohort's, measured.
    best_key, best_miss, prior = (0, 0.0), float("inf"), 0.0
    for top in COHORT_TOPS:
        prior_k, floor = cohort_prior(plain, setup, top)
        scores = system_scores(
            data, "silero", silero, shifts=SHIFTS, top=top, floor=floor, prior=prior_k
        )
        cut = threshold(scores, setup)
        tuned = measure(
            {c: scores[c] for c in ("clean", "music-10dB", "pitch+2", "pitch-2")}, setup, cut
        )
        miss = sum(tuned[c]["tuning"]["miss_pct"] for c in tuned)
        console.print(f"cohort top {top} (floor {floor:.2f}): tuning misses summed {miss:.1f}")
        if miss < best_miss:
            best_key, best_miss, prior = (top, floor), miss, prior_k
    top = best_key[0]
    floor = best_key[1]
    cohort = {"top": top, "floor": round(floor, 4), "prior": round(prior, 4)}
    add(
        f"Silero + AS-norm (top {top})",
        system_scores(data, "silero", silero, shifts=(0,), top=top, floor=floor, prior=prior),
        {},
    )
    shipped = system_scores(
        data, "silero", silero, shifts=SHIFTS, top=top, floor=floor, prior=prior
    )
    add("shipped: Silero + AS-norm + pitch search", shipped, {"cohort": cohort})
    return {
        "systems": systems,
        "fusion": silero,
        "shipped": shipped,
        "cohort": cohort,
        "setup": setup,
        "data": data,
    }


def cohort_prior(clean: np.ndarray, setup: Setup, top: int) -> tuple[float, float]:
    """The typical mean and spread of a probe's ``top`` best impostor scores (tuning, clean)."""
    rows = np.where(setup.impostor, clean, -np.inf)[setup.tuning & (setup.kind != "synthetic")]
    best = -np.sort(-rows, axis=1)[:, :top]
    best = np.where(np.isfinite(best), best, np.nan)
    mean = float(np.nanmedian(np.nanmean(best, axis=1)))
    return mean, float(np.nanmedian(np.nanstd(best, axis=1)))


def miss_by_enrolment(
    data: dict[str, Any], scores: np.ndarray, setup: Setup, cut: float
) -> list[list[float]]:
    """Clean misses by how much voice a print was built from (all corpora)."""
    seconds = {v[0]: s for v, s in zip(data["voices"], data["enrol_seconds"], strict=True)}
    probe_seconds = np.array([seconds.get(item[0], 0.0) for item in data["items"]])
    best = scores.argmax(axis=1)
    hit = (scores.max(axis=1) >= cut) & (setup.groups[best] == setup.performer)
    rows = []
    for low, high in ((0, 10), (10, 20), (20, 1e9)):
        where = (setup.kind == "enrolled") & (probe_seconds >= low) & (probe_seconds < high)
        if where.any():
            rows.append([high, round(float(np.mean(~hit[where])), 3)])
    return rows


def print_table(systems: dict[str, Any], part: str) -> None:
    table = Table(
        title=f"Voice protection ({part}): miss % at 1 % false matches per probe (clean, "
        "tuning corpora); unenrolled / synthetic attributed %"
    )
    table.add_column("system")
    shown = [c for c in CONDITIONS if c in next(iter(systems.values()))["conditions"]]
    for c in shown:
        table.add_column(c, justify="right")
    table.add_column("unenrolled (clean)", justify="right")
    table.add_column("synthetic (clean)", justify="right")
    for name, row in systems.items():
        cells = [f"{row['conditions'][c][part]['miss_pct']:.1f}" for c in shown]
        clean = row["conditions"]["clean"]
        cells.append(f"{clean[part]['unenrolled_attributed_pct']:.1f}")
        cells.append(f"{clean['synthetic_attributed_pct']:.1f}")
        table.add_row(name, *cells)
    console.print(table)


def run(quick: bool, per_voice: int, reuse: bool, write_calibration: bool) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    if reuse and FEATURES.exists():
        data = pickle.loads(FEATURES.read_bytes())
    else:
        data = compute(quick, per_voice)
        FEATURES.write_bytes(pickle.dumps(data))
    result = evaluate(data)
    systems = result["systems"]
    for part in ("all", "tuning", "held-out"):
        print_table(systems, part)
    table = Table(title="VAD: % of samples called voiced")
    table.add_column("VAD")
    for key in ("music_alone_voiced_pct", "clean_voiced_pct", "music-10dB_voiced_pct"):
        table.add_column(key, justify="right")
    for vad, row in data.get("vad", {}).items():
        table.add_row(vad, *(f"{row[k]:.1f}" for k in row))
    console.print(table)
    import voice_decision
    import voice_stretches

    new = voice_decision.evaluate(data, result)
    result["new"] = new
    stretch_rows = voice_stretches.evaluate(data, result)
    setup: Setup = result["setup"]
    summary = {
        "voices": data["voices"],
        "unenrolled_groups": list(UNENROLLED_GROUPS),
        "tuning_corpora": list(TUNING),
        "held_out": ["ktuberling", "espeak-ng"],
        "probes": {
            k: int((setup.kind == k).sum()) for k in ("enrolled", "unenrolled", "synthetic")
        },
        "enrolled_voices": len(setup.enrolled),
        "systems": systems,
        "stretches": stretch_rows,
        "new_decision": {
            "segment_threshold": new["segment_threshold"],
            "stretch_thresholds": new["stretch"],
            "cohort": new["cohort"],
            "fusion_weights": new["weights"],
            "fixed_cohort": new["fixed_cohort"],
            "tuning_misses": new["tuning_misses"],
        },
        "vad": data.get("vad", {}),
        "cpu_seconds": data["seconds"],
    }
    if write_calibration:
        import voice_timeline

        before = _calibration.screening()
        store(result, setup)
        summary["timelines"] = voice_timeline.run(data, before, per_voice)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2, default=float))
    console.print(f"wrote {RESULTS}")
    return summary


def store(result: dict[str, Any], setup: Setup) -> None:
    """Write the new decision's constants into calibration.json (key ``screening``) and the
    fixed synthetic cohort's prints into cohort.json."""
    new = result["new"]
    fusion: _calibration.Fusion = new["fusion"]
    scores = new["segments"]["clean"]
    best = impostor_best(scores, setup)
    impostor = best[setup.tuning & (setup.kind != "synthetic") & np.isfinite(best)].tolist()
    cut = new["segment_threshold"]
    path = _calibration.CALIBRATION_FILE
    data = json.loads(path.read_text())
    data[_calibration.SCREENING_KEY] = {
        "threshold": cut,
        "target_fmr": 0.01,
        "curve": _calibration.impostor_curve(impostor),
        "source": "benchmarks/voice.py --write-calibration: per clean 3 s probe, the best score "
        "of another performer's voice; hedgewars + warzone2100 + 0ad (ktuberling and espeak-ng "
        "held out); stretch thresholds per clean tuning stretch of 2 and 4 probes",
        "terms": {"resemblyzer-ge2e": list(fusion.ge2e), "mfcc-stats": list(fusion.mfcc)},
        "shifts": list(SHIFTS),
        "cohort": {
            **new["cohort"],
            **({"fixed": _calibration.COHORT_FILE.name} if new["fixed_cohort"] else {}),
        },
        "gate": GATE,
        "switch": 2.0,
        "stretch": new["stretch"],
        "miss_by_enrolment": miss_by_enrolment(result["data"], scores, setup, cut),
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
    console.print(f"wrote {path} ({_calibration.SCREENING_KEY})")
    if not new["fixed_cohort"]:
        return
    ge2e, mfcc, _ = result["data"]["cohort_prints"]
    model = _model.load_model()
    cohort = {
        "source": "benchmarks/voice_corpus.py espeak_cohort: espeak-ng voices "
        f"{', '.join(voice_corpus.COHORT_VOICES)} at pitches "
        f"{', '.join(map(str, voice_corpus.COHORT_PITCHES))}, Silero VAD; GE2E prints and raw "
        "MFCC statistics",
        "model_version": model.version,
        "mfcc_version": _mfcc.model_version(),
        "ge2e": [[round(float(v), 6) for v in row] for row in ge2e],
        "mfcc": [[round(float(v), 5) for v in row] for row in mfcc],
    }
    _calibration.COHORT_FILE.write_text(json.dumps(cohort) + "\n")
    console.print(f"wrote {_calibration.COHORT_FILE}")

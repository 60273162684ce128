"""Voice protection as a performer relies on it: open-set attribution at 1 % false matches.

Run through ``python benchmarks/voice.py`` (the default section, ``protection``).

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
from sostenuto.voice import _calibration, _model, _probe, _score, _vad

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


def degrade(items: list[ProbeItem], music: list[np.ndarray]) -> dict[str, list[np.ndarray]]:
    rng = np.random.default_rng(3)
    out: dict[str, list[np.ndarray]] = {c: [] for c in CONDITIONS}
    with tempfile.TemporaryDirectory() as tmp:
        for item in items:
            clean = item.clean
            bed = music[int(rng.integers(len(music)))]
            out["clean"].append(clean)
            out["mp3-64k"].append(base.mp3_roundtrip(clean, Path(tmp)))
            for snr in (10, 5):
                out[f"music-{snr}dB"].append(base.mix_music(clean, bed, snr, rng).probe)
            for steps in (2, -2):
                out[f"pitch{steps:+d}"].append(sox_pitch(clean, 100 * steps, Path(tmp)))
    return out


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


def compute(quick: bool, per_voice: int) -> dict[str, Any]:
    voices, enrol, items = load(quick, per_voice)
    music = base.music_bank(4 if quick else 16)
    degraded = degrade(items, music)
    model = _model.load_model()
    out: dict[str, Any] = {
        "voices": [(v.name, v.corpus, v.performer, round(v.seconds, 1)) for v in voices],
        "enrol_seconds": [round(sum(c.size for c in clips) / SR, 1) for clips in enrol],
        "items": [(i.voice, i.corpus, i.performer, i.kind) for i in items],
        "prints": {},
        "probes": {},
        "seconds": {},
    }
    todo = [("webrtc", (0,)), ("silero", SHIFTS)]
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("embedding", total=len(todo) * (1 + len(CONDITIONS)))
        for vad, shifts in todo:
            started = time.process_time()
            ge2e_prints, mfcc_prints, clip_rows = prints_of(model, enrol, vad)
            out["prints"][vad] = (ge2e_prints, mfcc_prints)
            out.setdefault("clip_prints", {})[vad] = clip_rows
            bar.advance(task)
            for condition in CONDITIONS:
                out["probes"][(vad, condition)] = features(model, degraded[condition], vad, shifts)
                bar.advance(task)
            out["seconds"][vad] = time.process_time() - started
    # Prints of a fixed synthetic impostor cohort (Silero VAD, as screening enrols).
    cohort = list(voice_corpus.espeak_cohort(SR).values())
    out["cohort_prints"] = prints_of(model, cohort, "silero")
    out["vad"] = vad_check(degraded, music)
    return out


def vad_check(degraded: dict[str, list[np.ndarray]], music: list[np.ndarray]) -> dict[str, Any]:
    """Seconds each VAD calls voiced: on music alone (should be none) and on voice probes."""
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
            signals = degraded[condition][:200]
            found = sum(sum(r.length for r in _vad.voiced_regions(x, SR, vad)) for x in signals)
            row[f"{condition}_voiced_pct"] = 100 * found / sum(x.size for x in signals)
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
    import voice_stretches

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
        "vad": data.get("vad", {}),
        "cpu_seconds": data["seconds"],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2, default=float))
    console.print(f"wrote {RESULTS}")
    if write_calibration:
        store(result, setup)
    return summary


def store(result: dict[str, Any], setup: Setup) -> None:
    """Write the shipped decision's constants into calibration.json (key ``screening``)."""
    fusion: _calibration.Fusion = result["fusion"]
    scores = result["shipped"]["clean"]
    best = impostor_best(scores, setup)
    impostor = best[setup.tuning & (setup.kind != "synthetic") & np.isfinite(best)].tolist()
    cut = _calibration.threshold_for_rate(impostor, 0.01)
    path = _calibration.CALIBRATION_FILE
    data = json.loads(path.read_text())
    data[_calibration.SCREENING_KEY] = {
        "threshold": cut,
        "target_fmr": 0.01,
        "curve": _calibration.impostor_curve(impostor),
        "source": "benchmarks/voice.py --write-calibration: per clean 3 s probe, the best score "
        "of another performer's voice; hedgewars + warzone2100 + 0ad (ktuberling and espeak-ng "
        "held out)",
        "terms": {"resemblyzer-ge2e": list(fusion.ge2e), "mfcc-stats": list(fusion.mfcc)},
        "shifts": list(SHIFTS),
        "cohort": result["cohort"],
        "gate": GATE,
        "switch": 2.0,
        "miss_by_enrolment": miss_by_enrolment(result["data"], scores, setup, cut),
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
    console.print(f"wrote {path} ({_calibration.SCREENING_KEY})")

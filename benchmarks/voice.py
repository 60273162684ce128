"""Voice matching on real recorded voices: EER and false-match rate, clean and degraded.

Voices (fetched by ``benchmarks/corpus.py`` into a cache, never committed; see docs/voice.md
for the licences and who performed what):

- ``hedgewars-data`` voice packs (GFDL-1.3): short shouted character lines. ``Robot`` is
  dropped (a robot-voice effect) and non-verbal clips (grunts, coughs, laughs) are skipped.
- ``warzone2100-data`` (GPL-2+): the tutorial narration, the commander's replies and the
  three multiplayer taunt voices. NEXUS (vocoded AI voice) and the radio-filtered pilots are
  left out. No voice actor is credited, so voices of one sex are not assumed to differ.
- ``0ad-data`` (CC-BY-SA-3.0): citizen voices of four civilisations, performers credited in
  the game's ``gui/credits/texts/audio.json``; the 4-clip Greek male voice is dropped.

Trials: each voice's clips are split once into an enrolment part and a probe part, so a probe
never shares an utterance with a voiceprint. A probe is about 3 s of other utterances of one
voice (one screening segment). Every probe is scored against every voiceprint: the same voice
is a genuine trial; a voice of another performer is an impostor trial; two voices that may be
one performer (two characters of one actor, uncredited voices of one sex in one game) are
neither. Probes are scored clean, after 64 kbit/s MP3, and with game music mixed underneath at
5 dB and 0 dB voice-to-music ratio (4 s of the music before and after the probe, so that
methods needing a music-only stretch have one); voiceprints stay clean.

Systems on the same trials: resemblyzer's GE2E encoder (what Sostenuto uses), a classical
baseline (mean and standard deviation of 20 MFCCs over the voiced frames, standardised,
cosine), score normalisation of both (AS-norm against a cohort of other voices), their fusion,
longer enrolment and probes, and four treatments of the music bed before GE2E.

    python benchmarks/voice.py [--quick] [--reuse] [--write-calibration] [--sections ...]

The default section, ``protection`` (benchmarks/voice_protection.py), measures what issue #20
asks: open-set attribution at 1 % false matches under six conditions, unenrolled and synthetic
voices, a held-out corpus, today's decision and the MFCC baseline in the same run.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from sostenuto.audio import decode, write_wav
from sostenuto.voice import _calibration, _embed, _match, _mfcc, _model, _vad
from sostenuto.voice._index import VoiceIndex

RESULTS = Path(__file__).resolve().parent / "results" / "voice.json"
SCORES = corpus.CACHE / "voice-scores.npz"  # every trial score, for analysis (not committed)
SR = _model.SAMPLE_RATE
DROPPED = {
    "hedgewars Robot": "processed: a robot-voice effect over the recording",
    "0ad-greek-male": "4 clips (3.7 s) and no credited performer",
    "warzone2100 NEXUS": "processed: the AI voice is vocoded",
    "warzone2100 pilots (vtoltalk, trnsppil)": "processed: radio band-limiting and clicks",
}
# Who voiced which Hedgewars pack, from the credits compiled into Debian's ``hedgewars``
# frontend: "Hedgehogs voice: Stephen Alexander" (the English character packs) and
# "Default_pl, Russian_pl voices: mtg90pl". The other localised packs name no performer;
# each is taken as its own.
HEDGEWARS_PERFORMER = {
    "Default_pl": "mtg90pl",
    "Russian_pl": "mtg90pl",
    "Default_es": "hedgewars-es",
    "Default_ru": "hedgewars-ru",
    "Default_uk": "hedgewars-uk",
}
# 0 A.D. 0.0.26 credits, "Voices": Greek Kaitlynn Hegarty; Latin Camille Tidjditi, Nicolas
# Auvray; Napatan Marine Hasselvender, Stanislas Dolcini; Persian Bahare Abasian, Mostafa
# Lotfi (female voice first, as the recordings' pitch shows).
ZEROAD_PERFORMER = {
    "0ad-greek-female": "Kaitlynn Hegarty",
    "0ad-latin-female": "Camille Tidjditi",
    "0ad-latin-male": "Nicolas Auvray",
    "0ad-napatan-female": "Marine Hasselvender",
    "0ad-napatan-male": "Stanislas Dolcini",
    "0ad-persian-female": "Bahare Abasian",
    "0ad-persian-male": "Mostafa Lotfi",
}
# Warzone 2100 credits no voice actor. Median F0: tutorial 195 Hz, commander 204 Hz, taunt2
# 244 Hz (female); taunt1 103 Hz, taunt3 90 Hz (male). Voices of one sex may be one actor.
WARZONE_PERFORMER = {
    "wz-tutorial": "warzone-female?",
    "wz-commander": "warzone-female?",
    "wz-taunt2": "warzone-female?",
    "wz-taunt1": "warzone-male?",
    "wz-taunt3": "warzone-male?",
}
QUICK_VOICES = (
    "British",
    "Default_pl",
    "Default_es",
    "wz-tutorial",
    "wz-taunt1",
    "0ad-greek-female",
    "0ad-napatan-female",
    "0ad-napatan-male",
    "0ad-persian-female",
    "0ad-persian-male",
)
NON_VERBAL = re.compile(
    r"^(ow\d|ooff\d|jump\d|firepunch\d|poison|laugh|hmm|nooo|uh-oh|yessir$)", re.IGNORECASE
)
GAP = np.zeros(int(0.15 * SR), dtype=np.float32)
CONTEXT = 4 * SR  # music alone before and after a probe
CONDITIONS = ("clean", "mp3-64k", "music-5dB", "music-0dB")
MUSIC = ("music-5dB", "music-0dB")
COHORT_TOP = 20
console = Console()

Floats = np.ndarray[Any, np.dtype[np.float32]]
Embedder = Callable[[Floats], Floats]


@dataclass(frozen=True)
class Voice:
    name: str
    corpus: str
    performer: str
    clips: list[Floats]

    @property
    def seconds(self) -> float:
        return sum(clip.size for clip in self.clips) / SR


@dataclass(frozen=True)
class Probe:
    voice: int
    clean: Floats


@dataclass(frozen=True)
class Degraded:
    """A probe under one condition; ``full`` holds music-only context around ``window``."""

    full: Floats
    window: slice

    @property
    def probe(self) -> Floats:
        return self.full[self.window]


DECODED = corpus.CACHE / "voice-decoded"  # 16 kHz float32 copies: decoding is the slow part


def _decode_all(paths: list[Path]) -> list[Floats]:
    clips = []
    for path in paths:
        cached = DECODED / path.relative_to(corpus.CACHE).with_suffix(".npy")
        if cached.exists():
            clips.append(np.load(cached))
            continue
        samples = decode(path, sample_rate=SR).samples
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.save(cached, samples)
        clips.append(samples)
    return [clip for clip in clips if clip.size > 0.25 * SR]


def load_voices(quick: bool) -> list[Voice]:
    voices: list[Voice] = []
    sources = [
        ("hedgewars", corpus.hedgewars_voices()),
        ("warzone2100", corpus.warzone_voices()),
        ("0ad", corpus.zeroad_voices()),
    ]
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("decoding voices", total=sum(len(s[1]) for s in sources))
        for source, packs in sources:
            for name, files in packs.items():
                progress.advance(task)
                if name == "Robot" or (name not in ZEROAD_PERFORMER and source == "0ad"):
                    continue
                if quick and name not in QUICK_VOICES:
                    continue
                if source == "hedgewars":
                    files = [path for path in files if not NON_VERBAL.match(path.stem)]
                    performer = HEDGEWARS_PERFORMER.get(name, "Stephen Alexander")
                elif source == "warzone2100":
                    performer = WARZONE_PERFORMER[name]
                else:
                    performer = ZEROAD_PERFORMER[name]
                voices.append(Voice(name, source, performer, _decode_all(files)))
    return voices


def _concat(pool: list[Floats], order: np.ndarray[Any, Any], seconds: float) -> Floats:
    parts: list[Floats] = []
    total = 0.0
    for i in order:
        parts += [pool[i], GAP]
        total += pool[i].size / SR
        if total >= seconds:
            break
    return np.concatenate(parts)


def split(
    voices: list[Voice],
    probes_per_voice: int,
    enrol_seconds: float,
    probe_seconds: float,
    seed: int = 7,
) -> tuple[list[list[Floats]], list[Probe]]:
    """Per voice: enrolment clips up to ``enrol_seconds`` (at most half the voice's audio),
    and probes of ``probe_seconds`` drawn from the remaining clips."""
    rng = np.random.default_rng(seed)
    enrol: list[list[Floats]] = []
    probes: list[Probe] = []
    for v, voice in enumerate(voices):
        order = rng.permutation(len(voice.clips))
        budget = min(enrol_seconds, voice.seconds / 2)
        chosen: list[Floats] = []
        for i in order:
            if sum(c.size for c in chosen) / SR >= budget:
                break
            chosen.append(voice.clips[i])
        enrol.append(chosen)
        pool = [voice.clips[i] for i in order[len(chosen) :]]
        for _ in range(probes_per_voice):
            probes.append(Probe(v, _concat(pool, rng.permutation(len(pool)), probe_seconds)))
    return enrol, probes


def music_bank(count: int, seed: int = 11) -> list[Floats]:
    files = [path for paths in corpus.music_files().values() for path in paths]
    rng = np.random.default_rng(seed)
    chosen = [files[i] for i in rng.choice(len(files), size=min(count, len(files)), replace=False)]
    return [decode(path, sample_rate=SR).samples for path in chosen]


def mp3_roundtrip(samples: Floats, folder: Path) -> Floats:
    wav, mp3 = folder / "probe.wav", folder / "probe.mp3"
    write_wav(wav, samples, SR)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-b:a", "64k", str(mp3)], check=True
    )
    return decode(mp3, sample_rate=SR).samples[: samples.size]


def rms(samples: Floats) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def mix_music(voice: Floats, music: Floats, snr_db: float, rng: np.random.Generator) -> Degraded:
    """Music under the voice at ``snr_db`` (levels over the voice's span), with music alone
    for ``CONTEXT`` samples before and after."""
    length = voice.size + 2 * CONTEXT
    start = int(rng.integers(0, max(1, music.size - length)))
    bed = music[start : start + length]
    bed = np.pad(bed, (0, length - bed.size))
    window = slice(CONTEXT, CONTEXT + voice.size)
    gain = rms(voice) / (rms(bed[window]) or 1.0) / (10 ** (snr_db / 20))
    mixed = bed * gain
    mixed[window] += voice
    peak = float(np.max(np.abs(mixed))) or 1.0
    return Degraded((mixed / max(peak, 1.0)).astype(np.float32), window)


def degrade(
    probes: list[Probe], music: list[Floats], conditions: tuple[str, ...] = CONDITIONS
) -> dict[str, list[Degraded]]:
    rng = np.random.default_rng(3)
    out: dict[str, list[Degraded]] = {name: [] for name in conditions}
    with tempfile.TemporaryDirectory() as tmp, Progress(console=console, transient=True) as bar:
        task = bar.add_task("degrading probes", total=len(probes))
        for probe in probes:
            clean = probe.clean
            whole = slice(0, clean.size)
            bed = music[int(rng.integers(len(music)))]
            for condition in conditions:
                if condition == "clean":
                    out[condition].append(Degraded(clean, whole))
                elif condition == "mp3-64k":
                    out[condition].append(Degraded(mp3_roundtrip(clean, Path(tmp)), whole))
                else:
                    snr = float(condition.removeprefix("music-").removesuffix("dB"))
                    out[condition].append(mix_music(clean, bed, snr, rng))
            bar.advance(task)
    return out


# --- systems: each maps a signal to one vector ----------------------------------------------


def ge2e_system(emphasis: _embed.Emphasis = "none") -> Embedder:
    model = _model.load_model()

    def embed(samples: Floats) -> Floats:
        found = _embed.partials(model, samples, emphasis)
        if found.embeddings.shape[0] == 0:
            return np.zeros(model.dim, np.float32)
        return _embed.normalised_mean(found.embeddings)

    return embed


def mfcc_system() -> Embedder:
    """Sostenuto's MFCC statistics (``voice._mfcc``) over the voiced frames, unstandardised."""

    def embed(samples: Floats) -> Floats:
        return _mfcc.signal_statistics(samples, _vad.voiced_regions(samples, SR))

    return embed


def unit(rows: Floats) -> Floats:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.maximum(norms, 1e-12)).astype(np.float32)


@dataclass
class Space:
    """How one system's vectors become comparable: standardisation fitted on the prints."""

    mean: Floats | float = 0.0
    std: Floats | float = 1.0

    def apply(self, rows: Floats) -> Floats:
        return unit((rows - self.mean) / self.std)


def embed_many(name: str, embed: Embedder, signals: list[Floats]) -> Floats:
    out = []
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(name, total=len(signals))
        for signal in signals:
            out.append(embed(signal))
            bar.advance(task)
    return np.stack(out).astype(np.float32)


def enrol_vectors(embed: Embedder, enrol: list[list[Floats]]) -> Floats:
    """One print per voice: the mean of its clips' embeddings (as enrolment does)."""
    rows = [np.mean([embed(clip) for clip in clips], axis=0) for clips in enrol]
    return np.stack(rows).astype(np.float32)


# --- vocal emphasis and separation in a mix -------------------------------------------------


def _stft(signal: Floats) -> tuple[Any, Any]:
    import librosa

    spectrum = librosa.stft(signal, n_fft=1024, hop_length=256)
    return np.abs(spectrum), np.exp(1j * np.angle(spectrum))


def _istft(magnitude: Any, phase: Any, length: int) -> Floats:
    import librosa

    return np.asarray(
        librosa.istft(magnitude * phase, hop_length=256, length=length), dtype=np.float32
    )


def repet_sim(item: Degraded) -> Floats:
    """REPET-SIM (librosa nn_filter soft mask): music repeats, voices do not."""
    import librosa

    magnitude, phase = _stft(item.full)
    width = int(librosa.time_to_frames(2.0, sr=SR, hop_length=256))
    background = librosa.decompose.nn_filter(
        magnitude, aggregate=np.median, metric="cosine", width=width
    )
    background = np.minimum(magnitude, background)
    mask = librosa.util.softmask(magnitude - background, 2 * background, power=2)
    return _istft(mask * magnitude, phase, item.full.size)[item.window]


def hpss_harmonic(item: Degraded) -> Floats:
    """Keep the harmonic part (voiced speech is harmonic; drums are not)."""
    import librosa

    magnitude, phase = _stft(item.full)
    harmonic, _ = librosa.decompose.hpss(magnitude, margin=2.0)
    return _istft(harmonic, phase, item.full.size)[item.window]


def spectral_subtraction(item: Degraded) -> Floats:
    """Subtract the music bed's mean spectrum, estimated on the music-only context."""
    magnitude, phase = _stft(item.full)
    frames = magnitude.shape[1]
    first = item.window.start // 256
    last = min(frames, item.window.stop // 256 + 1)
    context = np.concatenate([magnitude[:, :first], magnitude[:, last:]], axis=1)
    bed = context.mean(axis=1, keepdims=True) if context.size else 0.0
    cleaned = np.maximum(magnitude - 1.5 * bed, 0.05 * magnitude)
    return _istft(cleaned, phase, item.full.size)[item.window]


def band_pass(item: Degraded) -> Floats:
    return _embed.emphasise(item.probe, "band")


TREATMENTS: dict[str, Callable[[Degraded], Floats]] = {
    "band 100-4000 Hz": band_pass,
    "HPSS harmonic": hpss_harmonic,
    "spectral subtraction": spectral_subtraction,
    "REPET-SIM": repet_sim,
}


# --- metrics --------------------------------------------------------------------------------


def eer(genuine: Floats, impostor: Floats) -> float:
    thresholds = np.unique(np.concatenate([genuine, impostor]))
    impostor_sorted = np.sort(impostor)
    genuine_sorted = np.sort(genuine)
    fmr = 1 - np.searchsorted(impostor_sorted, thresholds, side="left") / impostor.size
    fnmr = np.searchsorted(genuine_sorted, thresholds, side="left") / genuine.size
    i = int(np.argmin(np.abs(fmr - fnmr)))
    return float((fmr[i] + fnmr[i]) / 2)


@dataclass(frozen=True)
class Trials:
    """Which probe × print pairs are genuine, impostor, or left out."""

    labels: np.ndarray[Any, Any]
    genuine: np.ndarray[Any, Any]
    impostor: np.ndarray[Any, Any]
    corpus: np.ndarray[Any, Any]  # the probe's corpus

    @classmethod
    def build(cls, voices: list[Voice], probes: list[Probe]) -> Trials:
        labels = np.array([p.voice for p in probes])
        performers = np.array([v.performer for v in voices])
        genuine = labels[:, None] == np.arange(len(voices))[None, :]
        impostor = performers[labels][:, None] != performers[None, :]
        corpus = np.array([voices[label].corpus for label in labels])
        return cls(labels, genuine, impostor, corpus)


def as_norm(
    scores: Floats,
    probe_cohort: Floats,
    print_cohort: Floats,
    cohort_performer: np.ndarray[Any, Any],
    probe_performer: np.ndarray[Any, Any],
    print_performer: np.ndarray[Any, Any],
    top: int = COHORT_TOP,
) -> Floats:
    """Adaptive symmetric score normalisation against cohort segments of *other* voices.

    For a trial (probe, print) the cohort leaves out both sides' performers, as a deployed
    cohort of unrelated voices would. Each side's score is standardised by the mean and
    standard deviation of its ``top`` closest cohort scores; the two are averaged.
    """
    out = np.empty_like(scores)
    for j in range(scores.shape[1]):
        keep = cohort_performer != print_performer[j]
        e_scores = np.sort(print_cohort[j, keep])[-top:]
        e_mean, e_std = e_scores.mean(), e_scores.std() + 1e-6
        for group in np.unique(probe_performer):
            rows = probe_performer == group
            mask = keep & (cohort_performer != group)
            p_scores = np.sort(probe_cohort[np.ix_(rows, mask)], axis=1)[:, -top:]
            p_mean, p_std = p_scores.mean(axis=1), p_scores.std(axis=1) + 1e-6
            raw = scores[rows, j]
            out[rows, j] = 0.5 * ((raw - e_mean) / e_std + (raw - p_mean) / p_std)
    return out


def summarise(scores: Floats, trials: Trials, threshold: float | None = None) -> dict[str, Any]:
    genuine = scores[trials.genuine]
    impostor = scores[trials.impostor]
    result: dict[str, Any] = {
        "eer": eer(genuine, impostor),
        "top1": float(np.mean(scores.argmax(axis=1) == trials.labels)),
        "genuine_trials": int(genuine.size),
        "impostor_trials": int(impostor.size),
    }
    # FNMR where a threshold set on *these* impostor trials would allow 1 % false matches:
    # whether the voices still separate under this condition, whatever the clean threshold.
    own = _calibration.threshold_for_rate(impostor.tolist(), _calibration.TARGET_FMR)
    result["fnmr_at_own_1pct_fmr"] = float(np.mean(genuine < own))
    # The same EER with probes of one corpus only (impostor prints from any corpus).
    result["eer_by_probe_corpus"] = {
        name: eer(
            scores[trials.genuine & (trials.corpus == name)[:, None]],
            scores[trials.impostor & (trials.corpus == name)[:, None]],
        )
        for name in np.unique(trials.corpus).tolist()
    }
    if threshold is not None:
        result["fmr_at_threshold"] = float(np.mean(impostor >= threshold))
        result["fnmr_at_threshold"] = float(np.mean(genuine < threshold))
    return result


def threshold_of(scores: Floats, trials: Trials) -> float:
    impostor = scores[trials.impostor].tolist()
    return _calibration.threshold_for_rate(impostor, _calibration.TARGET_FMR)


# --- the evaluation ---------------------------------------------------------------------------


def evaluate(
    voices: list[Voice],
    enrol: list[list[Floats]],
    probes: list[Probe],
    degraded: dict[str, list[Degraded]],
    *,
    systems: bool,
    treatments: bool,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Every system and variant on the same trials; returns the table rows and raw scores."""
    trials = Trials.build(voices, probes)
    performers = np.array([v.performer for v in voices])
    probe_performer = performers[trials.labels]
    # The cohort: 3 s segments made of each voice's *enrolment* clips (never a probe's).
    rng = np.random.default_rng(21)
    cohort_signals, cohort_voice = [], []
    for v, clips in enumerate(enrol):
        for _ in range(4):
            cohort_signals.append(_concat(clips, rng.permutation(len(clips)), 3.0))
            cohort_voice.append(v)
    cohort_performer = performers[np.array(cohort_voice)]

    rows: dict[str, dict[str, Any]] = {}
    raw: dict[str, dict[str, Floats]] = {}
    spaces: dict[str, Space] = {}
    impostor_stats: dict[str, tuple[float, float]] = {}
    fixed: dict[str, Floats] = {}
    if systems:
        normed: dict[str, dict[str, Floats]] = {}
        for name, embed, standardise in (
            ("resemblyzer GE2E", ge2e_system(), False),
            ("MFCC stats", mfcc_system(), True),
        ):
            prints = enrol_vectors(embed, enrol)
            space = (
                Space(prints.mean(axis=0), prints.std(axis=0) + 1e-6) if standardise else Space()
            )
            index = space.apply(prints)
            spaces[name] = space
            cohort = space.apply(embed_many(f"{name}: cohort", embed, cohort_signals))
            print_cohort = index @ cohort.T
            raw[name], normed[name] = {}, {}
            for condition, items in degraded.items():
                queries = space.apply(
                    embed_many(f"{name}: {condition}", embed, [d.probe for d in items])
                )
                raw[name][condition] = queries @ index.T
                normed[name][condition] = as_norm(
                    raw[name][condition],
                    queries @ cohort.T,
                    print_cohort,
                    cohort_performer,
                    probe_performer,
                    performers,
                )
        fused = {c: normed["resemblyzer GE2E"][c] + normed["MFCC stats"][c] for c in degraded}
        # Cohort-free fusion: each system's score standardised by fixed statistics of its
        # clean impostor scores (what a stored calibration can hold), then summed.
        fixed = {c: np.zeros_like(raw["MFCC stats"][c]) for c in degraded}
        for name in raw:
            impostor = raw[name]["clean"][trials.impostor]
            impostor_stats[name] = (float(impostor.mean()), float(impostor.std()))
            for c in degraded:
                fixed[c] += (raw[name][c] - impostor.mean()) / impostor.std()
        variants = {
            "resemblyzer GE2E": raw["resemblyzer GE2E"],
            "MFCC stats": raw["MFCC stats"],
            "GE2E + AS-norm": normed["resemblyzer GE2E"],
            "MFCC + AS-norm": normed["MFCC stats"],
            "fusion GE2E+MFCC (AS-norm)": fused,
            "fusion GE2E+MFCC (fixed z-norm)": fixed,
        }
        SCORES.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            SCORES,
            **{f"{n}|{c}": v for n, by in variants.items() for c, v in by.items()},
            genuine=trials.genuine,
            impostor=trials.impostor,
            corpus=trials.corpus,
            labels=trials.labels,
        )
        for name, by_condition in variants.items():
            threshold = threshold_of(by_condition["clean"], trials)
            rows[name] = {
                "threshold": threshold,
                "conditions": {
                    c: summarise(scores, trials, threshold) for c, scores in by_condition.items()
                },
            }

    if treatments:
        ge2e = ge2e_system()
        plain_prints = unit(enrol_vectors(ge2e, enrol))
        band_prints = unit(enrol_vectors(ge2e_system("band"), enrol))
        for treatment, process in TREATMENTS.items():
            prints = band_prints if treatment.startswith("band") else plain_prints
            by_condition = {}
            for condition in MUSIC:
                signals = [process(item) for item in degraded[condition]]
                queries = unit(embed_many(f"{treatment}: {condition}", ge2e, signals))
                by_condition[condition] = summarise(queries @ prints.T, trials)
            rows[f"GE2E, {treatment}"] = {"threshold": None, "conditions": by_condition}
    return rows, {
        "raw": raw,
        "trials": trials,
        "spaces": spaces,
        "fixed": fixed,
        "impostor_stats": impostor_stats,
    }


# --- speed and size --------------------------------------------------------------------------


def speed(enrol: list[list[Floats]], music: list[Floats]) -> dict[str, Any]:
    """CPU time of this process (one torch thread), not wall time: the machine is shared."""
    import torch

    torch.set_num_threads(1)
    model = _model.load_model()
    clips = [clip for pack in enrol for clip in pack]
    audio = sum(clip.size for clip in clips) / SR
    began = time.process_time()
    for clip in clips:  # what enrolment computes per clip: VAD, GE2E, MFCC statistics
        found = _embed.partials(model, clip)
        if found.embeddings.shape[0]:
            _embed.normalised_mean(found.embeddings)
        _mfcc.signal_statistics(clip, found.regions)
    enrol_seconds = time.process_time() - began

    # A 60 s mix: voice clips over music at 5 dB, screened against ten voiceprints.
    rng = np.random.default_rng(5)
    voice = np.concatenate([np.concatenate([c, GAP]) for c in clips])[: 60 * SR]
    voice = np.pad(voice, (0, 60 * SR - voice.size))
    mix = mix_music(voice, music[0], 5.0, rng).probe
    found_prints = [_embed.partials(model, c).embeddings for c in clips[:20]]
    prints = [_embed.normalised_mean(e) for e in found_prints if e.shape[0]][:10]
    index = VoiceIndex(list(range(len(prints))), np.stack(prints))
    fusion = _calibration.fusion()
    mfcc_rows = [mfcc_system()(clip) for clip in clips[:10]]
    mfcc_prints = _mfcc.standardise(np.stack(mfcc_rows), fusion.mfcc_mean, fusion.mfcc_std)
    mfcc_index = VoiceIndex(list(range(len(prints))), mfcc_prints[: len(prints)])
    began = time.process_time()
    _match.match_fused(model, mix, index, mfcc_index, fusion)
    screen_seconds = time.process_time() - began

    # Index scaling: exact cosine over many voices for the segments of a 3-minute file.
    segments = np.abs(rng.standard_normal((120, model.dim))).astype(np.float32)
    scaling = {}
    for count in (1_000, 10_000, 100_000):
        matrix = unit(np.abs(rng.standard_normal((count, model.dim))).astype(np.float32))
        big = VoiceIndex(list(range(count)), matrix)
        began = time.process_time()
        for _ in range(5):
            big.best(unit(segments))
        scaling[str(count)] = {
            "ms_per_file": (time.process_time() - began) / 5 * 1000,
            "index_mib": big.nbytes / 2**20,
        }
    return {
        "threads": torch.get_num_threads(),
        "clock": "process CPU time",
        "enrol_audio_s": audio,
        "enrol_x_realtime": audio / enrol_seconds,
        "screen_audio_s": 60.0,
        "screen_x_realtime": 60.0 / screen_seconds,
        "bytes_per_voice_in_index": (model.dim + _mfcc.DIM) * 4 + 2 * 8,
        "bytes_per_voiceprint_rows": (model.dim + _mfcc.DIM) * 4 + 2 * (10 * 64 + 200),
        "index_scaling": scaling,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# --- report ----------------------------------------------------------------------------------


def print_table(title: str, rows: dict[str, dict[str, Any]]) -> None:
    table = Table(title=title)
    table.add_column("system")
    table.add_column("threshold", justify="right")
    for condition in CONDITIONS:
        table.add_column(f"{condition}\nEER / FMR / FNMR", justify="right")
    for name, result in rows.items():
        cells = []
        for condition in CONDITIONS:
            r = result["conditions"].get(condition)
            if r is None:
                cells.append("–")
            elif "fmr_at_threshold" in r:
                cells.append(
                    f"{r['eer']:.1%} / {r['fmr_at_threshold']:.1%} / {r['fnmr_at_threshold']:.1%}"
                )
            else:
                cells.append(f"{r['eer']:.1%} (own-thr FNMR {r['fnmr_at_own_1pct_fmr']:.0%})")
        threshold = result["threshold"]
        table.add_row(name, "–" if threshold is None else f"{threshold:.3f}", *cells)
    console.print(table)


def print_speed(timing: dict[str, Any]) -> None:
    table = Table(title="Speed on one core (CPU time, torch.set_num_threads(1)) and size")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("enrolment (VAD + embedding)", f"{timing['enrol_x_realtime']:.1f}× RT")
    table.add_row("screening a 60 s mix", f"{timing['screen_x_realtime']:.1f}× RT")
    table.add_row("memory per enrolled voice", f"{timing['bytes_per_voice_in_index']} B")
    for count, row in timing["index_scaling"].items():
        table.add_row(
            f"exact search, {count} voices, 120 segments",
            f"{row['ms_per_file']:.2f} ms ({row['index_mib']:.1f} MiB)",
        )
    console.print(table)


SECTIONS = ("protection", "main", "long", "treatments", "speed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 voices, 6 probes each")
    parser.add_argument("--probes", type=int, default=12, help="probes per voice (default 12)")
    parser.add_argument(
        "--sections",
        default="protection",
        help="comma-separated subset of protection (default: open-set attribution, "
        "benchmarks/voice_protection.py), main,long,treatments,speed (the verification "
        "tables of the previous report; results merged into an existing results file)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="protection: reuse the cached embeddings"
    )
    parser.add_argument(
        "--protection-probes", type=int, default=8, help="protection: probes per voice (8)"
    )
    parser.add_argument(
        "--write-calibration",
        action="store_true",
        help="store the measured GE2E threshold in src/sostenuto/voice/calibration.json",
    )
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    if not sections <= set(SECTIONS):
        parser.error(f"unknown section in {args.sections!r}; choose from {SECTIONS}")
    import torch

    torch.set_num_threads(1)
    if "protection" in sections:
        import voice_protection

        voice_protection.run(
            args.quick,
            4 if args.quick else args.protection_probes,
            args.reuse,
            args.write_calibration,
        )
        if sections == {"protection"}:
            return
    voices = load_voices(args.quick)
    per_voice = 6 if args.quick else args.probes
    enrol, probes = split(voices, per_voice, enrol_seconds=12.0, probe_seconds=3.0)
    music = music_bank(4 if args.quick else 16)
    console.print(
        f"{len(voices)} voices of {len({v.performer for v in voices})} performer groups; "
        f"{len(probes)} probes × {len(voices)} prints per condition"
    )
    summary: dict[str, Any] = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "note": "shared 2-core machine under load; speed is CPU time on one thread",
        "voices": {
            v.name: {"corpus": v.corpus, "performer": v.performer, "seconds": round(v.seconds, 1)}
            for v in voices
        },
        "dropped": DROPPED,
        "probes": len(probes),
    }
    if sections & {"main", "treatments"}:
        degraded = degrade(probes, music)
        rows, scored = evaluate(
            voices,
            enrol,
            probes,
            degraded,
            systems="main" in sections,
            treatments="treatments" in sections,
        )
        trials: Trials = scored["trials"]
        console.print(
            f"{int(trials.genuine.sum())} genuine and {int(trials.impostor.sum())} impostor "
            "trials per condition"
        )
        print_table("Voice matching, 3 s probes vs voiceprints of up to 12 s", rows)
        if "main" in sections:
            summary["systems"] = {k: v for k, v in rows.items() if v["threshold"] is not None}
        if "treatments" in sections:
            summary["treatments"] = {k: v for k, v in rows.items() if v["threshold"] is None}
    if "long" in sections:
        # Longer enrolment (up to 30 s, at most half a voice's audio) and 6 s probes.
        long_enrol, long_probes = split(voices, per_voice, enrol_seconds=30.0, probe_seconds=6.0)
        long_degraded = degrade(long_probes, music, ("clean", "music-5dB"))
        long_rows, _ = evaluate(
            voices, long_enrol, long_probes, long_degraded, systems=True, treatments=False
        )
        print_table("Longer enrolment (up to 30 s) and 6 s probes", long_rows)
        summary["long"] = long_rows
    if "speed" in sections:
        summary["speed"] = speed(enrol, music)
        print_speed(summary["speed"])
    console.print(
        "EER over impostor trials between different performers; FMR/FNMR at the threshold "
        "giving 1 % FMR on clean trials. Published EER of resemblyzer's weights: see "
        "docs/voice.md."
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if previous.get("probes") == summary["probes"] and previous.get("voices") == summary["voices"]:
        summary = previous | summary
    RESULTS.write_text(json.dumps(summary, indent=2))
    console.print(f"wrote {RESULTS}")
    if args.write_calibration and "main" in sections:
        write_calibration(scored, rows, len(voices))


def write_calibration(scored: dict[str, Any], rows: dict[str, Any], voices: int) -> None:
    """GE2E alone, the MFCC standardisation, and the fused score's constants and threshold."""
    trials: Trials = scored["trials"]
    raw = scored["raw"]
    space: Space = scored["spaces"]["MFCC stats"]
    source = (
        f"benchmarks/voice.py: {int(trials.impostor.sum())} clean impostor trials, {voices} "
        "voices (Hedgewars, Warzone 2100, 0 A.D.), 3 s probes"
    )
    data = json.loads(_calibration.CALIBRATION_FILE.read_text())
    for key, name, scores in (
        ("resemblyzer-ge2e", "resemblyzer GE2E", raw["resemblyzer GE2E"]["clean"]),
        (
            _calibration.FUSION_KEY,
            "fusion GE2E+MFCC (fixed z-norm)",
            scored["fixed"]["clean"],
        ),
    ):
        impostor = scores[trials.impostor].tolist()
        data[key] = {
            "threshold": round(rows[name]["threshold"], 5),
            "target_fmr": _calibration.TARGET_FMR,
            "curve": _calibration.impostor_curve(impostor),
            "source": source,
        }
    data[_calibration.FUSION_KEY]["terms"] = {
        key: [round(float(v), 6) for v in scored["impostor_stats"][name]]
        for key, name in (("resemblyzer-ge2e", "resemblyzer GE2E"), ("mfcc-stats", "MFCC stats"))
    }
    data[_mfcc.MODEL_NAME] = {
        "mean": [round(float(v), 6) for v in np.ravel(space.mean)],
        "std": [round(float(v), 6) for v in np.ravel(space.std)],
        "source": source,
    }
    _calibration.CALIBRATION_FILE.write_text(json.dumps(data, indent=2) + "\n")
    console.print(f"wrote {_calibration.CALIBRATION_FILE}")


if __name__ == "__main__":
    main()

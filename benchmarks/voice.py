"""Voice matching on real recorded voices: EER and false-match rate, clean and degraded.

Voices: the Hedgewars voice packs of Debian's ``hedgewars-data`` (GFDL-1.3, see the package's
copyright file), fetched by ``benchmarks/corpus.py`` into a cache and never committed. Each
pack is one voice; the ``Robot`` pack is dropped (its voice is processed into a robot
timbre), and non-verbal clips (grunts, coughs, laughs, jump and punch cries) are skipped.

Trials: each pack's clips are split once into an enrolment half and a probe half, so a probe
never shares an utterance with a voiceprint. A voiceprint is built from 10 enrolment clips;
a probe is about 3 s of other utterances of one pack (the length of a screening segment).
Every probe is scored against every voiceprint: same pack = genuine trial, other pack =
impostor trial. Probes are scored clean, after 64 kbit/s MP3, and with game music mixed
underneath at 5 dB and 0 dB voice-to-music ratio; voiceprints stay clean.

Systems, on the same trials: resemblyzer's GE2E encoder (as Sostenuto uses it), the same with
the signal band-passed to 100–4000 Hz on both sides, and a classical baseline (mean and
standard deviation of 20 MFCCs over the voiced frames, standardised, cosine).

    python benchmarks/voice.py [--quick] [--write-calibration]
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
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
from sostenuto.audio import decode, write_wav
from sostenuto.voice import _calibration, _embed, _match, _model, _vad
from sostenuto.voice._index import VoiceIndex

RESULTS = Path(__file__).resolve().parent / "results" / "voice.json"
SR = _model.SAMPLE_RATE
DROPPED_PACKS = {"Robot": "processed: a robot-voice effect over the recording"}
# Who voiced which pack, from the credits compiled into Debian's ``hedgewars`` frontend:
# "Hedgehogs voice: Stephen Alexander" (the English character packs) and "Default_pl,
# Russian_pl voices: mtg90pl". The other localised packs name no performer; each is taken
# as its own. Trials between two characters of one performer are neither genuine nor
# impostor trials of a *voice*, so the "performer" protocol leaves them out.
PERFORMER = {
    "Default_pl": "mtg90pl",
    "Russian_pl": "mtg90pl",
    "Default_es": "es-pack",
    "Default_ru": "ru-pack",
    "Default_uk": "uk-pack",
}
ENGLISH_PERFORMER = "stephen-alexander"
QUICK_PACKS = ("British", "Pirate", "Default_es", "Default_pl", "Default_ru", "Default_uk")
NON_VERBAL = re.compile(
    r"^(ow\d|ooff\d|jump\d|firepunch\d|poison|laugh|hmm|nooo|uh-oh|yessir$)", re.IGNORECASE
)
ENROL_CLIPS = 10
PROBE_SECONDS = 3.0
GAP = np.zeros(int(0.15 * SR), dtype=np.float32)
CONDITIONS = ("clean", "mp3-64k", "music-5dB", "music-0dB")
console = Console()

Floats = np.ndarray[Any, np.dtype[np.float32]]


def load_voices(quick: bool) -> dict[str, list[Floats]]:
    packs = corpus.hedgewars_voices()
    voices: dict[str, list[Floats]] = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("decoding voice packs", total=len(packs))
        for name, files in packs.items():
            progress.advance(task)
            if name in DROPPED_PACKS:
                continue
            clips = [
                decode(path, sample_rate=SR).samples
                for path in files
                if not NON_VERBAL.match(path.stem)
            ]
            voices[name] = [clip for clip in clips if clip.size > 0.25 * SR]
    if quick:
        voices = {name: voices[name] for name in QUICK_PACKS if name in voices}
    return voices


def performer_of(pack: str) -> str:
    return PERFORMER.get(pack, ENGLISH_PERFORMER)


def split(
    voices: dict[str, list[Floats]], probes_per_pack: int, seed: int = 7
) -> tuple[dict[str, list[Floats]], list[tuple[str, Floats]]]:
    rng = np.random.default_rng(seed)
    enrol: dict[str, list[Floats]] = {}
    probes: list[tuple[str, Floats]] = []
    for name, clips in voices.items():
        order = rng.permutation(len(clips))
        enrol[name] = [clips[i] for i in order[:ENROL_CLIPS]]
        pool = [clips[i] for i in order[ENROL_CLIPS:]]
        for _ in range(probes_per_pack):
            parts: list[Floats] = []
            total = 0.0
            for i in rng.permutation(len(pool)):
                parts += [pool[i], GAP]
                total += pool[i].size / SR
                if total >= PROBE_SECONDS:
                    break
            probes.append((name, np.concatenate(parts)))
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
    return decode(mp3, sample_rate=SR).samples


def mix_music(samples: Floats, music: Floats, snr_db: float, rng: np.random.Generator) -> Floats:
    start = int(rng.integers(0, max(1, music.size - samples.size)))
    bed = music[start : start + samples.size]
    bed = np.pad(bed, (0, samples.size - bed.size))
    voice_rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    bed_rms = float(np.sqrt(np.mean(bed.astype(np.float64) ** 2))) or 1.0
    mixed = samples + bed * (voice_rms / bed_rms) / (10 ** (snr_db / 20))
    peak = float(np.max(np.abs(mixed))) or 1.0
    return (mixed / max(peak, 1.0)).astype(np.float32)


def degrade(probes: list[tuple[str, Floats]], music: list[Floats]) -> dict[str, list[Floats]]:
    rng = np.random.default_rng(3)
    out: dict[str, list[Floats]] = {name: [] for name in CONDITIONS}
    with tempfile.TemporaryDirectory() as tmp, Progress(console=console, transient=True) as bar:
        task = bar.add_task("degrading probes", total=len(probes))
        for _, clean in probes:
            out["clean"].append(clean)
            out["mp3-64k"].append(mp3_roundtrip(clean, Path(tmp)))
            bed = music[int(rng.integers(len(music)))]
            out["music-5dB"].append(mix_music(clean, bed, 5.0, rng))
            out["music-0dB"].append(mix_music(clean, bed, 0.0, rng))
            bar.advance(task)
    return out


# --- systems: each maps a signal to one L2-normed vector ------------------------------------


def ge2e_system(emphasis: _embed.Emphasis) -> Callable[[Floats], Floats]:
    model = _model.load_model()

    def embed(samples: Floats) -> Floats:
        found = _embed.partials(model, samples, emphasis)
        if found.embeddings.shape[0] == 0:
            return np.zeros(model.dim, np.float32)
        return _embed.normalised_mean(found.embeddings)

    return embed


def mfcc_system() -> Callable[[Floats], Floats]:
    import librosa

    def embed(samples: Floats) -> Floats:
        regions = _vad.voiced_regions(samples, SR)
        voiced = np.concatenate([samples[r.start : r.end] for r in regions]) if regions else samples
        mfcc = librosa.feature.mfcc(y=voiced, sr=SR, n_mfcc=20, n_fft=512, hop_length=160)
        return np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1)]).astype(np.float32)

    return embed


def enrol_vector(embed: Callable[[Floats], Floats], clips: list[Floats]) -> Floats:
    return np.mean([embed(clip) for clip in clips], axis=0).astype(np.float32)


def unit(rows: Floats) -> Floats:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.maximum(norms, 1e-12)).astype(np.float32)


# --- metrics ---------------------------------------------------------------------------------


def eer(genuine: Floats, impostor: Floats) -> float:
    thresholds = np.unique(np.concatenate([genuine, impostor]))
    fmr = np.array([np.mean(impostor >= t) for t in thresholds])
    fnmr = np.array([np.mean(genuine < t) for t in thresholds])
    i = int(np.argmin(np.abs(fmr - fnmr)))
    return float((fmr[i] + fnmr[i]) / 2)


def score_system(
    name: str,
    embed: Callable[[Floats], Floats],
    enrol: dict[str, list[Floats]],
    probes: list[tuple[str, Floats]],
    conditions: dict[str, list[Floats]],
    standardise: bool,
) -> dict[str, Any]:
    packs = list(enrol)
    prints = np.stack([enrol_vector(embed, enrol[p]) for p in packs])
    labels = np.array([packs.index(p) for p, _ in probes])
    performers = np.array([performer_of(p) for p in packs])
    mean = prints.mean(axis=0) if standardise else 0.0
    std = prints.std(axis=0) + 1e-6 if standardise else 1.0
    index = unit((prints - mean) / std)
    by_condition: dict[str, dict[str, Any]] = {}
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"scoring {name}", total=sum(len(v) for v in conditions.values()))
        for condition, signals in conditions.items():
            vectors = []
            for signal in signals:
                vectors.append(embed(signal))
                bar.advance(task)
            queries = unit((np.stack(vectors) - mean) / std)
            scores = queries @ index.T
            genuine = scores[np.arange(len(labels)), labels]
            other_pack = np.ones_like(scores, dtype=bool)
            other_pack[np.arange(len(labels)), labels] = False
            other_performer = performers[labels][:, None] != performers[None, :]
            impostor = scores[other_performer]
            same_actor = scores[other_pack & ~other_performer]
            top1 = float(np.mean(scores.argmax(axis=1) == labels))
            by_condition[condition] = {
                "genuine": genuine.tolist(),
                "impostor": impostor.tolist(),
                "pack_impostor": scores[other_pack].tolist(),
                "same_actor": same_actor.tolist(),
                "eer": eer(genuine, impostor),
                "eer_packs": eer(genuine, scores[other_pack]),
                "top1": top1,
            }
    clean_impostor = by_condition["clean"]["impostor"]
    threshold = _calibration.threshold_for_rate(clean_impostor, _calibration.TARGET_FMR)
    for result in by_condition.values():
        genuine, impostor = np.array(result["genuine"]), np.array(result["impostor"])
        result["fmr_at_threshold"] = float(np.mean(impostor >= threshold))
        result["fnmr_at_threshold"] = float(np.mean(genuine < threshold))
        same_actor = np.array(result["same_actor"])
        result["other_character_match_rate"] = (
            float(np.mean(same_actor >= threshold)) if same_actor.size else None
        )
    return {
        "threshold": threshold,
        "conditions": by_condition,
        "pack_similarity": (index @ index.T).round(3).tolist(),
        "packs": packs,
    }


# --- vocal separation in a mix --------------------------------------------------------------


def repet_sim(mix: Floats) -> Floats:
    """REPET-SIM vocal separation (librosa nn_filter soft mask): music repeats, voices do not."""
    import librosa

    spectrum = librosa.stft(mix, n_fft=1024, hop_length=256)
    magnitude, phase = np.abs(spectrum), np.exp(1j * np.angle(spectrum))
    width = int(librosa.time_to_frames(2.0, sr=SR, hop_length=256))
    background = librosa.decompose.nn_filter(
        magnitude, aggregate=np.median, metric="cosine", width=width
    )
    background = np.minimum(magnitude, background)
    mask = librosa.util.softmask(magnitude - background, 2 * background, power=2)
    vocals = librosa.istft(mask * magnitude * phase, hop_length=256, length=mix.size)
    return vocals.astype(np.float32)


def separation(
    enrol: dict[str, list[Floats]], probes: list[tuple[str, Floats]], music: list[Floats]
) -> dict[str, dict[str, float]]:
    """GE2E on probes under music, without and with REPET-SIM (4 s of music either side)."""
    embed = ge2e_system("none")
    packs = list(enrol)
    prints = unit(np.stack([enrol_vector(embed, enrol[p]) for p in packs]))
    labels = np.array([packs.index(p) for p, _ in probes])
    performers = np.array([performer_of(p) for p in packs])
    other = performers[labels][:, None] != performers[None, :]
    rng = np.random.default_rng(13)
    context = 4 * SR
    out: dict[str, dict[str, float]] = {}
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("separation experiment", total=2 * len(probes))
        for snr in (5.0, 0.0):
            plain, separated = [], []
            for _, clean in probes:
                pad = np.zeros(context, np.float32)
                bed = music[int(rng.integers(len(music)))]
                mix = mix_music(np.concatenate([pad, clean, pad]), bed, snr, rng)
                window = slice(context, context + clean.size)
                plain.append(embed(mix[window]))
                separated.append(embed(repet_sim(mix)[window]))
                bar.advance(task)
            for name, vectors in (("plain", plain), ("repet-sim", separated)):
                scores = unit(np.stack(vectors)) @ prints.T
                genuine = scores[np.arange(len(labels)), labels]
                out[f"music-{snr:g}dB/{name}"] = {
                    "eer": eer(genuine, scores[other]),
                    "top1": float(np.mean(scores.argmax(axis=1) == labels)),
                }
    return out


# --- speed and size --------------------------------------------------------------------------


def speed(enrol: dict[str, list[Floats]], music: list[Floats]) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    model = _model.load_model()
    clips = [clip for pack in enrol.values() for clip in pack]
    audio = sum(clip.size for clip in clips) / SR
    began = time.perf_counter()
    for clip in clips:
        _embed.normalised_mean(_embed.partials(model, clip).embeddings)
    enrol_seconds = time.perf_counter() - began

    # A 60 s mix: voice clips over music at 5 dB, screened against every pack's voiceprint.
    rng = np.random.default_rng(5)
    voice = np.concatenate([np.concatenate([c, GAP]) for c in clips])[: 60 * SR]
    voice = np.pad(voice, (0, 60 * SR - voice.size))
    mix = mix_music(voice, music[0], 5.0, rng)
    prints = [_embed.normalised_mean(_embed.partials(model, c).embeddings) for c in clips[:10]]
    index = VoiceIndex(list(range(len(prints))), np.stack(prints))
    calibration = _calibration.Calibration("bench", 0.8, 0.01, (), "bench")
    began = time.perf_counter()
    _match.match_samples(model, mix, index, calibration)
    screen_seconds = time.perf_counter() - began

    # Index scaling: exact cosine over many voices for the segments of a 3-minute file.
    segments = np.abs(rng.standard_normal((120, model.dim))).astype(np.float32)
    scaling = {}
    for voices in (1_000, 10_000, 100_000):
        matrix = unit(np.abs(rng.standard_normal((voices, model.dim))).astype(np.float32))
        big = VoiceIndex(list(range(voices)), matrix)
        began = time.perf_counter()
        for _ in range(5):
            big.best(unit(segments))
        scaling[str(voices)] = {
            "ms_per_file": (time.perf_counter() - began) / 5 * 1000,
            "index_mib": big.nbytes / 2**20,
        }
    return {
        "threads": torch.get_num_threads(),
        "enrol_audio_s": audio,
        "enrol_x_realtime": audio / enrol_seconds,
        "screen_audio_s": 60.0,
        "screen_x_realtime": 60.0 / screen_seconds,
        "bytes_per_voice_in_index": model.dim * 4 + 8,
        "bytes_per_voiceprint_row": model.dim * 4 + ENROL_CLIPS * 64 + 200,
        "index_scaling": scaling,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# --- report ----------------------------------------------------------------------------------


def print_tables(systems: dict[str, dict[str, Any]], timing: dict[str, Any]) -> None:
    table = Table(title="Voice matching on Hedgewars voice packs (3 s probes vs 10-clip prints)")
    table.add_column("system")
    table.add_column("threshold", justify="right")
    for condition in CONDITIONS:
        table.add_column(f"{condition}\nEER / FMR / FNMR / EER(packs)", justify="right")
    for name, result in systems.items():
        cells = []
        for condition in CONDITIONS:
            r = result["conditions"][condition]
            cells.append(
                f"{r['eer']:.1%} / {r['fmr_at_threshold']:.1%} / "
                f"{r['fnmr_at_threshold']:.1%} / {r['eer_packs']:.1%}"
            )
        table.add_row(name, f"{result['threshold']:.3f}", *cells)
    console.print(table)
    console.print(
        "EER: equal error rate over impostor trials between different credited performers. "
        "FMR/FNMR: false-match and false-non-match rates at the threshold set for 1 % FMR on "
        "clean trials. EER(packs): every other pack counted as an impostor, even another "
        "character voiced by the same performer. Published VoxCeleb EER for resemblyzer's "
        "weights: none published (see docs/voice.md)."
    )
    for name, result in systems.items():
        rate = result["conditions"]["clean"]["other_character_match_rate"]
        if rate is not None:
            console.print(
                f"{name}: another character by the same performer passes the threshold in "
                f"{rate:.1%} of trials (clean)"
            )
    speed_table = Table(title="Speed on one core (torch.set_num_threads(1)) and size")
    speed_table.add_column("measure")
    speed_table.add_column("value", justify="right")
    speed_table.add_row("enrolment (VAD + embedding)", f"{timing['enrol_x_realtime']:.1f}× RT")
    speed_table.add_row("screening a 60 s mix", f"{timing['screen_x_realtime']:.1f}× RT")
    speed_table.add_row("memory per enrolled voice", f"{timing['bytes_per_voice_in_index']} B")
    for voices, row in timing["index_scaling"].items():
        speed_table.add_row(
            f"exact search, {voices} voices, 120 segments",
            f"{row['ms_per_file']:.2f} ms ({row['index_mib']:.1f} MiB)",
        )
    console.print(speed_table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 packs, 6 probes each")
    parser.add_argument(
        "--write-calibration",
        action="store_true",
        help="store the measured thresholds in src/sostenuto/voice/calibration.json",
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    voices = load_voices(args.quick)
    enrol, probes = split(voices, 6 if args.quick else 24)
    music = music_bank(4 if args.quick else 16)
    conditions = degrade(probes, music)
    console.print(
        f"{len(enrol)} voices, {len(probes)} probes × {len(enrol)} prints = "
        f"{len(probes) * len(enrol)} trials per condition"
    )
    systems = {
        "resemblyzer-ge2e": score_system(
            "resemblyzer", ge2e_system("none"), enrol, probes, conditions, standardise=False
        ),
        "resemblyzer-ge2e+band": score_system(
            "resemblyzer+band", ge2e_system("band"), enrol, probes, conditions, standardise=False
        ),
        "mfcc-stats": score_system(
            "mfcc", mfcc_system(), enrol, probes, conditions, standardise=True
        ),
    }
    separated = separation(enrol, probes, music)
    timing = speed(enrol, music)
    print_tables(systems, timing)
    sep_table = Table(title="Music underneath: GE2E without and with REPET-SIM separation")
    sep_table.add_column("condition")
    sep_table.add_column("EER", justify="right")
    sep_table.add_column("top-1", justify="right")
    for name, row in separated.items():
        sep_table.add_row(name, f"{row['eer']:.1%}", f"{row['top1']:.0%}")
    console.print(sep_table)
    summary = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "note": "shared 2-core machine; speed on one thread",
        "packs": list(enrol),
        "performers": {pack: performer_of(pack) for pack in enrol},
        "dropped": DROPPED_PACKS,
        "probes": len(probes),
        "systems": {
            name: {
                "threshold": result["threshold"],
                "conditions": {
                    condition: {k: v for k, v in r.items() if not isinstance(v, list)}
                    | {
                        "genuine_trials": len(r["genuine"]),
                        "impostor_trials": len(r["impostor"]),
                        "pack_impostor_trials": len(r["pack_impostor"]),
                        "same_actor_trials": len(r["same_actor"]),
                    }
                    for condition, r in result["conditions"].items()
                },
                "pack_similarity": result["pack_similarity"],
            }
            for name, result in systems.items()
        },
        "separation": separated,
        "speed": timing,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2))
    console.print(f"wrote {RESULTS}")
    if args.write_calibration:
        data = {}
        for name in ("resemblyzer-ge2e", "resemblyzer-ge2e+band"):
            impostor = systems[name]["conditions"]["clean"]["impostor"]
            data[name] = {
                "threshold": round(systems[name]["threshold"], 5),
                "target_fmr": _calibration.TARGET_FMR,
                "curve": _calibration.impostor_curve(impostor),
                "source": (
                    f"benchmarks/voice.py: {len(impostor)} clean impostor trials, "
                    f"{len(enrol)} Hedgewars voices, 3 s probes"
                ),
            }
        _calibration.CALIBRATION_FILE.write_text(json.dumps(data, indent=2) + "\n")
        console.print(f"wrote {_calibration.CALIBRATION_FILE}")


if __name__ == "__main__":
    main()

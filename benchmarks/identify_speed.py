"""Fingerprinting speed per core: Sostenuto against fpcalc (Chromaprint) and audfprint2.

Every tool fingerprints the same real tracks (benchmarks/corpus.py), decoding included.
A second table gives fingerprinting alone: each tool is handed the same tracks already
decoded by one ffmpeg pass to raw PCM at its own analysis rate (Sostenuto 8 kHz float32 in
memory, fpcalc 11 025 Hz s16le through ``-format``), so decoding is left out of both.
Speed is seconds of audio per CPU second of the process and its children (getrusage deltas),
never wall time: the machine may be shared. Sostenuto's time is also split by stage.
Sostenuto runs twice, decoding in process (the ``_avdecode`` extension, when built) and
through the ffmpeg CLI (``SOSTENUTO_DECODER=ffmpeg``); the tools take turns track by track, so
a busy spell on the machine falls on all of them.

    python benchmarks/identify_speed.py              # 24 tracks, all three tools
    python benchmarks/identify_speed.py --tracks 6 --no-audfprint
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus
from sostenuto.audio import probe_duration
from sostenuto.audio._decode import HAVE_AVDECODE
from sostenuto.identify import fingerprint_file, fingerprint_samples, load_audio
from sostenuto.identify._hashes import triplet_hashes
from sostenuto.identify._params import REFERENCE, VERIFY_PEAKS_PER_SECOND
from sostenuto.identify._peaks import find_peaks
from sostenuto.identify._spectrum import log_spectrogram

RESULTS = Path(__file__).with_name("results") / "identify_speed.json"
# The registered side of benchmarks/identify.py: the tracks whose indexing speed it reports.
PACKAGES = ("wesnoth-1.16-music", "singularity-music")
T = TypeVar("T")


def cpu() -> float:
    """CPU seconds of this process (all threads) and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(call: Callable[[], T]) -> tuple[T, float]:
    began = cpu()
    value = call()
    return value, cpu() - began


@contextmanager
def decoder(name: str) -> Iterator[None]:
    """Decode through ``name``: "ffmpeg" (the CLI) or "auto" (in process when built)."""
    before = os.environ.get("SOSTENUTO_DECODER")
    os.environ["SOSTENUTO_DECODER"] = name
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOSTENUTO_DECODER"]
        else:
            os.environ["SOSTENUTO_DECODER"] = before


# Sostenuto's variants: (row name, SOSTENUTO_DECODER value).
DECODERS = [("ffmpeg CLI", "ffmpeg")] + ([("in process", "auto")] if HAVE_AVDECODE else [])


def pick_tracks(count: int, packages: tuple[str, ...]) -> list[Path]:
    music = corpus.music_files(list(packages))
    pool = sorted(p for name in packages for p in music.get(name, []))
    rng = np.random.default_rng(2026)
    return sorted(pool[i] for i in rng.permutation(len(pool))[:count])


def sostenuto_stages(tracks: list[Path]) -> dict[str, float]:
    resample_stages = [f"decode + resample ({name})" for name, _ in DECODERS]
    stages = dict.fromkeys(
        ["ffmpeg decode only", *resample_stages, "spectrogram", "peaks", "hashes"], 0.0
    )
    for path in tracks:
        mark = cpu()

        def lap(stage: str) -> None:
            nonlocal mark
            now = cpu()
            stages[stage] += now - mark
            mark = now

        # Reference only: what ffmpeg alone spends decoding, without resampling or output.
        null = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"]
        subprocess.run(null, check=True)
        lap("ffmpeg decode only")
        for name, setting in DECODERS:
            with decoder(setting):
                samples = load_audio(path).samples
            lap(f"decode + resample ({name})")
        spectrogram = log_spectrogram(samples)
        lap("spectrogram")
        peaks = find_peaks(spectrogram, REFERENCE.peaks_per_second, VERIFY_PEAKS_PER_SECOND)
        lap("peaks")
        triplet_hashes(*peaks[0], REFERENCE, variants=False)
        lap("hashes")
    return stages


def fpcalc(path: Path) -> None:
    # Exit code 3 ("Error decoding audio frame (End of file)") comes at every file's end; the
    # fingerprint is complete, so the code is not checked.
    subprocess.run(["fpcalc", "-raw", "-length", "0", str(path)], capture_output=True)


def from_pcm(tracks: list[Path]) -> dict[str, float]:
    """CPU seconds of fingerprinting alone, on audio both tools get already decoded."""
    spent = {"sostenuto": 0.0, "chromaprint (fpcalc)": 0.0}
    with tempfile.TemporaryDirectory(prefix="identify-pcm-") as tmp:
        for path in tracks:
            samples = load_audio(path).samples
            spent["sostenuto"] += timed(lambda s=samples: fingerprint_samples(s))[1]
            raw = Path(tmp) / "track.s16le"
            decode = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(path)]
            decode += ["-ac", "1", "-ar", "11025", "-f", "s16le", str(raw)]
            subprocess.run(decode, check=True)
            command = ["fpcalc", "-raw", "-length", "0", "-format", "s16le"]
            command += ["-rate", "11025", "-channels", "1", str(raw)]
            spent["chromaprint (fpcalc)"] += timed(
                lambda c=command: subprocess.run(c, capture_output=True)
            )[1]
    return spent


def audfprint(tracks: list[Path]) -> float:
    with tempfile.TemporaryDirectory(prefix="identify-speed-") as tmp:
        listing = Path(tmp) / "tracks.txt"
        listing.write_text("\n".join(str(p) for p in tracks) + "\n")
        # The venv's console script, when the venv is not on PATH.
        tool = shutil.which("audfprint") or str(Path(sys.executable).with_name("audfprint"))
        command = [tool, "-d", str(Path(tmp) / "db.pklz"), "--list", "new", str(listing)]
        return timed(lambda: subprocess.run(command, check=True, capture_output=True))[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tracks", type=int, default=24)
    parser.add_argument("--no-audfprint", action="store_true", help="skip the slowest peer")
    parser.add_argument("--packages", nargs="+", default=list(PACKAGES))
    args = parser.parse_args()
    tracks = pick_tracks(args.tracks, tuple(args.packages))
    seconds = sum(probe_duration(p) for p in tracks)
    print(
        f"{len(tracks)} tracks, {seconds / 60:.1f} min of audio; {os.cpu_count()} cores "
        f"(shared machine: CPU time, not wall time)",
        flush=True,
    )
    fingerprint_samples(np.zeros(8000, dtype=np.float32))  # lazy set-up is not per track

    if not HAVE_AVDECODE:
        print("the in-process decoder is not built: Sostenuto decodes through the ffmpeg CLI")
    cpu_seconds = {f"sostenuto ({name})": 0.0 for name, _ in DECODERS}
    cpu_seconds["chromaprint (fpcalc)"] = 0.0
    for path in tracks:
        for name, setting in DECODERS:
            with decoder(setting):
                cpu_seconds[f"sostenuto ({name})"] += timed(lambda p=path: fingerprint_file(p))[1]
        cpu_seconds["chromaprint (fpcalc)"] += timed(lambda p=path: fpcalc(p))[1]
    if not args.no_audfprint:
        cpu_seconds["audfprint2"] = audfprint(tracks)
    stages = sostenuto_stages(tracks)
    pcm = from_pcm(tracks)

    print(f"\n{'tool':<32}{'CPU s':>9}{'x real time per core':>22}")
    for tool, spent in cpu_seconds.items():
        print(f"{tool:<32}{spent:>9.2f}{seconds / spent:>22.0f}")
    print(f"\n{'from decoded PCM':<32}{'CPU s':>9}{'x real time per core':>22}")
    for tool, spent in pcm.items():
        print(f"{tool:<32}{spent:>9.2f}{seconds / spent:>22.0f}")
    print(f"\n{'Sostenuto stage':<32}{'CPU s':>9}{'x real time per core':>22}")
    for stage, spent in stages.items():
        print(f"{stage:<32}{spent:>9.2f}{seconds / max(spent, 1e-9):>22.0f}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d"),
                "machine": f"{os.cpu_count()} cores, shared with other work",
                "tracks": [p.name for p in tracks],
                "audio_seconds": round(seconds, 1),
                "cpu_seconds": cpu_seconds,
                "x_realtime_per_core": {k: seconds / v for k, v in cpu_seconds.items()},
                "sostenuto_stages_cpu_seconds": stages,
                "from_pcm_cpu_seconds": pcm,
                "from_pcm_x_realtime_per_core": {k: seconds / v for k, v in pcm.items()},
            },
            indent=1,
        )
        + "\n"
    )
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()

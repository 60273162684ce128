"""Run inside a separate virtual environment that has resemble-perth (torch, torchaudio).

Reads a JSON job on stdin: {"embed": [[src_wav, dst_wav], ...], "detect": [wav, ...]} and
prints {"embed_seconds": [...], "scores": {wav: score}, "detect_seconds": [...]}. Used only
by benchmarks/labelling.py, never by Sostenuto itself or its tests.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import perth
import soundfile


def main() -> None:
    job = json.load(sys.stdin)
    marker = perth.PerthImplicitWatermarker()
    out: dict[str, object] = {"embed_seconds": [], "scores": {}, "detect_seconds": []}
    for src, dst in job.get("embed", []):
        audio, rate = soundfile.read(src, dtype="float32", always_2d=True)
        mono = audio.mean(axis=1)
        start = time.process_time()
        marked = marker.apply_watermark(mono, watermark=None, sample_rate=rate)
        out["embed_seconds"].append([time.process_time() - start, len(mono) / rate])
        soundfile.write(dst, np.clip(np.asarray(marked), -1, 1), rate, subtype="PCM_16")
    for path in job.get("detect", []):
        audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
        start = time.process_time()
        score = marker.get_watermark(audio.mean(axis=1), sample_rate=rate)
        out["detect_seconds"].append([time.process_time() - start, len(audio) / rate])
        out["scores"][path] = float(score)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

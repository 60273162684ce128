"""Voices for the voice-protection benchmark beyond ``corpus.py``: a held-out real-voice
package and synthetic impostors (nothing here is tuned on; audio is cached, never committed).

- ``ktuberling-data`` (GPL-2+, KDE; the copyright file names no voice performer): the word
  sounds of KTuberling, one recorded speaker per language folder (one word per file, ~1 s).
  Languages with at least 70 words are kept; French and Walloon may share a speaker, so they
  are one performer group.
- espeak-ng voices (formant synthesis, made here): variants, languages and pitches.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

import corpus
from sostenuto.audio import decode

KTUBERLING_MIN_WORDS = 70
KTUBERLING_GROUP = {"fr": "ktuberling-fr/wa?", "wa": "ktuberling-fr/wa?"}
ESPEAK_VOICES = (
    ("en-us+m1", 40),
    ("en-us+m7", 60),
    ("en-us+f2", 50),
    ("en-us+f4", 70),
    ("en+klatt", 50),
    ("de+m2", 45),
    ("fr+f1", 55),
    ("es+m4", 50),
    ("it+f3", 60),
    ("sv+m5", 35),
    ("pl+croak", 50),
    ("nl+whisper", 50),
)
ESPEAK_TEXT = (
    "Every evening the old harbour filled with boats returning from the open sea.",
    "Nobody expected the concert to start so late, but the hall was still full.",
)

# A fixed impostor cohort for score normalisation: other espeak-ng voices, each at three
# pitches, saying other sentences (never the impostor probes above).
COHORT_VOICES = ("en+m2", "en+f5", "en-us+m6", "de+f2", "fr+m3", "es+f4", "it+m2", "pt+f1")
COHORT_PITCHES = (30, 50, 70)
COHORT_TEXT = (
    "The river ran quietly past the mill while the farmers loaded the last carts of grain.",
    "She wrote down every number twice, because the ledger had to be right by the morning.",
    "Three trains left the station at noon and none of them arrived before the storm.",
)


def ktuberling_voices() -> dict[str, list[Path]]:
    """Language folder -> word files, for languages with enough words."""
    root = corpus.fetch("ktuberling-data")
    voices: dict[str, list[Path]] = {}
    for folder in sorted(root.rglob("ktuberling/sounds/*")):
        if folder.is_dir():
            files = sorted(folder.glob("*.wav")) + sorted(folder.glob("*.ogg"))
            if len(files) >= KTUBERLING_MIN_WORDS:
                voices[folder.name] = files
    return voices


def espeak_probes(rate: int) -> dict[str, list[np.ndarray]]:
    """Each espeak-ng voice speaking ESPEAK_TEXT, decoded at ``rate``."""
    out: dict[str, list[np.ndarray]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for voice, pitch in ESPEAK_VOICES:
            clips = []
            for i, text in enumerate(ESPEAK_TEXT):
                path = Path(tmp) / f"{voice.replace('+', '_')}_{i}.wav"
                subprocess.run(
                    [
                        "espeak-ng",
                        "-v",
                        voice,
                        "-p",
                        str(pitch),
                        "-s",
                        "150",
                        "-w",
                        str(path),
                        text,
                    ],
                    check=True,
                )
                clips.append(decode(path, sample_rate=rate).samples)
            out[f"espeak {voice} p{pitch}"] = clips
    return out


def espeak_cohort(rate: int) -> dict[str, list[np.ndarray]]:
    """The impostor cohort: each COHORT_VOICES voice at each COHORT_PITCHES pitch."""
    out: dict[str, list[np.ndarray]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for voice in COHORT_VOICES:
            for pitch in COHORT_PITCHES:
                clips = []
                for i, text in enumerate(COHORT_TEXT):
                    path = Path(tmp) / f"{voice.replace('+', '_')}_{pitch}_{i}.wav"
                    subprocess.run(
                        [
                            "espeak-ng",
                            "-v",
                            voice,
                            "-p",
                            str(pitch),
                            "-s",
                            "150",
                            "-w",
                            str(path),
                            text,
                        ],
                        check=True,
                    )
                    clips.append(decode(path, sample_rate=rate).samples)
                out[f"espeak {voice} p{pitch}"] = clips
    return out

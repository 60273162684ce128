"""Classical voice statistics, fused with the GE2E score: the mean and spread of 20 MFCCs.

On the benchmark's real voices (docs/voice.md) this baseline alone is as good as GE2E on clean
speech and its errors differ, so the sum of the two standardised scores beats either. The
statistics are taken over the voiced frames only (the VAD regions the encoder also uses), then
standardised with constants measured on enrolled voices (``calibration.json``) and L2-normed,
so that a cosine compares them.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

import numpy as np
import numpy.typing as npt

from sostenuto.errors import DependencyMissing
from sostenuto.voice._model import SAMPLE_RATE
from sostenuto.voice._vad import Region

Floats = npt.NDArray[np.float32]

MODEL_NAME = "mfcc-stats"
N_MFCC = 20
N_FFT = 512
HOP = 160  # 10 ms, the encoder's frame rate
DIM = 2 * N_MFCC


def _librosa() -> Any:
    try:
        import librosa
    except ImportError as error:
        raise DependencyMissing(
            "MFCC voice statistics need librosa: pip install 'sostenuto[voice]'",
            details={"missing": "librosa"},
        ) from error
    return librosa


def model_version() -> str:
    """The feature recipe and the librosa release that computes it."""
    return f"mfcc{N_MFCC}-n{N_FFT}-h{HOP}+librosa{importlib.metadata.version('librosa')}"


def frames(samples: Floats) -> Floats:
    """MFCC frames of a 16 kHz signal, ``(frames, N_MFCC)``, one every 10 ms."""
    librosa = _librosa()
    if samples.size < N_FFT:
        samples = np.pad(samples, (0, N_FFT - samples.size))
    mfcc = librosa.feature.mfcc(
        y=samples, sr=SAMPLE_RATE, n_mfcc=N_MFCC, n_fft=N_FFT, hop_length=HOP
    )
    out: Floats = np.ascontiguousarray(mfcc.T, dtype=np.float32)
    return out


def voiced_mask(count: int, regions: list[Region]) -> npt.NDArray[np.bool_]:
    """Which of ``count`` MFCC frames (centred every ``HOP`` samples) lie in a voiced region."""
    centres = np.arange(count) * HOP
    mask = np.zeros(count, dtype=bool)
    for region in regions:
        mask |= (centres >= region.start) & (centres < region.end)
    return mask


def statistics(rows: Floats) -> Floats:
    """Mean and standard deviation of each coefficient: the raw (unstandardised) vector."""
    if rows.shape[0] == 0:
        return np.zeros(DIM, dtype=np.float32)
    return np.concatenate([rows.mean(axis=0), rows.std(axis=0)]).astype(np.float32)


def signal_statistics(samples: Floats, regions: list[Region]) -> Floats:
    """Raw statistics over the voiced frames of a signal (all frames when none is voiced)."""
    rows = frames(samples)
    mask = voiced_mask(rows.shape[0], regions)
    return statistics(rows[mask] if mask.any() else rows)


def standardise(raw: Floats, mean: Floats, std: Floats) -> Floats:
    """Standardise raw statistics with the calibrated constants and L2-norm each row."""
    scaled = (np.atleast_2d(raw) - mean) / std
    norms = np.linalg.norm(scaled, axis=1, keepdims=True)
    out: Floats = (scaled / np.maximum(norms, 1e-12)).astype(np.float32)
    return out

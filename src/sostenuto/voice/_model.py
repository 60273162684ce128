"""The speaker-embedding model: resemblyzer's GE2E encoder, loaded lazily from its own wheel.

torch and resemblyzer are optional (the ``voice`` extra), so nothing here imports them at
module import time; :func:`load_model` raises :class:`DependencyMissing` when they are absent.
The weights (``pretrained.pt``) ship inside the resemblyzer wheel: nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sostenuto.errors import DependencyMissing

SAMPLE_RATE = 16_000
FRAME_SECONDS = 0.01  # mel hop: 10 ms
PARTIAL_FRAMES = 160  # the encoder sees 1.6 s windows ("partial utterances")
MODEL_NAME = "resemblyzer-ge2e"

Floats = npt.NDArray[np.float32]


def _import_backend() -> tuple[Any, Any, Any]:
    try:
        import torch
    except ImportError as error:
        raise DependencyMissing(
            "voice embeddings need torch: pip install torch==2.13.0 (CPU build), then "
            "pip install 'sostenuto[voice]'",
            details={"missing": "torch"},
        ) from error
    try:
        # resemblyzer imports webrtcvad, which imports pkg_resources and warns about it.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from resemblyzer import VoiceEncoder
            from resemblyzer import audio as resemblyzer_audio
    except ImportError as error:
        raise DependencyMissing(
            f"voice embeddings need resemblyzer ({error}): pip install 'sostenuto[voice]'",
            details={"missing": "resemblyzer"},
        ) from error
    return torch, VoiceEncoder, resemblyzer_audio


@dataclass(frozen=True)
class SpeakerModel:
    """A loaded encoder, named and versioned so voiceprints from other weights never mix."""

    name: str
    version: str
    dim: int
    _encoder: Any
    _torch: Any
    _audio: Any

    def mel(self, wav: Floats) -> Floats:
        """The encoder's input features: a 40-band mel spectrogram, frames × bands."""
        frames: Floats = self._audio.wav_to_mel_spectrogram(wav)
        return frames

    def embed_windows(self, windows: Floats) -> Floats:
        """Embed a batch of ``(n, PARTIAL_FRAMES, 40)`` mel windows; rows are L2-normed."""
        if windows.shape[0] == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        torch = self._torch
        with torch.inference_mode():
            out = self._encoder(torch.from_numpy(np.ascontiguousarray(windows)))
        result: Floats = out.numpy().astype(np.float32, copy=False)
        return result


def _weights_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


@lru_cache(maxsize=1)
def load_model() -> SpeakerModel:
    """The encoder on the CPU, loaded once per process."""
    torch, voice_encoder, resemblyzer_audio = _import_backend()
    encoder = voice_encoder(device="cpu", verbose=False)
    encoder.eval()
    weights = Path(resemblyzer_audio.__file__).with_name("pretrained.pt")
    version = importlib.metadata.version("resemblyzer")
    return SpeakerModel(
        name=MODEL_NAME,
        version=f"{version}+{_weights_digest(weights)}",
        dim=int(encoder.linear.out_features),
        _encoder=encoder,
        _torch=torch,
        _audio=resemblyzer_audio,
    )

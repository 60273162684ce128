"""Audio for the client's output and example tests: synthetic pieces as WAV bytes, and a
live server that can label (its C2PA keys made first)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
import soundfile

from sostenuto.identify import register_recording_audio
from sostenuto.label import init_keys
from sostenuto.settings import Settings
from tests.client.conftest import Live
from tests.identify.conftest import add_noise, render_piece

RATE = 16_000


def piece_wav(seed: int, seconds: float = 10.0, *, noise_db: float | None = None) -> bytes:
    """A distinct synthetic piece per seed, as 16-bit WAV bytes."""
    samples = render_piece(seed, seconds, RATE)[: int(seconds * RATE)]
    if noise_db is not None:
        samples = add_noise(samples, noise_db, seed)
    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(samples, -1, 1), RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


@pytest.fixture
def labelling(settings: Settings) -> Iterator[Settings]:
    """The server's C2PA signing keys, made before the live server starts."""
    init_keys(settings.keys_dir)
    yield settings


def register_audio(live: Live, settings: Settings, recording_id: int, data: bytes) -> None:
    """Fingerprint ``data`` into the catalogue as the audio of a demo recording."""
    path = settings.data_dir / f"recording-{recording_id}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    register_recording_audio(live.database, settings, recording_id, path)

"""Speech for the voice tests, synthesised by espeak-ng, and a small registry.

espeak-ng's formant voices are distinct speakers to a speaker encoder: a male and a female
variant score about 0.6 against each other and above 0.9 against themselves, so they stand in
for two performers without any recorded voice in the repository.
"""

from __future__ import annotations

import datetime as dt
import functools
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from sostenuto.audio import decode, write_wav
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Cmo, Licensee, Mandate, Performer
from sostenuto.voice import enrol_voice

ALICE = "en-us+m3"  # the enrolled performer's voice
BRUNO = "en-us+f3"  # a different voice, never enrolled in most tests
SENTENCES = (
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "She sells sea shells by the sea shore every summer morning.",
    "A performer's voice belongs to the performer and to nobody else.",
    "Please call Stella and ask her to bring these things from the store.",
    "We measured every figure twice before writing the final report.",
    "Bright violins rose above the choir while the drums kept time.",
)
RATE = 16_000
# The tests' espeak-ng material holds 8-20 s of voice, under the recommended amount.
enrol_short = functools.partial(enrol_voice, accept_short=True)

if shutil.which("espeak-ng") is None:  # pragma: no cover - scripts/setup installs it
    pytest.skip("espeak-ng is not installed", allow_module_level=True)


def speak(voice: str, text: str, path: Path, pitch: int = 50) -> Path:
    """Synthesise ``text`` in ``voice`` (at ``pitch``, espeak-ng's 0-99) to a WAV file."""
    subprocess.run(
        ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", "150", "-w", str(path), text],
        check=True,
    )
    return path


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """The encoder on one thread, as measured: on a shared 2-core machine more threads thrash."""
    try:
        import torch
    except ImportError:  # pragma: no cover - the voice extra is part of the test install
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], Path]:
    """Every sentence in both voices, synthesised once per session."""
    folder = tmp_path_factory.mktemp("speech")
    return {
        (voice, i): speak(voice, text, folder / f"{voice.replace('+', '_')}_{i}.wav")
        for voice in (ALICE, BRUNO)
        for i, text in enumerate(SENTENCES)
    }


def samples(path: Path) -> np.ndarray:
    return decode(path, sample_rate=RATE).samples


@pytest.fixture(scope="session")
def conversation(
    speech: dict[tuple[str, int], Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, tuple[float, float]]]:
    """Bruno, a pause, Alice (sentences she never enrolled), a pause: with the true spans."""
    pause = np.zeros(int(1.0 * RATE), dtype=np.float32)
    bruno = np.concatenate([samples(speech[(BRUNO, 4)]), samples(speech[(BRUNO, 5)])])
    alice = np.concatenate([samples(speech[(ALICE, 4)]), samples(speech[(ALICE, 5)])])
    signal = np.concatenate([bruno, pause, alice, pause])
    spans = {
        "bruno": (0.0, bruno.size / RATE),
        "alice": ((bruno.size + pause.size) / RATE, (bruno.size + pause.size + alice.size) / RATE),
    }
    path = tmp_path_factory.mktemp("mix") / "conversation.wav"
    write_wav(path, signal, RATE)
    return path, spans


@dataclass
class Registry:
    cmo: int
    other_cmo: int
    alice: int
    bruno: int
    licensee: int
    other_licensee: int


@pytest.fixture
def registry(database: Database) -> Registry:
    return _registry(database)


@pytest.fixture
def registry_sqlite(sqlite_database: Database) -> Registry:
    return _registry(sqlite_database)


def _registry(database: Database) -> Registry:
    with database.transaction() as session:
        cmo = Cmo(code="AIE", name="AIE", country="ES", identifiers={})
        other = Cmo(code="ADAMI", name="ADAMI", country="FR", identifiers={})
        alice, bruno = Performer(name="Alice Vox"), Performer(name="Bruno Canto")
        licensee = Licensee(name="Synth Labs", kind="developer", country="ES")
        rival = Licensee(name="Rival AI", kind="platform", country="FR")
        session.add_all([cmo, other, alice, bruno, licensee, rival])
        session.flush()
        for performer in (alice, bruno):
            session.add(
                Mandate(
                    performer_id=performer.id,
                    cmo_id=cmo.id,
                    territories=["WW"],
                    uses=["train-ai", "style-imitation", "generate-derivative"],
                    valid_from=dt.date(2020, 1, 1),
                )
            )
        return Registry(cmo.id, other.id, alice.id, bruno.id, licensee.id, rival.id)

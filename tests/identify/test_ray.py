"""Screening on a local Ray cluster gives the same report as in-process screening."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sostenuto.audio import write_wav
from sostenuto.identify import ScreenRequest, register_recording_audio, screen_corpus
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.consent.conftest import World
from tests.identify.conftest import Samples, add_noise, lab, render_piece

ray = pytest.importorskip("ray")
RATE = 8000


@pytest.fixture
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.slow
def test_screening_on_ray_matches_in_process(
    sqlite_database: Database,
    settings: Settings,
    pieces: dict[int, Samples],
    tmp_path: Path,
    local_ray: None,
) -> None:
    world = World(sqlite_database)
    cmo, licensee = world.cmo("A", "ES"), world.licensee("Lab")
    performer = world.performer("Ana")
    world.mandate(performer, cmo)
    recording = world.recording(performer, cmo=cmo)
    world.licence(cmo, licensee)
    register_recording_audio(
        sqlite_database, settings, recording, write_wav(tmp_path / "m.wav", pieces[4], RATE)
    )
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_wav(corpus / "x.wav", add_noise(pieces[4][8 * RATE : 20 * RATE], 10.0), RATE)
    write_wav(corpus / "y.wav", render_piece(404, 12.0), RATE)
    (corpus / "z.flac").write_bytes(b"fLaC" + bytes(100))
    common = {"licensee_id": licensee, "use": "train-genai", "territory": "ES"}
    on_ray = screen_corpus(
        sqlite_database,
        settings,
        lab(licensee),
        ScreenRequest(source=corpus, ray_address="auto", output_dir=tmp_path / "ray", **common),  # type: ignore[arg-type]
    )
    local = screen_corpus(
        sqlite_database,
        settings,
        lab(licensee),
        ScreenRequest(source=corpus, output_dir=tmp_path / "local", **common),  # type: ignore[arg-type]
    )
    assert on_ray.summary == local.summary
    assert on_ray.summary["permitted"] == 1 and on_ray.summary["unreadable"] == 1
    assert [r["status"] for r in on_ray.files] == [r["status"] for r in local.files]

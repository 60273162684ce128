"""Registered demo recordings with real (synthesised) audio in the catalogue, and a small
corpus to screen against it: one permitted recording, one denied, one piece never registered."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import soundfile
from sqlalchemy import select

from sostenuto import consent
from sostenuto.auth import Principal
from sostenuto.identify import register_recording_audio
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Recording
from tests.identify.conftest import add_noise, render_piece

RATE = 8000
PERMITTED_ISRC = "ESA7Q1900101"  # AIE's: Aurora may train generative models on it in Spain


@dataclass(frozen=True)
class Corpus:
    files: dict[str, Path]  # name -> file: permitted, denied, new (not registered)
    denied_isrc: str


def _denied_isrc(database: Database, licensee_id: int) -> str:
    licensee = Principal("lab", "licensee", licensee_id=licensee_id)
    with database.transaction() as session:
        for isrc in session.scalars(select(Recording.isrc).order_by(Recording.id)):
            found = consent.decide(
                session,
                licensee,
                licensee_id=licensee_id,
                isrc=isrc,
                use="train-genai",
                territory="ES",
                store=False,
            )
            if not found.permitted:
                return isrc
    raise AssertionError("every demo recording is permitted")


def corpus_against_demo(
    database: Database, settings: Settings, licensee_id: int, folder: Path
) -> Corpus:
    """Fingerprint two demo recordings' audio into the catalogue; write three corpus files:
    an excerpt of the permitted one (WAV), a noisy excerpt of the denied one (FLAC) and a
    piece no one registered (WAV)."""
    denied = _denied_isrc(database, licensee_id)
    folder.mkdir(parents=True, exist_ok=True)
    pieces = {seed: render_piece(seed, 30.0, RATE) for seed in (1, 2)}
    with database.reader() as session:
        ids = dict(
            session.execute(
                select(Recording.isrc, Recording.id).where(
                    Recording.isrc.in_([PERMITTED_ISRC, denied])
                )
            ).all()
        )
    for isrc, seed in ((PERMITTED_ISRC, 1), (denied, 2)):
        master = folder / f"master-{seed}.wav"
        soundfile.write(str(master), pieces[seed], RATE, subtype="PCM_16")
        register_recording_audio(database, settings, ids[isrc], master)
    files = {
        "permitted": folder / "take-one.wav",
        "denied": folder / "take-two.flac",
        "new": folder / "new-song.wav",
    }
    soundfile.write(str(files["permitted"]), pieces[1][3 * RATE : 20 * RATE], RATE, "PCM_16")
    noisy = add_noise(pieces[2][5 * RATE : 22 * RATE], 12.0)
    soundfile.write(str(files["denied"]), noisy.clip(-1, 1), RATE, format="FLAC")
    soundfile.write(str(files["new"]), render_piece(321, 17.0, RATE), RATE, "PCM_16")
    return Corpus(files, denied)

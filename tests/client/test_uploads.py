"""Operations that take several files send every one (a field repeated in the form)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from sostenuto.storage.models.registry import Cmo, Mandate, Performer
from tests.client.conftest import Live


def test_a_voice_is_enrolled_from_several_clips(live: Live, tmp_path: Path) -> None:
    if shutil.which("espeak-ng") is None:  # pragma: no cover - scripts/setup installs it
        pytest.skip("espeak-ng is not installed")
    from tests.voice.conftest import ALICE, SENTENCES, speak

    clips = [speak(ALICE, text, tmp_path / f"clip-{n}.wav") for n, text in enumerate(SENTENCES)]
    with live.database.reader() as session:
        aie = session.scalars(select(Cmo.id).where(Cmo.code == "AIE")).one()
        member = session.scalars(
            select(Performer.id)
            .join(Mandate, Mandate.performer_id == Performer.id)
            .where(Mandate.cmo_id == aie)
        ).first()
    assert member is not None
    client = live.client("cmo-admin:AIE")
    enrolled = client.voice.voiceprints.enrol(member, clips=clips[:4], accept_short=True)
    # One voiceprint per speaker model, each built from the four clips sent.
    assert {print_["clips"] for print_ in enrolled} == {4}
    assert all(len(print_["clip_sha256"]) == 4 for print_ in enrolled)
    assert {print_["performer_id"] for print_ in enrolled} == {member}

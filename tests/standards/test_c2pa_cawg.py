"""The C2PA manifest carries the CAWG training-and-data-mining assertion (v1.1) and reads back
Valid with c2pa-python itself; a label written with the removed C2PA 1.x assertion still reads
and verifies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import c2pa
import pytest
import soundfile

from sostenuto.label import SigningKeys, issue_chain
from sostenuto.label import _c2pa as c2pa_layer
from sostenuto.label._c2pa import read_manifest, sign_file
from sostenuto.label._model import Label
from tests.label.conftest import RATE, synth_music

LABEL = Label(
    model="Tessitura 2.1",
    licensee="Aurora Audio Labs",
    reservations={"c2pa.ai_generative_training": "notAllowed", "c2pa.data_mining": "constrained"},
    reservation_note="https://sostenuto.dev/id/cmo/1/policy",
)
CAWG_KEYS = {
    "cawg.data_mining",
    "cawg.ai_inference",
    "cawg.ai_training",
    "cawg.ai_generative_training",
}


@pytest.fixture(scope="module")
def keys() -> SigningKeys:
    return issue_chain("Sostenuto")[0]


@pytest.fixture(scope="module")
def wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cawg") / "music.wav"
    soundfile.write(str(path), synth_music(3.0), RATE, subtype="PCM_16")
    return path


def _store(path: Path) -> dict[str, Any]:
    """The manifest store as c2pa-python reads it, trusting no one (so intact = Valid)."""
    context = c2pa.Context.from_dict({"verify": {"verify_trust": False}})
    with path.open("rb") as stream:
        reader = c2pa.Reader.try_create("audio/wav", stream, None, context)
        assert reader is not None
        with reader:
            store: dict[str, Any] = json.loads(reader.json())
    return store


def test_cawg_assertion_reads_back_valid(wav: Path, tmp_path: Path, keys: SigningKeys) -> None:
    signed = tmp_path / "signed.wav"
    sign_file(wav, signed, "audio/wav", LABEL, keys)
    store = _store(signed)
    assert store["validation_state"] == "Valid", store.get("validation_status")
    active = store["manifests"][store["active_manifest"]]
    labels = [assertion["label"] for assertion in active["assertions"]]
    assert "cawg.training-mining" in labels and "c2pa.training-mining" not in labels
    (mining,) = [a["data"] for a in active["assertions"] if a["label"] == "cawg.training-mining"]
    assert set(mining["entries"]) <= CAWG_KEYS
    assert mining["entries"]["cawg.ai_generative_training"] == {"use": "notAllowed"}
    assert mining["entries"]["cawg.data_mining"] == {
        "use": "constrained",
        "constraint_info": "https://sostenuto.dev/id/cmo/1/policy",
    }
    found = read_manifest(signed, "audio/wav", keys.root_pem)
    assert found.trusted and found.training_mining["cawg.ai_generative_training"] == "notAllowed"


def test_labels_with_the_removed_assertion_still_read(
    wav: Path, tmp_path: Path, keys: SigningKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_form = c2pa_layer.manifest_definition

    def old_form(label: Label, title: str) -> dict[str, Any]:
        """What Sostenuto wrote before: the C2PA 1.x assertion and entry names."""
        definition = new_form(label, title)
        for assertion in definition["assertions"]:
            if assertion["label"] == "cawg.training-mining":
                assertion["label"] = "c2pa.training-mining"
                entries = assertion["data"]["entries"]
                assertion["data"]["entries"] = {
                    key.replace("cawg.", "c2pa."): value for key, value in entries.items()
                }
        return definition

    monkeypatch.setattr(c2pa_layer, "manifest_definition", old_form)
    signed = tmp_path / "old.wav"
    sign_file(wav, signed, "audio/wav", LABEL, keys)
    found = read_manifest(signed, "audio/wav", keys.root_pem)
    assert found.trusted and found.state == "Trusted"
    assert found.training_mining == {
        "c2pa.ai_generative_training": "notAllowed",
        "c2pa.data_mining": "constrained",
    }

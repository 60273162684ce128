"""``client.outputs`` against a live server: an output is checked, labelled and declared with
its resemblances; the server's inspect reads it as AI-generated; its receipt verifies; a batch
is declared in one call that a retry never doubles; a bad file is reported, never declared."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sostenuto_client as sc
from sqlalchemy import select

from sostenuto.auth import OPERATOR
from sostenuto.registry.demo import PERFORMERS
from sostenuto.settings import Settings
from sostenuto.storage.models.registry import Performer
from sostenuto.voice import Clip, enrol_voice
from tests.client.audio_support import labelling, piece_wav, register_audio
from tests.client.conftest import AURORA, Live

__all__ = ["labelling"]  # the fixture, imported for pytest

LICENSEE, MODEL = 1, 1


def _payload(proof: dict[str, object]) -> dict[str, object]:
    entry = json.loads(str(proof["entry"]))
    assert entry["type"] == "output-declaration"
    return dict(entry["payload"])


def test_a_labelled_output_is_detected_declared_and_verifies(
    labelling: Settings, live: Live
) -> None:
    original = piece_wav(1, 20.0)
    register_audio(live, labelling, 1, original)
    # The "generated" output reproduces registered recording 1, under noise.
    output = piece_wav(1, 10.0, noise_db=20)
    with live.client(AURORA) as client:
        done = client.outputs.label_and_declare(
            ("song.wav", output), model_id=MODEL, licensee_id=LICENSEE, territory="SE"
        )
        assert done.status == "declared" and done.data is not None
        assert done.sha256 == hashlib.sha256(done.data).hexdigest()
        assert [r["recording_id"] for r in done.resemblances if "recording_id" in r] == [1]
        assert 0 < done.resemblances[0]["score"] <= 1
        found = client.label.inspect(file=("song.wav", done.data))
        assert found["ai_generated"] is True
        assert found["manifest"]["trusted"] is True
        assert f"{found['watermark']['watermark_id']:08x}" == done.watermark_id
        assert done.proof is not None and done.receipt is not None
        assert client.log.verify(bundle=done.proof)["valid"] is True
        payload = _payload(done.proof)
        assert payload["output_sha256"] == done.sha256
        assert payload["watermark_id"] == done.watermark_id
        assert payload["resemblances"] == done.resemblances
        assert payload["licensee_id"] == LICENSEE and payload["model_id"] == MODEL


def test_a_batch_is_one_declaration_call_and_a_retry_is_not_doubled(
    labelling: Settings, live: Live
) -> None:
    outputs = [(f"take-{n}.wav", piece_wav(10 + n, 10.0)) for n in range(3)]
    outputs.insert(1, ("broken.wav", b"RIFF this is not audio at all"))
    live.flaky.path = "/api/v1/log/batches"
    with live.client(AURORA) as client:
        batch = client.outputs.label_and_declare_many(
            outputs, model_id=MODEL, licensee_id=LICENSEE, check_voices=False, workers=2
        )
        assert [item.name for item in batch.items] == [name for name, _ in outputs]
        assert [item.status for item in batch.items] == [
            "declared",
            "failed",
            "declared",
            "declared",
        ]
        broken = batch.items[1]
        assert broken.error.startswith("broken.wav: ")
        assert "unsupported-format" in broken.error or "cannot read" in broken.error
        # Nothing is declared for what was not labelled.
        assert broken.receipt is None and broken.proof is None and broken.sha256 is None
        assert batch.declaration_calls == 1 and len(live.flaky.seen) == 1
        assert batch.new == 3
        declared = {item.receipt["index"] for item in batch.of("declared") if item.receipt}
        for item in batch.of("declared"):
            assert item.proof is not None
            assert client.log.verify(bundle=item.proof)["valid"] is True
        size = client.log.checkpoint.show()["size"]

        first_key = live.flaky.seen[0][2]["idempotency-key"]

        # Declared again (a rerun after a crash) and answered 503 once on the way: every
        # attempt carries the first call's Idempotency-Key, and the same entries come back.
        live.flaky.failures = 1
        again = client.outputs.declare(batch, licensee_id=LICENSEE, model_id=MODEL)
        keys = {headers["idempotency-key"] for _, _, headers in live.flaky.seen}
        assert len(live.flaky.seen) == 3 and keys == {first_key}
        assert {item.receipt["index"] for item in again.of("declared") if item.receipt} == declared
        # Without the key the log is still content-addressed: the same entries, not new ones.
        entries = [
            item.declaration(licensee_id=LICENSEE, model_id=MODEL, on=dt.date.today())
            for item in batch.of("declared")
        ]
        receipts = client.log.batches.declare(entries=entries)
        assert {r["index"] for r in receipts} == declared
        assert not any(r["new"] for r in receipts)
        assert client.log.checkpoint.show()["size"] == size


def _output_declarations(client: sc.Client) -> list[dict[str, object]]:
    listed = client.log.entries.list(entry_type="output-declaration", licensee_id=LICENSEE)
    assert listed.get("next_cursor") is None
    return list(listed["items"])


def test_each_output_is_declared_once_and_a_rerun_with_the_same_key_adds_nothing(
    labelling: Settings, live: Live
) -> None:
    outputs = [(f"gen-{n}.wav", piece_wav(60 + n, 4.0)) for n in range(3)]
    options: dict[str, Any] = {"model_id": MODEL, "licensee_id": LICENSEE}
    with live.client(AURORA) as client:
        first = client.outputs.label_and_declare_many(
            outputs, check_voices=False, idempotency_key="nightly-7", **options
        )
        assert [item.status for item in first.items] == ["declared"] * 3 and first.new == 3
        # One entry per output (label.apply declared none of its own), naming the
        # labelled file; each watermark id resolves to that entry.
        declared = _output_declarations(client)
        assert len(declared) == 3
        for item in first.items:
            assert item.receipt is not None and item.watermark_id is not None
            mark = client.label.watermarks.show(item.watermark_id)
            assert mark["log_entry_id"] == item.receipt["entry_id"]
        size = client.log.checkpoint.show()["size"]

        again = client.outputs.label_and_declare_many(
            outputs, check_voices=False, idempotency_key="nightly-7", **options
        )
        assert [item.status for item in again.items] == ["declared"] * 3 and again.new == 0
        # The server answered every request as the first time: the same files and ids.
        assert [(i.sha256, i.watermark_id) for i in again.items] == [
            (i.sha256, i.watermark_id) for i in first.items
        ]
        assert [i.receipt for i in again.items] == [
            {**i.receipt, "new": False} for i in first.items if i.receipt
        ]
        assert len(_output_declarations(client)) == 3
        assert client.log.checkpoint.show()["size"] == size

        # Another key is another batch: labelled and declared anew.
        other = client.outputs.label_and_declare_many(
            outputs[:1], check_voices=False, idempotency_key="nightly-8", **options
        )
        assert other.new == 1 and other.items[0].watermark_id != first.items[0].watermark_id
        assert len(_output_declarations(client)) == 4


def test_a_single_undecodable_output_raises_a_clear_error(labelling: Settings, live: Live) -> None:
    with live.client(AURORA) as client, pytest.raises(sc.SostenutoClientError) as raised:
        client.outputs.label_and_declare(
            ("noise.mp3", b"\x00" * 2048), model_id=MODEL, licensee_id=LICENSEE
        )
    assert str(raised.value).startswith("noise.mp3: ")


def test_a_missing_file_is_reported_and_nothing_declared(
    labelling: Settings, live: Live, tmp_path: Path
) -> None:
    live.flaky.path = "/api/v1/log/batches"
    with live.client(AURORA) as client:
        batch = client.outputs.label_and_declare_many(
            [tmp_path / "missing.wav"], model_id=MODEL, licensee_id=LICENSEE
        )
    [item] = batch.items
    assert item.status == "failed" and item.receipt is None
    assert item.error.startswith("missing.wav: cannot read ")
    assert batch.declaration_calls == 0 and live.flaky.seen == []


def test_labelling_locally_with_the_server_package(
    labelling: Settings, live: Live, tmp_path: Path
) -> None:
    outputs = [("a.wav", piece_wav(30, 10.0)), ("b.wav", piece_wav(31, 5.0))]
    options: dict[str, Any] = {
        "model_id": MODEL,
        "licensee_id": LICENSEE,
        "check_voices": False,
        "local": True,
        "keys_dir": labelling.keys_dir,
        "out_dir": tmp_path,
        "idempotency_key": "local-1",
    }
    with live.client(AURORA) as client:
        # Two labelling processes (one per output here), as on a generation server's cores.
        batch = client.outputs.label_and_declare_many(outputs, processes=2, **options)
        assert [item.status for item in batch.items] == ["declared"] * 2
        assert batch.declaration_calls == 1 and len(_output_declarations(client)) == 2
        # Again: the labelled files in out_dir carry the batch's watermark ids, so they are
        # kept, not labelled anew (their signatures would differ), and nothing is declared.
        again = client.outputs.label_and_declare_many(outputs, processes=2, **options)
        assert again.new == 0 and len(_output_declarations(client)) == 2
        assert [i.sha256 for i in again.items] == [i.sha256 for i in batch.items]
        for done in batch.items:
            assert done.path is not None
            found = client.label.inspect(file=("local.wav", done.path.read_bytes()))
            assert found["ai_generated"] is True and found["manifest"]["trusted"] is True
            assert f"{found['watermark']['watermark_id']:08x}" == done.watermark_id
            assert done.proof is not None
            assert client.log.verify(bundle=done.proof)["valid"] is True
    assert client.outputs._labeller is None  # closing the client stopped the processes


def test_the_output_module_loads_no_numpy() -> None:
    code = (
        "import json, sys, sostenuto_client, sostenuto_client._outputs\n"
        "c = sostenuto_client.Client('http://127.0.0.1:9'); c.outputs\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'numpy', 'sostenuto', 'torch'})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []


def test_a_batch_written_to_a_folder_keeps_no_bytes_in_memory(
    labelling: Settings, live: Live, tmp_path: Path
) -> None:
    source = tmp_path / "generated.wav"
    source.write_bytes(piece_wav(40, 5.0))
    with live.client(AURORA) as client:
        batch = client.outputs.label_and_declare_many(
            [source],
            model_id=MODEL,
            licensee_id=LICENSEE,
            check_voices=False,
            out_dir=tmp_path / "labelled",
            receipt=tmp_path / "receipt.json",
        )
        [item] = batch.items
        assert item.status == "declared" and item.data is None
        assert item.path == tmp_path / "labelled" / "generated.wav"
        labelled = item.path.read_bytes()
        assert (
            hashlib.sha256(labelled).hexdigest()
            == item.sha256
            != hashlib.sha256(source.read_bytes()).hexdigest()
        )
        assert client.label.inspect(file=("x.wav", labelled))["ai_generated"] is True
    saved = json.loads((tmp_path / "receipt.json").read_text())
    assert saved["items"][0]["proof"] == item.proof


def test_an_output_in_a_voice_without_consent_is_blocked_not_labelled_not_declared(
    labelling: Settings, live: Live, tmp_path: Path
) -> None:
    if shutil.which("espeak-ng") is None:  # pragma: no cover - scripts/setup installs it
        pytest.skip("espeak-ng is not installed")
    from tests.voice.conftest import ALICE, SENTENCES, speak

    clips = [speak(ALICE, text, tmp_path / f"clip-{n}.wav") for n, text in enumerate(SENTENCES)]
    with live.database.reader() as session:
        # The demo's first performer forbids cloning her voice, whoever asks.
        performer = session.scalars(
            select(Performer.id).where(Performer.name == PERFORMERS[0][0])
        ).one()
    # Enrolled as the operator, in-process (tests/client/test_uploads.py enrols over HTTP).
    enrol_voice(
        live.database,
        OPERATOR,
        performer_id=performer,
        clips=[Clip(name=clip.name, data=clip.read_bytes()) for clip in clips[:4]],
        accept_short=True,
    )
    cloned = speak(ALICE, SENTENCES[5] + " " + SENTENCES[4], tmp_path / "cloned.wav")
    clean = ("clean.wav", piece_wav(50, 6.0))
    live.flaky.path = "/api/v1/label"
    with live.client(AURORA) as client:
        batch = client.outputs.label_and_declare_many(
            [cloned, clean], model_id=MODEL, licensee_id=LICENSEE, territory="ES"
        )
    blocked, declared = batch.items
    assert blocked.status == "blocked", blocked.error
    assert {v["performer_id"] for v in blocked.unauthorised_voices} == {performer}
    assert "without consent" in blocked.error
    assert blocked.data is None and blocked.receipt is None and blocked.sha256 is None
    assert declared.status == "declared"
    # Only the clean output was sent to be labelled, and only it was declared.
    assert len(live.flaky.seen) == 1
    assert batch.new == 1

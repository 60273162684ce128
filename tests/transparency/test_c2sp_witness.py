"""C2SP tlog-witness over HTTP, both ways: this service as a witness answering ``add-checkpoint``
(accepted with a valid consistency proof, refused with the spec's status otherwise), and the log
submitting its own checkpoints to a configured witness and keeping the cosignatures."""

from __future__ import annotations

import base64
import hashlib
import struct
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sostenuto.api import create_app
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency import (
    Signer,
    checkpoint,
    declare_batch,
    log_signer,
    prove_consistency,
    require_cosignatures,
    sign_note,
    submit_to_witnesses,
    verifier_key,
    witness_cosigner,
)
from sostenuto.transparency._witness_service import latest_cosigned
from tests.conftest import _fresh_sqlite
from tests.serving import served_app
from tests.transparency.conftest import World, build_world, sha

DASH = "\u2014"


def _outputs(world: World, start: int, count: int) -> list[tuple[str, dict[str, object]]]:
    return [
        (
            "output-declaration",
            {
                "licensee_id": world.licensee,
                "model_id": world.model,
                "output_sha256": sha(f"w{i}"),
                "generated_on": "2026-02-02",
            },
        )
        for i in range(start, start + count)
    ]


def _body(old: int, proof: list[bytes], note: str) -> bytes:
    """An add-checkpoint body written from the spec text: old size line, proof lines, an
    empty line, the checkpoint."""
    lines = [f"old {old}"] + [base64.b64encode(node).decode() for node in proof]
    return ("\n".join(lines) + "\n\n" + note).encode()


def _check_cosignature(note: str, answer: str, vkey: str) -> None:
    """The answer is one tlog-cosignature/v1 line by the witness on the note's checkpoint,
    checked from the spec: key ID || u64 timestamp || Ed25519 over the cosigned message."""
    name, key_hash, material = vkey.split("+", 2)
    raw_key = base64.b64decode(material)
    assert raw_key[0] == 0x04
    lines = answer.splitlines()
    assert answer.endswith("\n") and len(lines) == 1 and lines[0].startswith(f"{DASH} {name} ")
    blob = base64.b64decode(lines[0].split(" ")[2], validate=True)
    assert blob[:4].hex() == key_hash
    assert hashlib.sha256(name.encode() + b"\n\x04" + raw_key[1:]).digest()[:4] == blob[:4]
    (when,) = struct.unpack(">Q", blob[4:12])
    text = note[: note.rfind("\n\n") + 1]
    message = f"cosignature/v1\ntime {when}\n{text}".encode()
    Ed25519PublicKey.from_public_bytes(raw_key[1:]).verify(blob[12:], message)


def test_witness_round_trip_over_http(
    sqlite_database: Database, sqlite_template: Path, settings: Settings, tmp_path: Path
) -> None:
    world = build_world(sqlite_database)
    declare_batch(sqlite_database, settings, world.developer, _outputs(world, 0, 10))
    log_key = verifier_key(settings)
    witness_dir = tmp_path / "witness-site"
    witness_dir.mkdir()
    witness_db = _fresh_sqlite(sqlite_template, witness_dir)
    witness_settings = Settings(data_dir=witness_dir / "data", witnessed_logs=log_key)
    witness_key = str(witness_cosigner(witness_settings).public_key)
    with served_app(create_app(witness_settings, witness_db)) as base, httpx.Client() as http:
        prefix = f"{base}/witness"

        def post(body: bytes) -> httpx.Response:
            return http.post(f"{prefix}/add-checkpoint", content=body)

        first = checkpoint(sqlite_database, settings)
        assert first.size == 10
        # A first checkpoint: old size 0 and an empty proof; the answer is a cosignature.
        answer = post(_body(0, [], first.note))
        assert answer.status_code == 200, answer.text
        _check_cosignature(first.note, answer.text, witness_key)

        # A stale old size: 409 with the size the witness cosigned, as text/x.tlog.size.
        stale = post(_body(0, [], first.note))
        assert stale.status_code == 409
        assert stale.headers["content-type"] == "text/x.tlog.size"
        assert stale.text == "10\n"

        # The log grows; a valid consistency proof from 10 is accepted.
        declare_batch(sqlite_database, settings, world.developer, _outputs(world, 10, 290))
        second = checkpoint(sqlite_database, settings)
        proof = prove_consistency(sqlite_database, 10, second.size)
        answer = post(_body(10, proof, second.note))
        assert answer.status_code == 200, answer.text
        _check_cosignature(second.note, answer.text, witness_key)
        assert post(_body(10, proof, second.note)).text == f"{second.size}\n"

        # A bad consistency proof: 422, and the witness keeps what it cosigned.
        declare_batch(sqlite_database, settings, world.developer, _outputs(world, 300, 5))
        third = checkpoint(sqlite_database, settings)
        good = prove_consistency(sqlite_database, second.size, third.size)
        bad = [good[0][:-1] + bytes([good[0][-1] ^ 1]), *good[1:]]
        assert post(_body(second.size, bad, third.note)).status_code == 422
        assert post(_body(second.size, good[:-1], third.note)).status_code == 422
        assert latest_cosigned(witness_settings, first.note.split("\n")[0])[0] == second.size

        # The old size above the checkpoint's: 400.
        assert post(_body(third.size + 1, [], third.note)).status_code == 400
        # Not a body the spec describes: 400.
        assert post(b"old 01\n\n" + third.note.encode()).status_code == 400
        assert post(b"hello").status_code == 400
        # A log this witness does not follow: 404.
        stranger = Signer.generate("elsewhere.example/log")
        text = third.note[: third.note.rfind("\n\n") + 1]
        foreign = sign_note("elsewhere.example/log" + text[text.index("\n") :], stranger)
        assert post(_body(0, [], foreign)).status_code == 404
        # The right origin signed with another key: 403.
        impostor = Signer.generate(log_signer(settings).name)
        assert post(_body(second.size, good, sign_note(text, impostor))).status_code == 403
        # The same size as the cosigned checkpoint with another root: 409 (not a size answer).
        origin = text.split("\n", 1)[0]
        other_root = base64.b64encode(bytes(32)).decode()
        forged = f"{origin}\n{second.size}\n{other_root}\n"
        clash = post(_body(second.size, [], sign_note(forged, log_signer(settings))))
        assert clash.status_code == 409
        assert clash.headers["content-type"].startswith("application/problem+json")
        # After all the refusals, the valid request still goes through.
        assert post(_body(second.size, good, third.note)).status_code == 200

        # The log submits its own checkpoint to the witness and keeps the cosignature; it
        # learns the witness's size from the 409 and sends the proof from there.
        declare_batch(sqlite_database, settings, world.developer, _outputs(world, 305, 40))
        log_settings = settings.model_copy(
            update={"witness_urls": prefix, "witness_keys": witness_key}
        )
        accepted = submit_to_witnesses(sqlite_database, log_settings)
        assert accepted == {prefix: [witness_cosigner(witness_settings).name]}
        latest = checkpoint(sqlite_database, log_settings)
        assert latest.size == 345
        assert list(require_cosignatures(latest.note, [witness_key], 1)) == [
            witness_cosigner(witness_settings).name
        ]
        # A witness whose key the log does not know gives it nothing to keep.
        unknown = settings.model_copy(update={"witness_urls": prefix, "witness_keys": ""})
        with pytest.raises(Exception, match="witness"):
            submit_to_witnesses(sqlite_database, unknown)
    witness_db.dispose()


def test_default_origin_is_the_served_prefix(tmp_path: Path) -> None:
    served = Settings(data_dir=tmp_path / "a", host="log.example.org", port=443)
    assert log_signer(served).name == "log.example.org/log"
    local = Settings(data_dir=tmp_path / "b")
    assert log_signer(local).name == "127.0.0.1:8000/log"
    named = Settings(data_dir=tmp_path / "c", log_origin="cmo.example/ai-log")
    assert log_signer(named).name == "cmo.example/ai-log"

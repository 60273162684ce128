"""C2SP tlog-proof receipts, checked by a verifier written here from the spec texts alone
(tlog-proof, tlog-checkpoint, signed-note, RFC 9162 §2.1.3.2), beside the old receipt format,
which keeps verifying."""

from __future__ import annotations

import base64
import binascii
import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from sostenuto.api import create_app
from sostenuto.errors import IntegrityFailure
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.transparency import LogEntry
from sostenuto.transparency import (
    declare_batch,
    inclusion_bundle,
    verifier_key,
    verify_receipt,
    verify_tlog_proof,
)
from tests.transparency.conftest import World, build_world, sha


class Rejected(Exception):
    pass


def _b64(text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise Rejected("not base64") from None
    if base64.b64encode(raw).decode() != text:
        raise Rejected("not canonical base64")
    return raw


def _open_note(note: str, vkey: str) -> str:
    """signed-note: text, an empty line, signature lines ``— <name> <base64(key ID || sig)>``;
    the Ed25519 key ID is SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    name, _, material = vkey.split("+", 2)
    raw = _b64(material)
    if raw[0] != 0x01 or len(raw) != 33:
        raise Rejected("not an Ed25519 verifier key")
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + raw[1:]).digest()[:4]
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise Rejected("no signature block")
    text = note[: cut + 1]
    for line in note[cut + 2 :].splitlines():
        if not line.startswith("\u2014 "):
            raise Rejected("malformed signature line")
        signer, _, blob_text = line[2:].partition(" ")
        blob = _b64(blob_text)
        if signer == name and blob[:4] == key_id:
            try:
                Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[4:], text.encode())
            except InvalidSignature:
                raise Rejected("bad log signature") from None
            return text
    raise Rejected("no signature by the log")


def _verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2, step by step."""
    if index >= size:
        raise Rejected("index beyond the tree")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise Rejected("proof too long")
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise Rejected("the proof does not lead to the root")


def spec_verify(proof: str, vkey: str) -> tuple[int, bytes]:
    """The entry index and bytes a tlog-proof proves, or :class:`Rejected`."""
    head, sep, note = proof.partition("\n\n")
    if not sep:
        raise Rejected("no empty line before the checkpoint")
    lines = head.split("\n")
    if lines.pop(0) != "c2sp.org/tlog-proof@v1":
        raise Rejected("not a tlog-proof v1")
    extra = _b64(lines.pop(0)[6:]) if lines and lines[0].startswith("extra ") else None
    if not lines or not lines[0].startswith("index "):
        raise Rejected("no index line")
    index_text = lines.pop(0)[6:]
    if not index_text.isdigit() or (index_text != "0" and index_text.startswith("0")):
        raise Rejected("bad index")
    path = [_b64(line) for line in lines]
    text = _open_note(note, vkey)
    origin, size_text, root_text = text.split("\n")[:3]
    if origin != vkey.split("+", 1)[0] or not size_text.isdigit():
        raise Rejected("not this log's checkpoint")
    if extra is None:
        raise Rejected("no entry to check")
    leaf = hashlib.sha256(b"\x00" + extra).digest()
    _verify_inclusion(int(index_text), int(size_text), leaf, path, _b64(root_text))
    return int(index_text), extra


def _declared(database: Database, settings: Settings, world: World) -> None:
    outputs = [
        (
            "output-declaration",
            {
                "licensee_id": world.licensee,
                "model_id": world.model,
                "output_sha256": sha(f"p{i}"),
                "generated_on": "2026-02-02",
            },
        )
        for i in range(37)
    ]
    declare_batch(database, settings, world.developer, outputs)


def test_tlog_proofs_verify_independently_and_old_receipts_still_do(
    sqlite_database: Database, settings: Settings
) -> None:
    world = build_world(sqlite_database)
    _declared(sqlite_database, settings, world)
    key = verifier_key(settings)
    for index in (0, 1, 17, 31, 32, 36):
        bundle = inclusion_bundle(sqlite_database, index)
        proof = bundle["tlog_proof"]
        assert proof.startswith("c2sp.org/tlog-proof@v1\nextra ")
        assert f"\nindex {index}\n" in proof
        assert proof.endswith(bundle["checkpoint"])  # the checkpoint, verbatim
        assert spec_verify(proof, key) == (index, bundle["entry"].encode())
        found, head, entry = verify_tlog_proof(proof, key)
        assert (found, head.size, entry) == (index, 37, bundle["entry"].encode())
        # The Sostenuto receipt beside it, and one from before tlog-proofs, still verify.
        assert verify_receipt(bundle, key).index == index
        old = {k: v for k, v in bundle.items() if k != "tlog_proof"}
        assert verify_receipt(old, key).index == index
    # Another log's key, or the wrong entry, is refused by both verifiers.
    proof = inclusion_bundle(sqlite_database, 5)["tlog_proof"]
    other = verifier_key(Settings(data_dir=settings.data_dir / "other"))
    with pytest.raises(Rejected):
        spec_verify(proof, other)
    with pytest.raises(IntegrityFailure):
        verify_tlog_proof(proof, other)
    with pytest.raises(IntegrityFailure):
        verify_tlog_proof(proof, key, entry=b"{}")
    # The HTTP verifier takes the tlog-proof too.
    client = TestClient(create_app(settings, sqlite_database))
    answer = client.post(
        "/api/v1/log/verify",
        json={"bundle": {"format": "c2sp.org/tlog-proof@v1", "proof": proof}},
    ).json()
    assert answer == {"valid": True, "kind": "inclusion", "index": 5, "tree_size": 37}


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_flipped_bit_is_refused_by_both_verifiers(
    sqlite_database: Database, settings: Settings, data: st.DataObject
) -> None:
    # Hypothesis reuses the function's fixtures across examples: build the log once.
    with sqlite_database.reader() as session:
        empty = session.get(LogEntry, 0) is None
    if empty:
        _declared(sqlite_database, settings, build_world(sqlite_database))
    key = verifier_key(settings)
    proof = inclusion_bundle(sqlite_database, data.draw(st.integers(0, 36)))["tlog_proof"]
    raw = bytearray(proof.encode())
    position = data.draw(st.integers(0, len(raw) - 1))
    raw[position] ^= 1 << data.draw(st.integers(0, 7))
    try:
        tampered = raw.decode()
    except UnicodeDecodeError:
        return  # not text: no reader gets this far
    with pytest.raises(Rejected):
        spec_verify(tampered, key)
    with pytest.raises(IntegrityFailure):
        verify_tlog_proof(tampered, key)

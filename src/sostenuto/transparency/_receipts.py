"""Proof bundles a log hands out, and their offline verification from the public key alone.

An inclusion bundle (``sostenuto-receipt/1``) carries the entry's bytes, its index, the
inclusion proof and the signed checkpoint it leads to, and the same as a C2SP tlog-proof
(``tlog_proof``; old bundles without it verify as before). A consistency bundle
(``sostenuto-consistency/1``) carries two signed checkpoints and the proof between them.
Hashes are base64, as in checkpoints.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sostenuto.errors import IntegrityFailure
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency._keys import log_signer
from sostenuto.transparency._merkle import leaf_hash, verify_consistency, verify_inclusion
from sostenuto.transparency._note import Checkpoint, Verifier, verify_checkpoint
from sostenuto.transparency._store import (
    SignedCheckpoint,
    _lock_state,
    _sign,
    checkpoint_at,
    entry_at,
    latest_checkpoint_in,
    prove_consistency,
    prove_inclusion,
)
from sostenuto.transparency._tlogproof import tlog_proof

RECEIPT_FORMAT = "sostenuto-receipt/1"
CONSISTENCY_FORMAT = "sostenuto-consistency/1"


def _b64(values: list[bytes]) -> list[str]:
    return [base64.b64encode(v).decode() for v in values]


def _unb64(values: Any, what: str) -> list[bytes]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise IntegrityFailure(f"{what} must be a list of base64 hashes")
    try:
        decoded = [base64.b64decode(v, validate=True) for v in values]
    except (binascii.Error, ValueError):
        raise IntegrityFailure(f"{what} holds something that is not base64") from None
    if _b64(decoded) != values:
        raise IntegrityFailure(f"{what} holds base64 that is not canonical")
    return decoded


def checkpoint(database: Database, settings: Settings) -> SignedCheckpoint:
    """The latest signed checkpoint (an empty log gets a signed size-0 checkpoint)."""
    with database.reader() as session:
        found = latest_checkpoint_in(session)
    if found is not None:
        return found
    from sostenuto.transparency._merkle import EMPTY_ROOT

    with database.transaction() as session:
        # Under the append lock: concurrent first readers (several workers) would otherwise
        # each insert the size-0 checkpoint, and all but one fail.
        _lock_state(session)
        return latest_checkpoint_in(session) or _sign(session, log_signer(settings), 0, EMPTY_ROOT)


def inclusion_bundle(database: Database, index: int, size: int | None = None) -> dict[str, Any]:
    """Entry, proof and signed checkpoint for leaf ``index`` (at a checkpointed ``size``)."""
    with database.reader() as session:
        signed = checkpoint_at(session, size)
        entry = entry_at(session, index)
        body = bytes(entry.body)
    if index >= signed.size:
        raise IntegrityFailure(f"entry {index} came after the checkpoint of size {signed.size}")
    proof = prove_inclusion(database, index, signed.size)
    return {
        "format": RECEIPT_FORMAT,
        "index": index,
        "tree_size": signed.size,
        "entry": body.decode(),
        "leaf_hash": leaf_hash(body).hex(),
        "inclusion_proof": _b64(proof),
        "checkpoint": signed.note,
        "tlog_proof": tlog_proof(index, proof, signed.note, body),
    }


def consistency_bundle(database: Database, first: int, second: int | None = None) -> dict[str, Any]:
    """Two signed checkpoints and the consistency proof between them."""
    with database.reader() as session:
        old = checkpoint_at(session, first)
        new = checkpoint_at(session, second)
    proof = prove_consistency(database, old.size, new.size) if old.size else []
    return {
        "format": CONSISTENCY_FORMAT,
        "first": old.note,
        "second": new.note,
        "consistency_proof": _b64(proof),
    }


@dataclass(frozen=True)
class VerifiedEntry:
    index: int
    checkpoint: Checkpoint
    entry: bytes


def verify_receipt(bundle: dict[str, Any], vkey: str | Verifier) -> VerifiedEntry:
    """Check an inclusion bundle offline: signature, origin, leaf hash and inclusion proof."""
    if bundle.get("format") != RECEIPT_FORMAT:
        raise IntegrityFailure(f"not a {RECEIPT_FORMAT} bundle")
    note, entry, index = bundle.get("checkpoint"), bundle.get("entry"), bundle.get("index")
    if not isinstance(note, str) or not isinstance(entry, str) or not isinstance(index, int):
        raise IntegrityFailure("the bundle needs checkpoint, entry and index")
    head = verify_checkpoint(note, vkey)
    if bundle.get("tree_size", head.size) != head.size:
        raise IntegrityFailure("the bundle's tree size differs from its checkpoint's")
    body = entry.encode()
    digest = leaf_hash(body)
    claimed = bundle.get("leaf_hash")
    if claimed is not None and claimed != digest.hex():
        raise IntegrityFailure("the entry does not hash to the bundle's leaf hash")
    proof = _unb64(bundle.get("inclusion_proof"), "the inclusion proof")
    verify_inclusion(index, head.size, digest, proof, head.root)
    return VerifiedEntry(index, head, body)


def verify_consistency_bundle(
    bundle: dict[str, Any], vkey: str | Verifier
) -> tuple[Checkpoint, Checkpoint]:
    """Check two signed checkpoints and that the second tree extends the first."""
    if bundle.get("format") != CONSISTENCY_FORMAT:
        raise IntegrityFailure(f"not a {CONSISTENCY_FORMAT} bundle")
    first, second = bundle.get("first"), bundle.get("second")
    if not isinstance(first, str) or not isinstance(second, str):
        raise IntegrityFailure("the bundle needs a first and a second checkpoint")
    old = verify_checkpoint(first, vkey)
    new = verify_checkpoint(second, vkey)
    proof = _unb64(bundle.get("consistency_proof"), "the consistency proof")
    verify_consistency(old.size, new.size, old.root, new.root, proof)
    return old, new

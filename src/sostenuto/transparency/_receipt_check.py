"""Checking a receipt someone holds against this log, step by step, for people to read.

Two kinds of receipt are accepted: the one returned on declaration (``index``, ``entry_id``,
``tree_size``), and an inclusion bundle (``sostenuto-receipt/1``, from ``log prove``). Each is
checked with the functions an offline verifier uses (``verify_receipt``,
``verify_consistency_bundle``, the same as ``sostenuto log verify``) and the answer says
which step failed and why: the checkpoint's signature, the entry's inclusion, and the
consistency of the receipt's checkpoint with this log's current one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sostenuto.errors import IntegrityFailure, InvalidInput, SostenutoError
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency._cosign import signature_line, split_note
from sostenuto.transparency._keys import verifier_key
from sostenuto.transparency._merkle import leaf_hash
from sostenuto.transparency._note import verify_checkpoint
from sostenuto.transparency._receipts import (
    RECEIPT_FORMAT,
    checkpoint,
    consistency_bundle,
    inclusion_bundle,
    verify_consistency_bundle,
    verify_receipt,
)
from sostenuto.transparency._store import entry_at

MAX_RECEIPT_BYTES = 1024 * 1024
# A declaration's receipt names an entry; its first check is that the log holds that entry.
STEPS = {
    "declaration": ("entry", "signature", "inclusion", "consistency"),
    "bundle": ("signature", "inclusion", "consistency"),
}


@dataclass(frozen=True)
class Step:
    """One check: ``passed`` is None when an earlier failure left it unchecked."""

    name: str
    passed: bool | None
    detail: str


@dataclass(frozen=True)
class ReceiptCheck:
    """The verdict on a receipt: every step, the entry's index and the sizes compared."""

    kind: str  # "declaration" or "bundle"
    index: int | None
    tree_size: int | None
    current_size: int
    steps: list[Step] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return all(step.passed for step in self.steps)

    @property
    def reason(self) -> str | None:
        failed = next((step for step in self.steps if step.passed is False), None)
        return f"{failed.name}: {failed.detail}" if failed else None


@dataclass(frozen=True)
class ProvenEntry:
    """An entry with its inclusion proof against the current checkpoint, verified."""

    index: int
    entry_id: str
    entry_type: str
    canonical: str
    bundle: dict[str, Any]
    tree_size: int


def parse_receipt(text: str | bytes) -> dict[str, Any]:
    """A receipt document: one JSON object."""
    if len(text) > MAX_RECEIPT_BYTES:
        raise InvalidInput(f"a receipt is at most {MAX_RECEIPT_BYTES // 1024} KiB")
    if not text.strip():
        raise InvalidInput("the receipt is empty: paste or upload the JSON of a receipt")
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidInput(f"the receipt is not JSON: {error}") from None
    if isinstance(document, list):
        raise InvalidInput("this is a list of receipts: check one receipt at a time")
    if not isinstance(document, dict):
        raise InvalidInput("a receipt is a JSON object")
    return document


def _declared(database: Database, receipt: dict[str, Any]) -> dict[str, Any]:
    """The inclusion bundle a declaration receipt stands for, from the log (current size)."""
    index, entry_id = receipt.get("index"), receipt.get("entry_id")
    if not isinstance(index, int) or isinstance(index, bool) or not isinstance(entry_id, str):
        raise InvalidInput(
            "not a receipt: it needs 'index' and 'entry_id' (a declaration's receipt) or "
            f"'format': '{RECEIPT_FORMAT}' (an inclusion bundle)"
        )
    with database.reader() as session:
        body = bytes(entry_at(session, index).body)
    actual = leaf_hash(body).hex()
    if actual != entry_id.strip().lower():
        raise IntegrityFailure(
            f"the log's entry {index} has id {actual}, not the receipt's {entry_id}"
        )
    return inclusion_bundle(database, index)


def check_receipt(database: Database, settings: Settings, receipt: dict[str, Any]) -> ReceiptCheck:
    """Check ``receipt`` against this log's key and its current checkpoint."""
    key = verifier_key(settings)
    current = checkpoint(database, settings)
    kind = "bundle" if receipt.get("format") == RECEIPT_FORMAT else "declaration"
    index = receipt.get("index") if isinstance(receipt.get("index"), int) else None
    size = receipt.get("tree_size") if isinstance(receipt.get("tree_size"), int) else None
    steps: list[Step] = []

    def report(name: str, passed: bool, detail: str) -> ReceiptCheck:
        steps.append(Step(name, passed, detail))
        if not passed:
            later = STEPS[kind][len(steps) :]
            steps.extend(Step(name, None, "not checked") for name in later)
        return ReceiptCheck(kind, index, size, current.size, steps)

    bundle = receipt
    if kind == "declaration":
        try:
            bundle = _declared(database, receipt)
        except SostenutoError as error:
            return report("entry", False, error.message)
        report("entry", True, f"the log holds entry {index} with the receipt's id")
    try:
        note = bundle.get("checkpoint")
        if not isinstance(note, str):
            raise IntegrityFailure("the bundle carries no signed checkpoint")
        head = verify_checkpoint(note, key)
    except SostenutoError as error:
        return report("signature", False, error.message)
    report("signature", True, f"checkpoint of {head.origin} at size {head.size}, signed by the log")
    try:
        verified = verify_receipt(bundle, key)
    except SostenutoError as error:
        return report("inclusion", False, error.message)
    report("inclusion", True, f"entry {verified.index} is in the tree of size {head.size}")
    if size is None:
        size = head.size
    try:
        if size > current.size:
            raise IntegrityFailure(
                f"the receipt's tree size {size} is beyond this log's size {current.size}"
            )
        proof = consistency_bundle(database, size, current.size)
        old, new = verify_consistency_bundle(proof, key)
        if kind == "bundle" and old.root != head.root:
            raise IntegrityFailure(
                f"the log signed another root at size {size}: the receipt is from a split view"
            )
    except SostenutoError as error:
        return report("consistency", False, error.message)
    return report("consistency", True, f"size {old.size} is a prefix of size {new.size}")


def signers(note: str) -> list[str]:
    """The names of the keys whose signature lines a note carries (the log's and witnesses')."""
    _, lines = split_note(note)
    return [signature_line(line)[0] for line in lines]


def proven_entry(database: Database, settings: Settings, index: int) -> ProvenEntry:
    """Entry ``index`` with its inclusion proof against the current checkpoint, verified as
    any reader would verify it (raises :class:`IntegrityFailure` if it does not)."""
    size = checkpoint(database, settings).size
    with database.reader() as session:
        row = entry_at(session, index)
        entry_id, entry_type = bytes(row.leaf_hash).hex(), row.entry_type
        canonical = bytes(row.body).decode()
    bundle = inclusion_bundle(database, index, size)
    verify_receipt(bundle, verifier_key(settings))
    return ProvenEntry(index, entry_id, entry_type, canonical, bundle, size)

"""Declaring entries: validate, authorise, check references, then append in one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sostenuto.auth import Principal
from sostenuto.errors import SostenutoError
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency._entries import _Schema, authorise, canonical_body, parse_payload
from sostenuto.transparency._keys import log_signer
from sostenuto.transparency._references import KnownIds, check_references, prefetch
from sostenuto.transparency._store import LeafInput, append_leaves


@dataclass(frozen=True)
class Receipt:
    """Where a declared entry sits in the log.

    ``entry_id`` is the leaf hash in hex: it names the entry in this log and in any mirror,
    and other entries cite it. ``new`` is false when the same entry was declared before.
    """

    index: int
    leaf_hash: str
    entry_id: str
    tree_size: int
    new: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "entry_id": self.entry_id,
            "tree_size": self.tree_size,
            "new": self.new,
        }


def _prepare(
    database: Database, principal: Principal, entries: Sequence[tuple[str, Mapping[str, Any]]]
) -> list[LeafInput]:
    leaves: list[LeafInput] = []
    parsed: list[_Schema] = []
    position = 0
    try:
        for entry_type, payload in entries:
            entry = parse_payload(entry_type, payload)
            authorise(principal, entry_type, entry)
            parsed.append(entry)
            position += 1
        known = KnownIds()
        with database.reader() as session:
            prefetch(session, parsed, known)
            for (entry_type, _), entry in zip(entries, parsed, strict=True):
                position = len(leaves)
                check_references(session, entry, known)
                leaves.append(
                    LeafInput(
                        body=canonical_body(entry_type, entry, principal),
                        entry_type=entry_type,
                        licensee_id=getattr(entry, "licensee_id", None),
                        cmo_id=getattr(entry, "cmo_id", None),
                        model_id=getattr(entry, "model_id", None),
                    )
                )
    except SostenutoError as error:
        if len(entries) > 1:
            error.message = f"entry {position}: {error.message}"
            error.args = (error.message,)
            error.details = {"entry": position, **error.details}
        raise
    return leaves


def append_prepared(
    database: Database, settings: Settings, leaves: Sequence[LeafInput]
) -> list[Receipt]:
    """Append already validated leaves as one batch under one signed checkpoint."""
    signer = log_signer(settings)
    with database.transaction() as session:
        appended, checkpoint = append_leaves(session, signer, leaves)
    # Acknowledged only here, after the commit.
    return [
        Receipt(a.index, a.leaf_hash.hex(), a.leaf_hash.hex(), checkpoint.size, a.new)
        for a in appended
    ]


def declare_batch(
    database: Database,
    settings: Settings,
    principal: Principal,
    entries: Sequence[tuple[str, Mapping[str, Any]]],
) -> list[Receipt]:
    """Declare several entries at once: all are appended under one checkpoint, or none is."""
    if not entries:
        return []
    return append_prepared(database, settings, _prepare(database, principal, entries))


def declare(
    database: Database,
    settings: Settings,
    principal: Principal,
    entry_type: str,
    payload: Mapping[str, Any],
) -> Receipt:
    """Declare one entry (validated, authorised, references checked) and return its receipt."""
    return declare_batch(database, settings, principal, [(entry_type, payload)])[0]

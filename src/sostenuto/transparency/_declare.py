"""Declaring entries: validate, authorise, check references, then append in one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sostenuto.auth import Principal
from sostenuto.errors import InvalidInput, SostenutoError
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency._entries import _Schema, authorise, canonical_body, parse_payload
from sostenuto.transparency._keys import log_signer
from sostenuto.transparency._merkle import leaf_hash
from sostenuto.transparency._references import (
    Citation,
    KnownIds,
    check_references,
    citations,
    prefetch,
)
from sostenuto.transparency._sequencer import sequencer
from sostenuto.transparency._store import LeafInput, _existing


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


@dataclass(frozen=True)
class PreparedBatch:
    """Entries validated, authorised and checked against the registry and the log, ready to
    append; ``citations`` lists the consent decisions they cite, still to be checked."""

    leaves: list[LeafInput]
    citations: list[Citation]


def _at(error: SostenutoError, position: int) -> None:
    error.message = f"entry {position}: {error.message}"
    error.args = (error.message,)
    error.details = {"entry": position, **error.details}


def prepare_batch(
    database: Database, principal: Principal, entries: Sequence[tuple[str, Mapping[str, Any]]]
) -> PreparedBatch:
    """Validate, authorise and check the references of a batch; nothing is appended.

    Consent decisions are not checked here (the log knows nothing of consent): they come
    back as ``citations`` (those of entries not yet in the log). In a batch of several
    entries an error names the entry (``entry N: …``, ``details["entry"]``).
    """
    leaves: list[LeafInput] = []
    cited: list[Citation] = []
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
                cited.extend(citations(position, entry, known))
                leaves.append(
                    LeafInput(
                        body=canonical_body(entry_type, entry, principal),
                        entry_type=entry_type,
                        licensee_id=getattr(entry, "licensee_id", None),
                        cmo_id=getattr(entry, "cmo_id", None),
                        model_id=getattr(entry, "model_id", None),
                    )
                )
            if cited:
                # An entry already in the log was checked when it was declared; declaring it
                # again appends nothing and returns its receipt, so its citations are not
                # checked again.
                citing = sorted({c.entry for c in cited})
                hashes = {i: leaf_hash(leaves[i].body) for i in citing}
                logged = _existing(session, list(hashes.values()))
                cited = [c for c in cited if hashes[c.entry] not in logged]
    except SostenutoError as error:
        if len(entries) > 1:
            _at(error, position)
        raise
    return PreparedBatch(leaves, cited)


def append_prepared(
    database: Database, settings: Settings, leaves: Sequence[LeafInput]
) -> list[Receipt]:
    """Append already validated leaves as one batch under one signed checkpoint.

    Concurrent callers in this process are committed together (``_sequencer``): one
    transaction and one signature for all, each caller its own receipts."""
    appended, checkpoint = sequencer(database).append(database, log_signer(settings), leaves)
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
    """Declare several entries at once: all are appended under one checkpoint, or none is.

    Entries that cite consent decisions (dataset manifests) are refused here: they are
    declared through ``sostenuto.declarations``, which checks each cited decision with the
    consent service first.
    """
    if not entries:
        return []
    prepared = prepare_batch(database, principal, entries)
    if prepared.citations:
        first = prepared.citations[0]
        error = InvalidInput(
            f"file {first.file} cites consent decision {first.decision_id!r}: entries that"
            " cite consent decisions are declared through sostenuto.declarations, which"
            " checks them with the consent service",
            details={"file": first.file, "decision_id": first.decision_id},
        )
        if len(entries) > 1:
            _at(error, first.entry)
        raise error
    return append_prepared(database, settings, prepared.leaves)


def declare(
    database: Database,
    settings: Settings,
    principal: Principal,
    entry_type: str,
    payload: Mapping[str, Any],
) -> Receipt:
    """Declare one entry (validated, authorised, references checked) and return its receipt."""
    return declare_batch(database, settings, principal, [(entry_type, payload)])[0]

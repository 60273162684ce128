"""C2SP tlog-proof v1: the standard text form of a receipt, beside ``sostenuto-receipt/1``.

A proof is the line ``c2sp.org/tlog-proof@v1``, an optional ``extra <base64>`` line, the line
``index <N>``, the inclusion proof (one base64 hash a line, from the leaf's sibling up), an
empty line and the checkpoint verbatim, cosignatures included. Sostenuto puts the entry's
canonical bytes in ``extra``, so the proof stands alone: the verifier recomputes the leaf hash
from them, and the inclusion proof is what makes them trustworthy (the spec's "MUST NOT
implicitly trust the extra data").
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from sostenuto.errors import IntegrityFailure
from sostenuto.transparency._merkle import HASH_SIZE, leaf_hash, verify_inclusion
from sostenuto.transparency._note import Checkpoint, Verifier, _b64decode, verify_checkpoint

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
# RFC 6962 proofs of a tree below 2^63 leaves have at most 63 hashes.
MAX_PROOF_LINES = 63


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def tlog_proof(index: int, proof: list[bytes], note: str, entry: bytes | None = None) -> str:
    """The tlog-proof text of leaf ``index`` in the tree ``note`` signs."""
    lines = [TLOG_PROOF_HEADER]
    if entry is not None:
        lines.append(f"extra {_b64(entry)}")
    lines.append(f"index {index}")
    lines += [_b64(node) for node in proof]
    return "\n".join(lines) + "\n\n" + note


@dataclass(frozen=True)
class TlogProof:
    extra: bytes | None
    index: int
    proof: list[bytes]
    note: str


def _decimal(text: str, what: str) -> int:
    if not text.isascii() or not text.isdigit() or (text != "0" and text[0] == "0"):
        raise IntegrityFailure(f"{what} is not a decimal without leading zeros: {text!r}")
    return int(text)


def parse_tlog_proof(text: str) -> TlogProof:
    """The parts of a tlog-proof, each line checked strictly."""
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise IntegrityFailure("a tlog-proof has an empty line before its checkpoint")
    lines = head.split("\n")
    if lines[0] != TLOG_PROOF_HEADER:
        raise IntegrityFailure(f"a tlog-proof starts with the line {TLOG_PROOF_HEADER}")
    rest = lines[1:]
    extra = None
    if rest and rest[0].startswith("extra "):
        extra = _b64decode(rest.pop(0).removeprefix("extra "), "the extra data")
    if not rest or not rest[0].startswith("index "):
        raise IntegrityFailure("a tlog-proof names the entry's index on its own line")
    index = _decimal(rest.pop(0).removeprefix("index "), "the index")
    if len(rest) > MAX_PROOF_LINES:
        raise IntegrityFailure(f"an inclusion proof has at most {MAX_PROOF_LINES} hashes")
    proof = [_b64decode(line, "an inclusion proof hash") for line in rest]
    if any(len(node) != HASH_SIZE for node in proof):
        raise IntegrityFailure("an inclusion proof hash is not a SHA-256 hash")
    return TlogProof(extra, index, proof, note)


def verify_tlog_proof(
    text: str, vkey: str | Verifier, entry: bytes | None = None
) -> tuple[int, Checkpoint, bytes]:
    """Index, checkpoint and entry of a tlog-proof, checked offline against the log's key.

    The entry is ``entry`` when given (and must then equal any ``extra``), else the extra data.
    """
    parsed = parse_tlog_proof(text)
    head = verify_checkpoint(parsed.note, vkey)
    if entry is not None and parsed.extra is not None and entry != parsed.extra:
        raise IntegrityFailure("the entry given differs from the one the proof carries")
    body = entry if entry is not None else parsed.extra
    if body is None:
        raise IntegrityFailure("this tlog-proof carries no entry: give the entry to verify")
    if parsed.index >= head.size:
        raise IntegrityFailure(f"index {parsed.index} is beyond the tree size {head.size}")
    verify_inclusion(parsed.index, head.size, leaf_hash(body), parsed.proof, head.root)
    return parsed.index, head, body

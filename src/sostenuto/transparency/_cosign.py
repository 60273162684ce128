"""C2SP tlog-cosignature v1 (Ed25519): a witness's timestamped signature on a checkpoint.

A cosignature says "as of this time, this is the largest consistent tree head I have seen for
this log". The signed message is ``cosignature/v1\\ntime <POSIX seconds>\\n`` followed by the
checkpoint's note text; the note signature line carries ``key ID || u64 timestamp (big endian)
|| Ed25519 signature``, with the key ID ``SHA-256(name || 0x0A || 0x04 || public key)[:4]``.
Keys are written like signed-note keys with algorithm byte 0x04. A client that holds the
witnesses' verifier keys can then demand a quorum of cosignatures before trusting a receipt,
which closes the split view a single witness can only alarm about.
"""

from __future__ import annotations

import base64
import struct
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from sostenuto.errors import IntegrityFailure, InvalidInput
from sostenuto.transparency._note import (
    _DASH,
    _b64decode,
    _valid_name,
    key_hash,
    public_bytes,
    signer_key_text,
    split_signer_key,
    split_verifier_key,
    verifier_key_text,
)

ALG_COSIGNATURE_V1 = 4
_HEADER = "cosignature/v1\n"
# A cosignature from the future is refused beyond this clock skew (seconds).
MAX_SKEW = 300


def _message(text: str, timestamp: int) -> bytes:
    return f"{_HEADER}time {timestamp}\n{text}".encode()


@dataclass(frozen=True)
class CosignerKey:
    """A witness's public key: name, key ID and Ed25519 public key (vkey algorithm 0x04)."""

    name: str
    hash: bytes
    public: bytes

    @classmethod
    def parse(cls, vkey: str) -> CosignerKey:
        refusal = "a cosigner key is an Ed25519 cosignature/v1 key (algorithm 0x04)"
        return cls(*split_verifier_key(vkey, ALG_COSIGNATURE_V1, refusal))

    def __str__(self) -> str:
        return verifier_key_text(self.name, self.hash, ALG_COSIGNATURE_V1, self.public)


@dataclass(frozen=True)
class Cosigner:
    """A witness's signing key."""

    name: str
    key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> Cosigner:
        if not _valid_name(name):
            raise InvalidInput(f"a key name has no spaces or '+': {name!r}")
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, skey: str) -> Cosigner:
        refusal = "a cosigner signing key has algorithm 0x04 (cosignature/v1)"
        name, hash_hex, key = split_signer_key(skey, ALG_COSIGNATURE_V1, refusal)
        cosigner = cls(name, key)
        if cosigner.public_key.hash.hex() != hash_hex:
            raise InvalidInput("the cosigner signing key's ID does not match its key")
        return cosigner

    @property
    def public_key(self) -> CosignerKey:
        public = public_bytes(self.key)
        return CosignerKey(self.name, key_hash(self.name, public, ALG_COSIGNATURE_V1), public)

    def __str__(self) -> str:
        return signer_key_text(self.name, self.public_key.hash, ALG_COSIGNATURE_V1, self.key)


def split_note(note: str) -> tuple[str, list[str]]:
    """A signed note's text (with its final newline) and its signature lines."""
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise IntegrityFailure("malformed signed note: no blank line before the signatures")
    return note[: cut + 1], note[cut + 2 :].splitlines()


def signature_line(line: str) -> tuple[str, bytes]:
    """Key name and decoded blob of one note signature line."""
    name, _, blob = line.removeprefix(f"{_DASH} ").partition(" ")
    return name, _b64decode(blob, "a note signature")


def is_cosignature_by(line: str, key: CosignerKey, timestamp: int | None = None) -> bool:
    """Whether ``line`` is ``key``'s cosignature (of that timestamp, when given)."""
    name, raw = signature_line(line)
    if name != key.name or len(raw) != 4 + 8 + 64 or raw[:4] != key.hash:
        return False
    return timestamp is None or struct.unpack(">Q", raw[4:12])[0] == timestamp


def cosign(note: str, cosigner: Cosigner, timestamp: int | None = None) -> str:
    """``note`` with this witness's cosignature line added (call only once it is verified)."""
    text, _ = split_note(note)
    when = int(time.time()) if timestamp is None else timestamp
    if not 0 <= when < 1 << 63:
        raise InvalidInput(f"a cosignature timestamp is 0 .. 2^63-1, not {when}")
    signature = cosigner.key.sign(_message(text, when))
    blob = base64.b64encode(cosigner.public_key.hash + struct.pack(">Q", when) + signature)
    return f"{note}{_DASH} {cosigner.name} {blob.decode()}\n"


def verify_cosignature(note: str, key: str | CosignerKey, *, now: float | None = None) -> int:
    """The timestamp of ``key``'s valid cosignature on ``note``; IntegrityFailure if none."""
    witness = key if isinstance(key, CosignerKey) else CosignerKey.parse(key)
    text, lines = split_note(note)
    for line in lines:
        if not is_cosignature_by(line, witness):
            continue  # another signer, or the same name with another key or algorithm
        name, raw = signature_line(line)
        (when,) = struct.unpack(">Q", raw[4:12])
        try:
            Ed25519PublicKey.from_public_bytes(witness.public).verify(
                raw[12:], _message(text, when)
            )
        except InvalidSignature:
            raise IntegrityFailure(f"the cosignature of {name} on this note is not valid") from None
        if when > (time.time() if now is None else now) + MAX_SKEW:
            raise IntegrityFailure(f"the cosignature of {name} is dated in the future ({when})")
        return int(when)
    raise IntegrityFailure(f"the note carries no cosignature by witness {witness.name}")


def require_cosignatures(note: str, keys: list[str], quorum: int) -> dict[str, int]:
    """Check that at least ``quorum`` of the witnesses ``keys`` cosigned ``note``."""
    if not 1 <= quorum <= len(keys):
        raise InvalidInput(f"a quorum is 1 .. {len(keys)} witnesses, not {quorum}")
    found: dict[str, int] = {}
    problems: list[str] = []
    for key in keys:
        witness = CosignerKey.parse(key)
        try:
            found[witness.name] = verify_cosignature(note, witness)
        except IntegrityFailure as error:
            problems.append(error.message)
    if len(found) < quorum:
        raise IntegrityFailure(
            f"{len(found)} of the required {quorum} witness cosignatures: " + "; ".join(problems),
            details={"cosigned_by": sorted(found), "problems": problems},
        )
    return found

"""C2SP signed notes (Ed25519) and tlog checkpoints.

A verifier key is ``<name>+<key hash, 8 hex>+<base64(0x01 || public key)>`` and a signer key
``PRIVATE+KEY+<name>+<key hash>+<base64(0x01 || seed)>``, as the Go ``sumdb/note`` package
writes them; the key hash is the first four bytes of ``SHA-256(name || 0x0A || 0x01 ||
public key)``. A signature line is ``— <name> <base64(key hash || signature)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sostenuto.errors import IntegrityFailure, InvalidInput
from sostenuto.transparency._merkle import HASH_SIZE

ALG_ED25519 = 1
_DASH = "\u2014"


def _b64decode(text: str, what: str) -> bytes:
    """Strict base64: only the canonical encoding of some bytes is accepted, so no bit of a
    signed note can change without the note being rejected."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise IntegrityFailure(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode() != text:
        raise IntegrityFailure(f"{what} is not canonical base64")
    return raw


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_hash(name: str, public: bytes, algorithm: int = ALG_ED25519) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([algorithm]) + public).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A note verifier: key name, key hash and Ed25519 public key."""

    name: str
    hash: bytes
    public: bytes

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """Parse a verifier key string, checking its hash."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or not _valid_name(parts[0]) or len(parts[1]) != 8:
            raise InvalidInput(f"not a signed-note verifier key: {vkey!r}")
        name, hash_hex, material = parts
        try:
            hash_bytes = bytes.fromhex(hash_hex)
        except ValueError:
            raise InvalidInput(f"the key hash of {vkey!r} is not hex") from None
        raw = _b64decode(material, "the verifier key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise InvalidInput("only Ed25519 verifier keys (algorithm 1, 32 bytes) are accepted")
        if key_hash(name, raw[1:]) != hash_bytes:
            raise InvalidInput(f"the key hash of {vkey!r} does not match its key")
        return cls(name, hash_bytes, raw[1:])

    def __str__(self) -> str:
        material = base64.b64encode(bytes([ALG_ED25519]) + self.public).decode()
        return f"{self.name}+{self.hash.hex()}+{material}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A note signer: key name and Ed25519 private key."""

    name: str
    key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> Signer:
        if not _valid_name(name):
            raise InvalidInput(f"a key name has no spaces or '+': {name!r}")
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, skey: str) -> Signer:
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not _valid_name(parts[2]):
            raise InvalidInput("not a signed-note signer key")
        raw = _b64decode(parts[4], "the signer key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise InvalidInput("only Ed25519 signer keys are supported")
        signer = cls(parts[2], Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.verifier.hash.hex() != parts[3]:
            raise InvalidInput("the signer key's hash does not match its key")
        return signer

    @property
    def verifier(self) -> Verifier:
        public = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier(self.name, key_hash(self.name, public), public)

    def __str__(self) -> str:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = self.key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        material = base64.b64encode(bytes([ALG_ED25519]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.hash.hex()}+{material}"


def sign_note(text: str, signer: Signer) -> str:
    """The signed note: ``text`` (ending in a newline), a blank line and one signature line."""
    if not text.endswith("\n") or "\n\n" in text:
        raise InvalidInput("a note's text ends with a newline and has no blank lines")
    signature = signer.key.sign(text.encode())
    blob = base64.b64encode(signer.verifier.hash + signature).decode()
    return f"{text}\n{_DASH} {signer.name} {blob}\n"


def open_note(note: str, verifier: Verifier) -> str:
    """The note's text if ``verifier`` signed it; :class:`IntegrityFailure` otherwise."""
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise IntegrityFailure("malformed signed note: no blank line before the signatures")
    text, signatures = note[: cut + 1], note[cut + 2 :]
    if "\n\n" in text:
        raise IntegrityFailure("malformed signed note: blank line inside the text")
    found = False
    for line in signatures.splitlines():
        prefix = f"{_DASH} "
        if not line.startswith(prefix):
            raise IntegrityFailure(f"malformed signature line: {line!r}")
        fields = line[len(prefix) :].split(" ")
        if len(fields) != 2:
            raise IntegrityFailure(f"malformed signature line: {line!r}")
        name, blob = fields
        raw = _b64decode(blob, "a note signature")
        if len(raw) < 5:
            raise IntegrityFailure("a note signature is too short")
        if name != verifier.name or raw[:4] != verifier.hash:
            continue  # another party's signature (a witness cosignature, say)
        if not verifier.verify(text.encode(), raw[4:]):
            raise IntegrityFailure(f"the signature of {name} on this note is not valid")
        found = True
    if not found:
        raise IntegrityFailure(f"the note carries no signature by {verifier.name}")
    return text


@dataclass(frozen=True)
class Checkpoint:
    """A C2SP tlog checkpoint: origin, tree size, root hash (and any extension lines)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise IntegrityFailure("a checkpoint has an origin, a size and a root, one a line")
        origin, size_text, root_text = lines[0], lines[1], lines[2]
        if not origin or not size_text.isdigit() or (size_text != "0" and size_text[0] == "0"):
            raise IntegrityFailure(f"malformed checkpoint size line {size_text!r}")
        root = _b64decode(root_text, "the checkpoint root")
        if len(root) != HASH_SIZE:
            raise IntegrityFailure("the checkpoint root is not a SHA-256 hash")
        return cls(origin, int(size_text), root, tuple(lines[3:-1]))


def verify_checkpoint(note: str, vkey: str | Verifier, origin: str | None = None) -> Checkpoint:
    """Check a signed checkpoint against a verifier key; return what it says.

    The origin must equal the key name (or ``origin`` when given): a log's key signs only
    its own checkpoints.
    """
    verifier = vkey if isinstance(vkey, Verifier) else Verifier.parse(vkey)
    checkpoint = Checkpoint.parse(open_note(note, verifier))
    expected = origin or verifier.name
    if checkpoint.origin != expected:
        raise IntegrityFailure(f"the checkpoint is for log {checkpoint.origin!r}, not {expected!r}")
    return checkpoint

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
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

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


def split_verifier_key(vkey: str, algorithm: int, refusal: str) -> tuple[str, bytes, bytes]:
    """Name, key hash and 32-byte public key of ``<name>+<hash>+<base64(algorithm || key)>``,
    the hash checked; ``refusal`` is the error for key material of another algorithm."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3 or not _valid_name(parts[0]) or len(parts[1]) != 8:
        raise InvalidInput(f"not a signed-note verifier key: {vkey!r}")
    name, hash_hex, material = parts
    try:
        hash_bytes = bytes.fromhex(hash_hex)
    except ValueError:
        raise InvalidInput(f"the key hash of {vkey!r} is not hex") from None
    raw = _b64decode(material, "the verifier key")
    if len(raw) != 33 or raw[0] != algorithm:
        raise InvalidInput(refusal)
    if key_hash(name, raw[1:], algorithm) != hash_bytes:
        raise InvalidInput(f"the key hash of {vkey!r} does not match its key")
    return name, hash_bytes, raw[1:]


def split_signer_key(skey: str, algorithm: int, refusal: str) -> tuple[str, str, Ed25519PrivateKey]:
    """Name, key hash (hex, for the caller to check) and private key of
    ``PRIVATE+KEY+<name>+<hash>+<base64(algorithm || seed)>``."""
    parts = skey.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not _valid_name(parts[2]):
        raise InvalidInput("not a signed-note signer key")
    raw = _b64decode(parts[4], "the signer key")
    if len(raw) != 33 or raw[0] != algorithm:
        raise InvalidInput(refusal)
    return parts[2], parts[3], Ed25519PrivateKey.from_private_bytes(raw[1:])


def verifier_key_text(name: str, hash_bytes: bytes, algorithm: int, public: bytes) -> str:
    material = base64.b64encode(bytes([algorithm]) + public).decode()
    return f"{name}+{hash_bytes.hex()}+{material}"


def signer_key_text(name: str, hash_bytes: bytes, algorithm: int, key: Ed25519PrivateKey) -> str:
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    material = base64.b64encode(bytes([algorithm]) + seed).decode()
    return f"PRIVATE+KEY+{name}+{hash_bytes.hex()}+{material}"


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    """A note verifier: key name, key hash and Ed25519 public key."""

    name: str
    hash: bytes
    public: bytes

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """Parse a verifier key string, checking its hash."""
        refusal = "only Ed25519 verifier keys (algorithm 1, 32 bytes) are accepted"
        return cls(*split_verifier_key(vkey, ALG_ED25519, refusal))

    def __str__(self) -> str:
        return verifier_key_text(self.name, self.hash, ALG_ED25519, self.public)

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
        name, hash_hex, key = split_signer_key(
            skey, ALG_ED25519, "only Ed25519 signer keys are supported"
        )
        signer = cls(name, key)
        if signer.verifier.hash.hex() != hash_hex:
            raise InvalidInput("the signer key's hash does not match its key")
        return signer

    @property
    def verifier(self) -> Verifier:
        public = public_bytes(self.key)
        return Verifier(self.name, key_hash(self.name, public), public)

    def __str__(self) -> str:
        return signer_key_text(self.name, self.verifier.hash, ALG_ED25519, self.key)


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

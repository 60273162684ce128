"""Sostenuto's C2PA signing credentials: a root CA and an ES256 signing certificate.

``init_keys`` creates, under ``<keys_dir>/c2pa``: ``root.pem`` (the trust anchor that
verifiers load), ``root.key``, ``signer.pem`` (signing certificate followed by the root, the
chain C2PA embeds) and ``signer.key``. The signing certificate carries what C2PA asks of a
claim signer: not a CA, digitalSignature key usage (critical), the emailProtection and
documentSigning extended key usages, and subject/authority key identifiers.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from sostenuto.errors import Conflict, IntegrityFailure, NotFound

DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
ROOT_YEARS = 10
SIGNER_YEARS = 2


@dataclass(frozen=True)
class SigningKeys:
    """PEM material handed to the C2PA signer and validator."""

    chain_pem: bytes
    key_pem: bytes
    root_pem: bytes


@dataclass(frozen=True)
class KeyInfo:
    """What ``sostenuto keys show`` prints."""

    directory: str
    signer_subject: str
    root_subject: str
    signer_sha256: str
    root_sha256: str
    not_after: str
    algorithm: str


def _dir(keys_dir: Path) -> Path:
    return Path(keys_dir) / "c2pa"


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, mode)
        os.write(handle, data)
        os.fsync(handle)
    finally:
        os.close(handle)
    os.replace(temp, path)


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )


def _key_usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def issue_chain(organisation: str) -> tuple[SigningKeys, bytes]:
    """A fresh root CA and signing certificate; returns the keys and the root's private key."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(f"{organisation} C2PA Root CA", organisation)
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * ROOT_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{organisation} C2PA signer", organisation))
        .issuer_name(root_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * SIGNER_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=True, ca=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    private = serialization.PrivateFormat.PKCS8
    none = serialization.NoEncryption()
    keys = SigningKeys(
        chain_pem=signer.public_bytes(pem) + root.public_bytes(pem),
        key_pem=signer_key.private_bytes(pem, private, none),
        root_pem=root.public_bytes(pem),
    )
    return keys, root_key.private_bytes(pem, private, none)


def init_keys(keys_dir: Path, *, organisation: str = "Sostenuto", force: bool = False) -> KeyInfo:
    """Create the credentials; refuse to overwrite existing ones unless ``force``."""
    folder = _dir(keys_dir)
    if (folder / "signer.pem").exists() and not force:
        raise Conflict(
            f"C2PA keys already exist in {folder}; pass --force to replace them",
            details={"directory": str(folder)},
        )
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    keys, root_key = issue_chain(organisation)
    _write_atomic(folder / "root.key", root_key, 0o600)
    _write_atomic(folder / "signer.key", keys.key_pem, 0o600)
    _write_atomic(folder / "root.pem", keys.root_pem, 0o644)
    _write_atomic(folder / "signer.pem", keys.chain_pem, 0o644)
    return show_keys(keys_dir)


def load_keys(keys_dir: Path) -> SigningKeys:
    folder = _dir(keys_dir)
    try:
        return SigningKeys(
            chain_pem=(folder / "signer.pem").read_bytes(),
            key_pem=(folder / "signer.key").read_bytes(),
            root_pem=(folder / "root.pem").read_bytes(),
        )
    except FileNotFoundError:
        raise NotFound(
            f"no C2PA keys in {folder}; create them with `sostenuto keys init`"
        ) from None


def load_trust_anchor(keys_dir: Path) -> bytes | None:
    """The root certificate verifiers trust, or None when no keys were created."""
    path = _dir(keys_dir) / "root.pem"
    return path.read_bytes() if path.exists() else None


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def show_keys(keys_dir: Path) -> KeyInfo:
    keys = load_keys(keys_dir)
    try:
        chain = x509.load_pem_x509_certificates(keys.chain_pem)
        root = x509.load_pem_x509_certificate(keys.root_pem)
    except ValueError as error:
        raise IntegrityFailure(f"unreadable certificate in {_dir(keys_dir)}: {error}") from None
    signer = chain[0]
    return KeyInfo(
        directory=str(_dir(keys_dir)),
        signer_subject=signer.subject.rfc4514_string(),
        root_subject=root.subject.rfc4514_string(),
        signer_sha256=_fingerprint(signer),
        root_sha256=_fingerprint(root),
        not_after=signer.not_valid_after_utc.isoformat(),
        algorithm="ES256 (ECDSA P-256, SHA-256)",
    )

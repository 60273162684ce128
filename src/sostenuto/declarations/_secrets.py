"""Webhook signing secrets at rest: sealed with a key kept beside the log's keys.

The service must keep each subscription's secret to sign deliveries, so it cannot store a
hash. It stores the secret sealed (AES-256-GCM, a fresh 96-bit nonce each, the subscription's
purpose as associated data) under ``keys_dir/webhook-secrets.key``: a copy of the database
alone (a backup, a replica, a dump) does not let anyone sign a delivery a licensee trusts.
Back the key up with the log's keys (docs/deploy.md); without it the subscriptions must be
made again. Secrets stored before sealing (plain ``whsec_…``) are still read.
"""

from __future__ import annotations

import base64
import os
import weakref
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sostenuto.declarations._signing import SECRET_PREFIX
from sostenuto.errors import IntegrityFailure
from sostenuto.keyfiles import create_private, read_private
from sostenuto.settings import Settings
from sostenuto.storage import Database

KEY_FILE = "webhook-secrets.key"
SEALED_PREFIX = "sealed:v1:"
_PURPOSE = b"sostenuto webhook signing secret v1"
_boxes: weakref.WeakKeyDictionary[Database, SecretBox] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class SecretBox:
    """Seals and opens stored webhook secrets with one 256-bit key."""

    key: bytes

    def seal(self, secret: str) -> str:
        # The secret's 32 key bytes, not its text: sealed, it fits the 100-character column
        # (10 + base64 of 12 + 32 + 16 bytes = 90).
        raw = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        nonce = os.urandom(12)
        sealed = AESGCM(self.key).encrypt(nonce, raw, _PURPOSE)
        return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, stored: str) -> str:
        """The secret a stored value holds; a plain (never sealed) one as it is."""
        if not is_sealed(stored):
            return stored
        try:
            raw = base64.b64decode(stored.removeprefix(SEALED_PREFIX), validate=True)
            key = AESGCM(self.key).decrypt(raw[:12], raw[12:], _PURPOSE)
        except (InvalidTag, ValueError):
            raise IntegrityFailure(
                "a stored webhook secret does not open: it was sealed with another key than "
                f"{KEY_FILE} or changed since; restore that key, or make the subscription again"
            ) from None
        return SECRET_PREFIX + base64.b64encode(key).decode()


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


def box_from_settings(settings: Settings) -> SecretBox:
    """The box of the key under ``settings.keys_dir``, made on first use."""
    path = settings.keys_dir / KEY_FILE
    if not path.exists():
        create_private(path, base64.b64encode(AESGCM.generate_key(bit_length=256)).decode())
    return SecretBox(base64.b64decode(read_private(path).strip()))


def use_secret_box(database: Database, box: SecretBox | None) -> None:
    """Seal and open the webhook secrets stored in ``database`` with ``box`` (None: this
    process holds no key, as a CLI process that publishes a change)."""
    if box is None:
        _boxes.pop(database, None)
    else:
        _boxes[database] = box


def secret_box(database: Database) -> SecretBox | None:
    """The box registered for ``database`` (by the application that serves it), if any."""
    return _boxes.get(database)

"""The log's signing key: created on first use under ``settings.keys_dir`` (mode 0600)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from sostenuto.errors import IntegrityFailure
from sostenuto.settings import Settings
from sostenuto.transparency._note import Signer

KEY_FILE = "log-ed25519.key"
DEFAULT_ORIGIN = "sostenuto.local/log"
_lock = threading.Lock()
_cache: dict[Path, Signer] = {}


def key_path(settings: Settings) -> Path:
    return settings.keys_dir / KEY_FILE


def log_signer(settings: Settings) -> Signer:
    """The log's signer, generating it on first use.

    The origin (key name) is ``SOSTENUTO_LOG_ORIGIN`` at creation time, else
    ``sostenuto.local/log``; afterwards it is whatever the key file says.
    """
    path = key_path(settings)
    with _lock:
        if path in _cache:
            return _cache[path]
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            signer = Signer.generate(os.environ.get("SOSTENUTO_LOG_ORIGIN", DEFAULT_ORIGIN))
            try:
                # O_EXCL: two processes creating the key at once must not both win.
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(str(signer) + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise IntegrityFailure(
                f"the log key {path} is readable by others (mode {mode:o}); chmod 600 it"
            )
        signer = Signer.parse(path.read_text())
        _cache[path] = signer
        return signer


def verifier_key(settings: Settings) -> str:
    """The verifier key string to hand to witnesses and auditors."""
    return str(log_signer(settings).verifier)

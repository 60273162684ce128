"""The log's signing key and its witness key: created on first use under ``settings.keys_dir``
(mode 0600, ``O_EXCL``).

The default origin is the schema-less URL of the prefix the log is served at
(``<host>[:<port>]/log``), as C2SP tlog-checkpoint recommends, so that a tile client given
``https://<origin>`` finds the log.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from sostenuto.errors import IntegrityFailure
from sostenuto.settings import Settings
from sostenuto.transparency._cosign import Cosigner
from sostenuto.transparency._note import Signer

KEY_FILE = "log-ed25519.key"
WITNESS_KEY_FILE = "witness-cosignature-v1.key"
# The tile routes' prefix (api/routes/transparency.py); the witness's submission prefix.
LOG_PREFIX = "/log"
WITNESS_PREFIX = "/witness"
_lock = threading.Lock()
_cache: dict[Path, Signer] = {}
_witness_cache: dict[Path, Cosigner] = {}


def _served_at(settings: Settings, prefix: str) -> str:
    """``<host>[:<port>]<prefix>``: where ``sostenuto serve`` answers, without the scheme."""
    port = "" if settings.port in (80, 443) else f":{settings.port}"
    return f"{settings.host}{port}{prefix}"


def default_origin(settings: Settings) -> str:
    """The origin a new log key gets: ``SOSTENUTO_LOG_ORIGIN``, else the served prefix."""
    return settings.log_origin or _served_at(settings, LOG_PREFIX)


def _create_private(path: Path, text: str) -> None:
    """Write a new key file with mode 0600; if another process made it first, keep theirs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes creating the key at once must not both win.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _read_private(path: Path) -> str:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise IntegrityFailure(
            f"the key {path} is readable by others (mode {mode:o}); chmod 600 it"
        )
    return path.read_text()


def key_path(settings: Settings) -> Path:
    return settings.keys_dir / KEY_FILE


def log_signer(settings: Settings) -> Signer:
    """The log's signer, generating it on first use.

    The origin (key name) is :func:`default_origin` at creation time; afterwards it is
    whatever the key file says.
    """
    path = key_path(settings)
    with _lock:
        if path in _cache:
            return _cache[path]
        if not path.exists():
            _create_private(path, str(Signer.generate(default_origin(settings))))
        signer = Signer.parse(_read_private(path))
        _cache[path] = signer
        return signer


def witness_cosigner(settings: Settings) -> Cosigner:
    """This service's witness key (cosignature/v1), generating it on first use; its name is
    ``SOSTENUTO_WITNESS_NAME``, else ``<host>[:<port>]/witness``."""
    path = settings.keys_dir / WITNESS_KEY_FILE
    with _lock:
        if path in _witness_cache:
            return _witness_cache[path]
        if not path.exists():
            name = settings.witness_name or _served_at(settings, WITNESS_PREFIX)
            _create_private(path, str(Cosigner.generate(name)))
        cosigner = Cosigner.parse(_read_private(path))
        _witness_cache[path] = cosigner
        return cosigner


def verifier_key(settings: Settings) -> str:
    """The verifier key string to hand to witnesses and auditors."""
    return str(log_signer(settings).verifier)

"""The log's signing key and its witness key: created on first use under ``settings.keys_dir``
(``sostenuto.keyfiles``: whole, mode 0600, one winner when processes race).

The default origin is the schema-less URL of the prefix the log is served at
(``<host>[:<port>]/log``), as C2SP tlog-checkpoint recommends, so that a tile client given
``https://<origin>`` finds the log.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sostenuto.keyfiles import create_private as _create_private
from sostenuto.keyfiles import read_private as _read_private
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

"""Private key files under ``settings.keys_dir``: created once, whole (mode 0600), and
refused when others can read them. The log's keys and the webhook secrets' key use these."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sostenuto.errors import IntegrityFailure


def create_private(path: Path, text: str) -> None:
    """Write a new key file with mode 0600; if another process made it first, keep theirs.

    The key is written whole to a private temporary file and then linked into place, which
    fails if the name exists: two processes starting at once (``serve --workers N``) never
    both win, and neither ever reads a half-written key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return
    finally:
        os.unlink(temporary)


def read_private(path: Path) -> str:
    """The key file's text; an IntegrityFailure when its mode lets others read it."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise IntegrityFailure(
            f"the key {path} is readable by others (mode {mode:o}); chmod 600 it"
        )
    return path.read_text()

"""C2SP tlog-witness, the witness side: ``add-checkpoint`` from the logs this service follows.

A log POSTs ``old <size>``, the consistency proof lines, an empty line and its new signed
checkpoint. The witness checks, in the spec's order, the origin (unknown: 404), the log's
signature (none valid: 403), the old size (above the new one: 400; not the size it last
cosigned: 409 with that size), the roots when the sizes are equal (differ: 409) and the
consistency proof (422); then persists the new checkpoint and answers its cosignature line.
Checking the old size and persisting happen under one lock, so two requests can never roll
the recorded tree back. State is one JSON file per origin, replaced atomically and fsynced.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sostenuto.errors import Conflict, Forbidden, IntegrityFailure, InvalidInput, NotFound
from sostenuto.settings import Settings
from sostenuto.transparency._cosign import cosign, split_note
from sostenuto.transparency._keys import witness_cosigner
from sostenuto.transparency._merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from sostenuto.transparency._note import Checkpoint, Verifier, _b64decode, open_note

MAX_PROOF_LINES = 63
MAX_REQUEST_BYTES = 64 * 1024
SIZE_MEDIA_TYPE = "text/x.tlog.size"
_thread_lock = threading.Lock()


class MalformedRequest(InvalidInput):
    """An add-checkpoint body the spec cannot read, or an old size above the new one."""

    code = "bad-request"
    http_status = 400


class OldSizeMismatch(Conflict):
    """The old size is not the one this witness last cosigned; the log retries from it."""

    code = "witness-old-size"

    def __init__(self, origin: str, latest: int) -> None:
        super().__init__(
            f"this witness last cosigned {origin} at size {latest}",
            details={"latest_size": latest},
        )
        self.latest_size = latest


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: list[bytes]
    note: str
    checkpoint: Checkpoint


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _decimal(text: str, what: str) -> int:
    if not text.isascii() or not text.isdigit() or (text != "0" and text[0] == "0"):
        raise MalformedRequest(f"{what} is not a decimal without leading zeros: {text[:40]!r}")
    return int(text)


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """The parts of an add-checkpoint request body, each line checked strictly."""
    if len(body) > MAX_REQUEST_BYTES:
        raise MalformedRequest(f"an add-checkpoint body is at most {MAX_REQUEST_BYTES} bytes")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise MalformedRequest("an add-checkpoint body is UTF-8 text") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise MalformedRequest("no empty line between the consistency proof and the checkpoint")
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        raise MalformedRequest("an add-checkpoint body starts with the line 'old <size>'")
    old = _decimal(lines[0].removeprefix("old "), "the old size")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise MalformedRequest(f"at most {MAX_PROOF_LINES} consistency proof lines")
    try:
        proof = [_b64decode(line, "a consistency proof hash") for line in lines[1:]]
        if any(len(node) != HASH_SIZE for node in proof):
            raise MalformedRequest("a consistency proof line is not a SHA-256 hash")
        checkpoint = Checkpoint.parse(split_note(note)[0])
    except IntegrityFailure as error:
        raise MalformedRequest(error.message) from None
    return AddCheckpoint(old, proof, note, checkpoint)


def witnessed_verifiers(settings: Settings) -> dict[str, list[Verifier]]:
    """The logs this service witnesses (``SOSTENUTO_WITNESSED_LOGS``), by origin."""
    by_origin: dict[str, list[Verifier]] = {}
    for vkey in _split(settings.witnessed_logs):
        verifier = Verifier.parse(vkey)
        by_origin.setdefault(verifier.name, []).append(verifier)
    return by_origin


def _state_dir(settings: Settings) -> Path:
    return settings.data_dir / "witness"


def _state_path(settings: Settings, origin: str) -> Path:
    # Origins are free text: hash them into a safe file name.
    return _state_dir(settings) / f"{hashlib.sha256(origin.encode()).hexdigest()[:32]}.json"


@contextmanager
def _locked(settings: Settings) -> Iterator[None]:
    """One add-checkpoint at a time, across threads and processes."""
    folder = _state_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    with _thread_lock, open(folder / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def latest_cosigned(settings: Settings, origin: str) -> tuple[int, bytes] | None:
    """The size and root this witness last cosigned for ``origin`` (None: never)."""
    path = _state_path(settings, origin)
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    if data["origin"] != origin:
        raise IntegrityFailure(f"the witness state {path} belongs to another origin")
    return int(data["size"]), base64.b64decode(data["root"])


def _persist(settings: Settings, head: Checkpoint, note: str) -> None:
    path = _state_path(settings, head.origin)
    temporary = path.with_suffix(".tmp")
    record = {
        "origin": head.origin,
        "size": head.size,
        "root": base64.b64encode(head.root).decode(),
        "note": note,
    }
    with open(temporary, "w") as handle:
        json.dump(record, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)  # never a half-written state
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)


def _check_signature(request: AddCheckpoint, settings: Settings) -> None:
    verifiers = witnessed_verifiers(settings).get(request.checkpoint.origin)
    if not verifiers:
        raise NotFound(f"this witness does not follow the log {request.checkpoint.origin!r}")
    for verifier in verifiers:
        try:
            open_note(request.note, verifier)
        except IntegrityFailure:
            continue
        return
    raise Forbidden(
        f"no signature on the checkpoint verifies with a key of {request.checkpoint.origin}"
    )


def add_checkpoint(settings: Settings, body: bytes) -> str:
    """Check and record a log's new checkpoint; the witness's cosignature line(s)."""
    request = parse_add_checkpoint(body)
    head = request.checkpoint
    _check_signature(request, settings)
    if request.old_size > head.size:
        raise MalformedRequest(f"the old size {request.old_size} is above the new {head.size}")
    cosigner = witness_cosigner(settings)
    with _locked(settings):
        latest = latest_cosigned(settings, head.origin)
        latest_size, latest_root = latest if latest is not None else (0, EMPTY_ROOT)
        if request.old_size != latest_size:
            raise OldSizeMismatch(head.origin, latest_size)
        if request.old_size == head.size:
            if head.root != latest_root:
                raise Conflict(
                    f"the checkpoint of size {head.size} has another root than the one cosigned"
                )
            if request.proof:
                raise IntegrityFailure("equal sizes need an empty consistency proof")
        elif request.old_size == 0:
            if request.proof:
                raise IntegrityFailure("the consistency proof from size 0 must be empty")
        else:
            verify_consistency(request.old_size, head.size, latest_root, head.root, request.proof)
        _persist(settings, head, request.note)
    text, _ = split_note(request.note)
    cosigned = cosign(text + "\n", cosigner)
    return cosigned[len(text) + 1 :]

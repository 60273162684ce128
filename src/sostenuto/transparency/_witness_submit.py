"""C2SP tlog-witness, the log side: submit the latest checkpoint to the configured witnesses.

For each submission prefix in ``SOSTENUTO_WITNESS_URLS`` the log POSTs ``add-checkpoint``. It
does not remember what each witness last cosigned: it starts from the size it last learnt
from that witness in this process (else 0), and a 409 answer names the witness's size, from
which it sends the consistency proof again, as the spec allows. The cosignature lines that
come back are kept only if they verify with a key in ``SOSTENUTO_WITNESS_KEYS``.
"""

from __future__ import annotations

import base64
import threading

import httpx

from sostenuto.errors import IntegrityFailure, InvalidInput
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency._cosignatures import store_cosignatures
from sostenuto.transparency._receipts import checkpoint
from sostenuto.transparency._store import SignedCheckpoint, prove_consistency
from sostenuto.transparency._witness_service import SIZE_MEDIA_TYPE, _split

_known: dict[str, int] = {}  # submission prefix -> size it last cosigned (a hint only)
_known_lock = threading.Lock()


def add_checkpoint_body(old_size: int, proof: list[bytes], note: str) -> bytes:
    """The add-checkpoint request body: ``old N``, proof lines, an empty line, the note."""
    lines = [f"old {old_size}", *(base64.b64encode(node).decode() for node in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode()


def _post(client: httpx.Client, url: str, body: bytes) -> httpx.Response:
    try:
        return client.post(f"{url.rstrip('/')}/add-checkpoint", content=body)
    except httpx.HTTPError as error:
        raise IntegrityFailure(f"the witness {url} could not be reached: {error}") from None


def _cosignature_lines(
    database: Database, client: httpx.Client, url: str, signed: SignedCheckpoint
) -> str:
    with _known_lock:
        old = min(_known.get(url, 0), signed.size)
    for _ in range(2):
        proof = prove_consistency(database, old, signed.size) if 0 < old < signed.size else []
        response = _post(client, url, add_checkpoint_body(old, proof, signed.note))
        if response.status_code == 200:
            with _known_lock:
                _known[url] = signed.size
            return response.text
        media = response.headers.get("content-type", "").split(";")[0].strip()
        if response.status_code != 409 or media != SIZE_MEDIA_TYPE:
            raise IntegrityFailure(
                f"the witness {url} refused the checkpoint of size {signed.size} "
                f"({response.status_code}): {response.text[:300]}"
            )
        told = response.text.strip()
        if not told.isdigit() or int(told) > signed.size:
            raise IntegrityFailure(
                f"the witness {url} cosigned a size this log has not reached: {told[:40]!r}"
            )
        old = int(told)
    raise IntegrityFailure(f"the witness {url} kept changing its size; try again")


def submit_to_witnesses(
    database: Database, settings: Settings, *, client: httpx.Client | None = None
) -> dict[str, list[str]]:
    """Submit the latest checkpoint to every configured witness; per prefix, the names of
    the known witnesses whose cosignatures were stored."""
    urls = _split(settings.witness_urls)
    if not urls:
        raise InvalidInput("no witnesses to submit to: set SOSTENUTO_WITNESS_URLS")
    signed = checkpoint(database, settings)
    http = client or httpx.Client(timeout=30.0)
    accepted: dict[str, list[str]] = {}
    try:
        for url in urls:
            lines = _cosignature_lines(database, http, url, signed)
            accepted[url] = store_cosignatures(database, settings, signed.note + lines)
    finally:
        if client is None:
            http.close()
    return accepted

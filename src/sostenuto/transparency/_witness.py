"""Witness mode and mirrors: follow a log through its C2SP tiles, alarm on a split view.

The witness trusts nothing but the log's verifier key. It reads the signed checkpoint,
fetches the tiles that tree size publishes (over HTTP, or from a directory mirror laid out
like the tile API), recomputes the root from them and then computes and checks the
consistency proof from its last verified checkpoint itself. Two checkpoints that no
append-only history joins raise :class:`SplitView`, and the state is left as it was.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.progress import Progress

from sostenuto.errors import IntegrityFailure, NotFound
from sostenuto.storage import Database
from sostenuto.transparency._cosign import Cosigner, cosign
from sostenuto.transparency._merkle import (
    HASH_SIZE,
    consistency_proof,
    root_hash,
    verify_consistency,
)
from sostenuto.transparency._note import Checkpoint, Verifier, verify_checkpoint
from sostenuto.transparency._store import checkpoint_at, read_entries, read_tile
from sostenuto.transparency._tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileReader,
    build_tile,
    encode_bundle,
    tile_nodes,
    tile_path,
    tiles_for_size,
)

Fetch = Callable[[str], bytes]


class SplitView(IntegrityFailure):
    """The log showed two histories that cannot both be true."""

    code = "split-view"


def source_fetcher(source: str) -> Fetch:
    """Fetch C2SP paths from a base URL (``http(s)://…/log``) or a mirror directory."""
    if source.startswith(("http://", "https://")):
        base = source.rstrip("/")
        client = httpx.Client(timeout=30.0)

        def fetch_http(path: str) -> bytes:
            response = client.get(f"{base}/{path}")
            if response.status_code == 404:
                raise NotFound(f"{base}/{path} does not exist")
            response.raise_for_status()
            return response.content

        return fetch_http
    root = Path(source)

    def fetch_file(path: str) -> bytes:
        target = root / path
        if not target.is_file():
            raise NotFound(f"{target} does not exist in the mirror")
        return target.read_bytes()

    return fetch_file


def remote_tiles(fetch: Fetch, size: int) -> TileReader:
    """A tile reader over fetched C2SP tiles of a tree of ``size`` leaves."""
    cache: dict[tuple[int, int], tuple[int, bytes]] = {}

    def read(level: int, index: int) -> tuple[int, bytes] | None:
        key = (level, index)
        if key in cache:
            return cache[key]
        width = min(TILE_WIDTH, (size >> (TILE_HEIGHT * level)) - index * TILE_WIDTH)
        if width <= 0:
            return None
        data = fetch(tile_path(level, index, width))
        if len(data) != width * HASH_SIZE:
            raise IntegrityFailure(f"tile {level}/{index} has {len(data)} bytes, not {width * 32}")
        cache[key] = (width, build_tile(data))
        return cache[key]

    return read


@dataclass(frozen=True)
class WitnessReport:
    status: str  # "first", "unchanged" or "advanced"
    previous_size: int | None
    size: int
    root: str
    cosigned: str | None = None  # the checkpoint with this witness's cosignature added


def _load_state(path: Path) -> Checkpoint | None:
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return Checkpoint(data["origin"], int(data["size"]), base64.b64decode(data["root"]))


def _save_state(path: Path, head: Checkpoint, note: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(
        json.dumps(
            {
                "origin": head.origin,
                "size": head.size,
                "root": base64.b64encode(head.root).decode(),
                "note": note,
            },
            indent=2,
        )
    )
    os.replace(temporary, path)  # never a half-written state


def witness(
    source: str, vkey: str, state_path: Path, cosigner: Cosigner | None = None
) -> WitnessReport:
    """Verify the log's latest checkpoint against the last one this witness accepted.

    With a ``cosigner`` key, a checkpoint that verified is cosigned (C2SP cosignature/v1);
    a split view is never cosigned.
    """
    verifier = Verifier.parse(vkey)
    fetch = source_fetcher(source)
    note = fetch("checkpoint").decode()
    head = verify_checkpoint(note, verifier)
    previous = _load_state(state_path)
    nodes = tile_nodes(remote_tiles(fetch, head.size))
    if head.size and root_hash(nodes, head.size) != head.root:
        raise IntegrityFailure("the log's tiles do not add up to its signed checkpoint root")
    root = base64.b64encode(head.root).decode()
    if previous is None:
        _save_state(state_path, head, note)
        return WitnessReport("first", None, head.size, root, _cosigned(note, cosigner))
    if previous.origin != head.origin:
        raise IntegrityFailure(f"this witness follows {previous.origin}, not {head.origin}")
    try:
        if head.size < previous.size:
            raise IntegrityFailure(f"the log shrank from {previous.size} to {head.size}")
        proof = consistency_proof(nodes, previous.size, head.size) if previous.size else []
        verify_consistency(previous.size, head.size, previous.root, head.root, proof)
    except IntegrityFailure as error:
        raise SplitView(
            f"ALARM: split view of {head.origin}: the checkpoint of size {head.size} does not "
            f"extend the one of size {previous.size} this witness verified ({error.message})",
            details={
                "verified_size": previous.size,
                "verified_root": base64.b64encode(previous.root).decode(),
                "presented_size": head.size,
                "presented_root": base64.b64encode(head.root).decode(),
                "presented_checkpoint": note,
            },
        ) from None
    status = "unchanged" if head.size == previous.size else "advanced"
    _save_state(state_path, head, note)
    return WitnessReport(status, previous.size, head.size, root, _cosigned(note, cosigner))


def _cosigned(note: str, cosigner: Cosigner | None) -> str | None:
    return None if cosigner is None else cosign(note, cosigner)


def submit_cosignature(api_base: str, cosigned: str, token: str) -> list[str]:
    """Hand a cosigned checkpoint to the log (``POST /api/v1/log/cosignatures``)."""
    response = httpx.post(
        f"{api_base.rstrip('/')}/api/v1/log/cosignatures",
        json={"note": cosigned},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30.0,
    )
    if response.status_code >= 400:
        raise IntegrityFailure(
            f"the log refused the cosignature ({response.status_code}): {response.text[:300]}"
        )
    accepted: list[str] = response.json()["accepted"]
    return accepted


def mirror(database: Database, directory: Path, *, size: int | None = None) -> int:
    """Write a static C2SP tile mirror (checkpoint, tiles, entry bundles) of the log."""
    with database.reader() as session:
        signed = checkpoint_at(session, size)
    tiles = tiles_for_size(signed.size)
    entry_tiles = [t for t in tiles if t[0] == 0]
    with Progress(transient=True) as progress:
        task = progress.add_task("mirroring tiles", total=len(tiles) + len(entry_tiles))
        for level, index, width in tiles:
            target = directory / tile_path(level, index, width)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(read_tile(database, level, index, width))
            progress.advance(task)
        for _, index, width in entry_tiles:
            target = directory / tile_path("entries", index, width)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(encode_bundle(read_entries(database, index * TILE_WIDTH, width)))
            progress.advance(task)
    # The checkpoint goes last, so a reader never sees a checkpoint without its tiles.
    (directory / "checkpoint").write_text(signed.note)
    return signed.size

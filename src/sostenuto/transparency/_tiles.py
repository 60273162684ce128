"""C2SP tlog-tiles geometry: tile paths, widths, and tiles that also carry their inner levels.

A tile of height 8 at level ``L`` holds up to 256 hashes of tree level ``8 L``. Sostenuto
stores each tile together with its seven inner levels (the hashes of levels ``8 L + 1 ..
8 L + 7`` that its complete pairs give): ``511 * 32`` bytes for a full tile instead of
``256 * 32``. That costs about 32 bytes per entry and makes every complete subtree hash a
single slice, so a proof is a handful of row reads and no rehashing. The C2SP tile served to
clients is the first ``width * 32`` bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from sostenuto.errors import IntegrityFailure, InvalidInput, NotFound
from sostenuto.transparency._merkle import HASH_SIZE, NodeReader, node_hash

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT

# (level, index) -> (width, hashes of all inner levels) or None when absent.
TileReader = Callable[[int, int], "tuple[int, bytes] | None"]


@lru_cache(maxsize=TILE_WIDTH + 1)
def level_offsets(width: int) -> tuple[int, ...]:
    """Byte offsets of inner levels 0..7 inside a stored tile of ``width`` base hashes."""
    offsets, at = [], 0
    for sub in range(TILE_HEIGHT):
        offsets.append(at)
        at += (width >> sub) * HASH_SIZE
    return tuple(offsets)


def build_tile(base: bytes) -> bytes:
    """Base hashes (``width * 32`` bytes) followed by every complete inner-level hash."""
    width = len(base) // HASH_SIZE
    if len(base) % HASH_SIZE or not 0 < width <= TILE_WIDTH:
        raise IntegrityFailure(f"a tile holds 1 to 256 hashes, not {len(base) / HASH_SIZE}")
    parts = [base]
    below = base
    for _ in range(1, TILE_HEIGHT):
        count = len(below) // (2 * HASH_SIZE)
        if count == 0:
            break
        level = b"".join(
            node_hash(
                below[2 * i * HASH_SIZE : (2 * i + 1) * HASH_SIZE],
                below[(2 * i + 1) * HASH_SIZE : (2 * i + 2) * HASH_SIZE],
            )
            for i in range(count)
        )
        parts.append(level)
        below = level
    return b"".join(parts)


def tile_top(stored: bytes) -> bytes:
    """The hash of the complete subtree a full tile covers (a base hash one tile level up)."""
    last = stored[-2 * HASH_SIZE :]
    return node_hash(last[:HASH_SIZE], last[HASH_SIZE:])


def tile_nodes(read: TileReader) -> NodeReader:
    """A node reader over stored tiles (with inner levels)."""

    def node(level: int, index: int) -> bytes:
        tile_level, sub = divmod(level, TILE_HEIGHT)
        tile_index = index >> (TILE_HEIGHT - sub)
        found = read(tile_level, tile_index)
        if found is None:
            raise IntegrityFailure(f"tile {tile_level}/{tile_index} is missing from the log")
        width, stored = found
        position = index & ((TILE_WIDTH >> sub) - 1)
        if position >= width >> sub:
            raise IntegrityFailure(f"node {level}/{index} is beyond the stored tree")
        at = level_offsets(width)[sub] + position * HASH_SIZE
        return stored[at : at + HASH_SIZE]

    return node


def tiles_for_size(size: int) -> list[tuple[int, int, int]]:
    """Every (level, index, width) tile that a tree of ``size`` leaves publishes."""
    out: list[tuple[int, int, int]] = []
    level, count = 0, size
    while count > 0:
        full, rest = divmod(count, TILE_WIDTH)
        out.extend((level, i, TILE_WIDTH) for i in range(full))
        if rest:
            out.append((level, full, rest))
        count >>= TILE_HEIGHT
        level += 1
    return out


def rightmost_tiles(size: int) -> list[tuple[int, int, int]]:
    """The partial (rightmost) tile of each level for ``size`` leaves: (level, index, width)."""
    out: list[tuple[int, int, int]] = []
    level, count = 0, size
    while count > 0:
        index, width = divmod(count, TILE_WIDTH)
        if width:
            out.append((level, index, width))
        count >>= TILE_HEIGHT
        level += 1
    return out


def grow_tiles(
    size: int, leaves: Iterable[bytes], read: TileReader
) -> dict[tuple[int, int], tuple[int, bytes]]:
    """Tiles (with inner levels) that change when ``leaves`` are appended to a tree of ``size``.

    Only the rightmost tile of each level can be partial, so those are read back and
    extended; every tile that fills up pushes its top hash one tile level up.
    """
    pending: dict[int, list[bytes]] = {}
    changed: dict[tuple[int, int], tuple[int, bytes]] = {}
    counts: dict[int, int] = {}

    def base_of(level: int, count: int) -> list[bytes]:
        index, width = divmod(count, TILE_WIDTH)
        if not width:
            return []
        found = read(level, index)
        if found is None or found[0] < width:
            raise IntegrityFailure(f"tile {level}/{index} is missing or short in the log")
        raw = found[1][: width * HASH_SIZE]
        return [raw[i : i + HASH_SIZE] for i in range(0, len(raw), HASH_SIZE)]

    def push(level: int, value: bytes) -> None:
        if level not in pending:
            counts[level] = size >> (TILE_HEIGHT * level)
            pending[level] = base_of(level, counts[level])
        bucket = pending[level]
        bucket.append(value)
        counts[level] += 1
        if len(bucket) == TILE_WIDTH:
            stored = build_tile(b"".join(bucket))
            changed[(level, counts[level] // TILE_WIDTH - 1)] = (TILE_WIDTH, stored)
            pending[level] = []
            push(level + 1, tile_top(stored))

    for leaf in leaves:
        push(0, leaf)
    for level, bucket in pending.items():
        if bucket:
            index = counts[level] // TILE_WIDTH
            changed[(level, index)] = (len(bucket), build_tile(b"".join(bucket)))
    return changed


# C2SP tlog-tiles gives every tile exactly one path: ``<L>`` and ``<W>`` are decimal without
# leading zeros (``<L>`` 0 to 63, ``<W>`` 1 to 255) and ``<N>`` is the fewest 3-digit groups,
# all but the last prefixed ``x``. Any other spelling (``00``, ``.p/007``, ``x000/001``) names
# no tile. ASCII digits only: ``int`` would also read other scripts' digits.
MAX_LEVEL = 63
_LEVEL = re.compile(r"0|[1-9][0-9]?")
_INDEX = re.compile(r"(?:x[0-9]{3}/)*[0-9]{3}")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")
# Tiles beyond a log of 2^63 - 1 entries do not exist (and entry numbers stay 64-bit).
MAX_TILE_INDEX = ((2**63 - 1) >> TILE_HEIGHT) - 1
# Its path has 28 characters, and ``.p/255`` 6 more: anything much longer is no tile path.
_MAX_PATH = 40


def encode_index(index: int) -> str:
    """The C2SP path form of a tile index: 3-digit groups, all but the last prefixed ``x``."""
    if index < 0:
        raise InvalidInput(f"a tile index is not negative, got {index}")
    digits = f"{index:d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def tile_path(level: int | str, index: int, width: int) -> str:
    """``tile/<L>/<N>[.p/<W>]`` (level ``entries`` for entry bundles)."""
    if not 0 < width <= TILE_WIDTH:
        raise InvalidInput(f"a tile is 1 to 256 wide, not {width}")
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{encode_index(index)}{suffix}"


def _no_tile(what: str, text: str) -> NotFound:
    return NotFound(f"not a C2SP tile {what}: {text[:40]!r}", details={what: text[:40]})


def parse_level(text: str) -> int:
    """The tile level ``<L>``: ``0`` to ``63`` in decimal, without leading zeros."""
    if not _LEVEL.fullmatch(text) or int(text) > MAX_LEVEL:
        raise _no_tile("level", text)
    return int(text)


def parse_index_path(path: str) -> tuple[int, int]:
    """Parse ``x001/x234/067[.p/W]`` into (index, width); only the canonical spelling.

    Exactly the paths :func:`tile_path` writes are read: anything else (leading zeros, an
    ``x000`` group, a width of 256, a trailing newline) raises :class:`NotFound`.
    """
    if len(path) > _MAX_PATH:
        raise _no_tile("path", path)
    body, partial, width_text = path.partition(".p/")
    if not _INDEX.fullmatch(body) or (partial and not _WIDTH.fullmatch(width_text)):
        raise _no_tile("path", path)
    width = int(width_text) if partial else TILE_WIDTH
    index = int(body.replace("x", "").replace("/", ""))
    if (partial and width >= TILE_WIDTH) or encode_index(index) != body:
        raise _no_tile("path", path)
    if index > MAX_TILE_INDEX:
        raise NotFound(f"tile index {index} is beyond any log", details={"index": index})
    return index, width


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length and its bytes."""
    out = bytearray()
    for entry in entries:
        if len(entry) > 0xFFFF:
            raise InvalidInput("an entry bundle holds entries of at most 65 535 bytes")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def decode_bundle(data: bytes) -> list[bytes]:
    """Split an entry bundle back into entries."""
    out, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise IntegrityFailure("the entry bundle ends inside a length prefix")
        n = int.from_bytes(data[at : at + 2], "big")
        if at + 2 + n > len(data):
            raise IntegrityFailure("the entry bundle ends inside an entry")
        out.append(data[at + 2 : at + 2 + n])
        at += 2 + n
    return out

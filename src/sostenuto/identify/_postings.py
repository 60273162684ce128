"""The coarse posting table of a segment: which track holds a hash, and about when.

A posting is the pair ``(hash, slot)``: the slot numbers the segment's half-second bins
(``COARSE_FRAMES`` frames) track after track, so one integer says both which track and
where in it. Postings are sorted by hash, then slot. The 25-bit hash space is cut into
``2 ** block_bits`` blocks by its top bits; ``blocks.npy`` holds where each block starts,
and each posting stores only what the block does not say — the hash's low bits and the
slot — as one fixed-width field (``_bitpack``). ``block_bits`` is chosen per segment for
the smallest total (directory plus fields), about 3.3 bytes a posting from one hour of
audio to ten thousand hours.

A lookup finds each query hash's run inside its block by a vectorised binary search (a
block holds a few dozen postings), and decodes only the postings of those runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sostenuto.errors import IntegrityFailure, InvalidInput
from sostenuto.identify._bitpack import MAX_WIDTH, PackedArray, pack

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

KEY_BITS = 25  # triplet hashes (_hashes): d12 7 | d23 7 | ratio 4 | band 4 | span 3
COARSE_FRAMES = 32  # frames per slot (0.512 s): the candidate ranking's offset bin
_BLOCKS = "blocks.npy"
_FIELDS = "postings.npy"


@dataclass(frozen=True)
class TableShape:
    """How a segment's postings are packed (stored in its catalog.json)."""

    count: int
    block_bits: int
    slot_bits: int

    @property
    def width(self) -> int:
        return KEY_BITS - self.block_bits + self.slot_bits

    def as_dict(self) -> dict[str, int]:
        return {"count": self.count, "block_bits": self.block_bits, "slot_bits": self.slot_bits}


def _best_shape(count: int, slot_bits: int) -> TableShape:
    """The block size that makes directory plus fields smallest."""
    entry_bits = 32 if count < (1 << 32) else 64
    best: tuple[int, int] | None = None
    for block_bits in range(KEY_BITS + 1):
        if KEY_BITS - block_bits + slot_bits > MAX_WIDTH:
            continue
        total = entry_bits * ((1 << block_bits) + 1) + count * (KEY_BITS - block_bits + slot_bits)
        if best is None or total < best[0]:
            best = (total, block_bits)
    if best is None:
        raise InvalidInput("a segment has too many slots to pack; split it")
    return TableShape(count, best[1], slot_bits)


def write_table(folder: Path, keys: U32, slots: U64, slot_bits: int) -> TableShape:
    """Sort and pack postings ``(keys[i], slots[i])`` into ``folder``; returns their shape."""
    keys = np.asarray(keys, dtype=np.uint64)
    slots = np.asarray(slots, dtype=np.uint64)
    if keys.size and int(keys.max()) >> KEY_BITS:
        raise InvalidInput(f"a hash does not fit in {KEY_BITS} bits")
    if slots.size and int(slots.max()) >> slot_bits:
        raise InvalidInput(f"a slot does not fit in {slot_bits} bits")
    shape = _best_shape(int(keys.size), slot_bits)
    combined = np.sort((keys << np.uint64(slot_bits)) | slots)
    low_bits = shape.width
    block = combined >> np.uint64(low_bits)
    counts = np.bincount(block.astype(np.int64), minlength=1 << shape.block_bits)
    starts = np.zeros(counts.size + 1, dtype=np.uint32 if keys.size < (1 << 32) else np.uint64)
    np.cumsum(counts, out=starts[1:])
    del block
    combined &= np.uint64((1 << low_bits) - 1)
    _save(folder / _BLOCKS, starts)
    _save(folder / _FIELDS, pack(combined, low_bits))
    return shape


def _save(path: Path, array: npt.NDArray[Any]) -> None:
    with open(path, "wb") as handle:
        np.save(handle, array)
        handle.flush()
        os.fsync(handle.fileno())


class PostingTable:
    """A segment's packed postings, memory-mapped."""

    def __init__(self, folder: Path, shape: TableShape) -> None:
        self.shape = shape
        self.starts: npt.NDArray[np.integer] = np.load(folder / _BLOCKS, mmap_mode="r")
        if self.starts.size != (1 << shape.block_bits) + 1 or int(self.starts[-1]) != shape.count:
            raise IntegrityFailure(f"index segment {folder.name}: block directory does not match")
        data = np.load(folder / _FIELDS, mmap_mode="r")
        self.fields = PackedArray(data, shape.count, shape.width)

    @classmethod
    def from_catalog(cls, folder: Path, entry: dict[str, Any]) -> PostingTable:
        return cls(folder, TableShape(**entry))

    def __len__(self) -> int:
        return self.shape.count

    def _bound(self, lo: I64, hi: I64, target: U64) -> I64:
        """First position in ``[lo, hi)`` whose field is not below ``target`` (vectorised)."""
        lo, hi = lo.copy(), hi.copy()
        active = np.flatnonzero(lo < hi)
        while active.size:
            mid = (lo[active] + hi[active]) >> 1
            below = self.fields.get(mid) < target[active]
            lo[active] = np.where(below, mid + 1, lo[active])
            hi[active] = np.where(below, hi[active], mid)
            active = active[lo[active] < hi[active]]
        return lo

    def lookup(self, hashes: U32, max_postings: int) -> tuple[I64, U64]:
        """Every posting of ``hashes``: the query row it answers and its slot.

        Hashes with more than ``max_postings`` postings are skipped: that common, they carry
        no evidence and only cost time."""
        shape = self.shape
        hashes = np.asarray(hashes, dtype=np.uint64)
        low_key_bits = KEY_BITS - shape.block_bits
        block = (hashes >> np.uint64(low_key_bits)).astype(np.int64)
        start = np.asarray(self.starts[block], dtype=np.int64)
        end = np.asarray(self.starts[block + 1], dtype=np.int64)
        low = (hashes & np.uint64((1 << low_key_bits) - 1)) << np.uint64(shape.slot_bits)
        first = self._bound(start, end, low)
        last = self._bound(first, end, low + np.uint64(1 << shape.slot_bits))
        counts = last - first
        counts[counts > max_postings] = 0
        total = int(counts.sum())
        rows = np.repeat(np.arange(hashes.size, dtype=np.int64), counts)
        offsets = np.repeat(first - (np.cumsum(counts) - counts), counts)
        positions = offsets + np.arange(total, dtype=np.int64)
        slots = self.fields.get(positions) & np.uint64((1 << shape.slot_bits) - 1)
        return rows, slots

    def decode_all(self) -> tuple[U32, U64]:
        """Every posting as ``(hash, slot)``, in table order (for compaction)."""
        shape = self.shape
        blocks = np.repeat(
            np.arange(1 << shape.block_bits, dtype=np.uint64),
            np.diff(np.asarray(self.starts, dtype=np.int64)).astype(np.int64),
        )
        fields = self.fields.all()
        low_key = fields >> np.uint64(shape.slot_bits)
        keys = (blocks << np.uint64(KEY_BITS - shape.block_bits)) | low_key
        slots = fields & np.uint64((1 << shape.slot_bits) - 1)
        return keys.astype(np.uint32), slots

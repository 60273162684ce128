"""Fixed-width bit packing: unsigned integers of ``width`` bits laid end to end in bytes.

Value ``i`` occupies bits ``i * width`` … ``i * width + width - 1`` of the little-endian bit
stream, so any value is read with one unaligned 64-bit load and a shift (``width`` ≤ 57).
The packed bytes are followed by 8 bytes of padding so that load never runs off the end.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sostenuto.errors import IntegrityFailure, InvalidInput

U8 = npt.NDArray[np.uint8]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

MAX_WIDTH = 57
_PADDING = 8


def packed_bytes(count: int, width: int) -> int:
    """Bytes :func:`pack` writes for ``count`` values of ``width`` bits, padding included."""
    return (count * width + 7) // 8 + _PADDING


def pack(values: npt.NDArray[np.integer], width: int) -> U8:
    """``values`` (each below ``2 ** width``) as a fixed-width bit stream."""
    if not 0 <= width <= MAX_WIDTH:
        raise InvalidInput(f"bit width {width} is outside 0…{MAX_WIDTH}")
    values = np.asarray(values, dtype=np.uint64)
    out = np.zeros(packed_bytes(values.size, width), dtype=np.uint8)
    if width == 0 or values.size == 0:
        return out
    if int(values.max()) >> width:
        raise InvalidInput(f"a value does not fit in {width} bits")
    # 64 values of ``width`` bits fill exactly ``width`` 64-bit words: pack them a column
    # at a time (64 whole-array steps), each value landing in one word or straddling two.
    rows = -(-values.size // 64)
    flat = np.zeros(rows * 64, dtype=np.uint64)
    flat[: values.size] = values
    grid = flat.reshape(rows, 64)
    words = np.zeros((rows, width + 1), dtype=np.uint64)
    for column in range(64):
        bit = column * width
        word, offset = bit >> 6, bit & 63
        words[:, word] |= grid[:, column] << np.uint64(offset)
        if offset + width > 64:
            words[:, word + 1] |= grid[:, column] >> np.uint64(64 - offset)
    stream = words[:, :width].astype("<u8").view(np.uint8).ravel()
    used = (values.size * width + 7) // 8
    out[:used] = stream[:used]
    return out


class PackedArray:
    """Random access to a stream written by :func:`pack` (in memory or memory-mapped)."""

    def __init__(self, data: U8, count: int, width: int) -> None:
        if data.size < packed_bytes(count, width) or not 0 <= width <= MAX_WIDTH:
            raise IntegrityFailure("a packed array is shorter than its header says")
        self.count = count
        self.width = width
        # An unaligned view: element ``i`` is the 64-bit word starting at byte ``i``.
        words = max(data.size - _PADDING + 1, 0)
        self._words: U64 = np.ndarray((words,), dtype="<u8", buffer=data, strides=(1,))
        self._mask = np.uint64((1 << width) - 1)

    def __len__(self) -> int:
        return self.count

    def get(self, positions: I64) -> U64:
        """The values at ``positions`` (each in ``0 … count - 1``)."""
        positions = np.asarray(positions, dtype=np.int64)
        if self.width == 0:
            return np.zeros(positions.shape, dtype=np.uint64)
        bit = positions * self.width
        words = self._words[bit >> 3]
        values: U64 = (words >> (bit & 7).astype(np.uint64)) & self._mask
        return values

    def all(self) -> U64:
        return self.get(np.arange(self.count, dtype=np.int64))

"""Audio files with the properties real files in the wild have, built here from scratch.

- :func:`ogg_with_empty_last_packet`: an Ogg Vorbis stream whose last page holds one
  zero-length packet, as VLC writes them (supertux-data's ``music/misc/christmas_theme.ogg``
  and ``sounds/thud.ogg``). The in-process decoder refused such files with "Invalid argument
  while decoding" until it skipped empty packets.
- :func:`tiny_mod`: a ProTracker module (4 channels, ``M.K.``) of a few notes on one looped
  sine sample; FFmpeg reads it through libopenmpt.
"""

from __future__ import annotations

import math
import struct
import subprocess
from pathlib import Path

import numpy as np

from sostenuto.audio import write_wav
from tests.identify.conftest import render_piece


def _ogg_crc(data: bytes) -> int:
    """The Ogg page checksum: CRC-32, polynomial 0x04C11DB7, not reflected, initial 0."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def ogg_pages(data: bytes) -> list[tuple[int, int, int, list[int]]]:
    """Each page's (offset, header type flags, granule position, lacing values)."""
    pages, position = [], 0
    while position < len(data):
        assert data[position : position + 4] == b"OggS", f"no Ogg page at {position}"
        flags, granule = struct.unpack_from("<Bq", data, position + 5)
        count = data[position + 26]
        lacing = list(data[position + 27 : position + 27 + count])
        pages.append((position, flags, granule, lacing))
        position += 27 + count + sum(lacing)
    return pages


def _page(flags: int, granule: int, serial: int, sequence: int, lacing: list[int]) -> bytes:
    header = b"OggS" + struct.pack("<BBqIII", 0, flags, granule, serial, sequence, 0)
    page = bytearray(header + bytes([len(lacing), *lacing]))
    struct.pack_into("<I", page, 22, _ogg_crc(bytes(page)))
    return bytes(page)


def ogg_with_empty_last_packet(path: Path, seconds: float = 6.0) -> Path:
    """An Ogg Vorbis file ending, as VLC's do, on a page with one zero-length packet.

    The stream is encoded by the ffmpeg CLI; its last page loses the end-of-stream flag and
    a page follows with the same granule position, the flag and a single lacing value 0."""
    rate = 44100
    source = write_wav(path.with_suffix(".source.wav"), render_piece(3, seconds, rate), rate)
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source)]
    subprocess.run([*command, "-c:a", "libvorbis", str(path)], check=True)
    data = bytearray(path.read_bytes())
    offset, flags, granule, lacing = ogg_pages(bytes(data))[-1]
    serial, sequence = struct.unpack_from("<II", data, offset + 14)
    data[offset + 5] = flags & ~0x04  # no longer the last page
    struct.pack_into("<I", data, offset + 22, 0)
    end = offset + 27 + len(lacing) + sum(lacing)
    struct.pack_into("<I", data, offset + 22, _ogg_crc(bytes(data[offset:end])))
    data += _page(0x04, granule, serial, sequence + 1, [0])
    path.write_bytes(bytes(data))
    return path


# ProTracker periods of C-2 up to C-3 (a major scale).
_SCALE = (428, 381, 339, 320, 285, 254, 226, 214)


def tiny_mod(notes: tuple[int, ...] = _SCALE, rows_per_note: int = 4) -> bytes:
    """A valid 31-sample ProTracker module: one pattern, notes on channel 1, 7.68 s long."""
    cycle = np.round(100 * np.sin(2 * math.pi * np.arange(32) / 32)).astype(np.int8).tobytes()
    words = len(cycle) // 2
    sine = b"sine".ljust(22, b"\0") + struct.pack(">HBBHH", words, 0, 64, 0, words)
    unused = bytes(22) + struct.pack(">HBBHH", 0, 0, 0, 0, 1)
    header = b"sostenuto test".ljust(20, b"\0") + sine + unused * 30
    header += bytes([1, 127]) + bytes(128) + b"M.K."  # one position: pattern 0
    pattern = bytearray(64 * 4 * 4)  # 64 rows of 4 channels, 4 bytes a note
    for number, period in enumerate(notes):
        cell = number * rows_per_note * 16
        # sample 1 (high nibble 0, low nibble 1), the period, no effect
        pattern[cell : cell + 4] = bytes([period >> 8, period & 0xFF, 0x10, 0])
    return header + bytes(pattern) + cycle

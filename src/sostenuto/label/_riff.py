"""The label in WAV/BWF's own chunks: RIFF ``LIST/INFO`` and, where absent, a BWF ``bext``.

mutagen writes the ID3 chunk (the machine-readable label every reader of ours uses); many WAV
tools show only INFO and bext, so the label goes there too: ``ICMT`` (comment) holds the
fields as ``NAME=value; …``, ``ISFT`` (software) the generating model, and a new ``bext``
chunk (EBU Tech 3285 v1) says it in words, with the watermark id as OriginatorReference. An
existing ``bext`` is left as it is: it belongs to whoever made the broadcast file. Other INFO
entries are kept.
"""

from __future__ import annotations

import datetime as dt
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from sostenuto.errors import UnsupportedFormat

_BEXT_V1_SIZE = 602  # description 256, originator 32, reference 32, date 10, time 8,
# time reference 8, version 2, UMID 64, reserved 190
_OURS = "AI_GENERATED=true"


@dataclass
class _Chunk:
    ident: bytes
    data: bytes


def _chunks(raw: bytes, name: str) -> list[_Chunk]:
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise UnsupportedFormat(
            f"{name} is not a RIFF/WAVE file (RF64 and other WAV variants cannot carry INFO tags)",
            details={"layer": "metadata", "format": "wav"},
        )
    found: list[_Chunk] = []
    offset = 12
    while offset + 8 <= len(raw):
        ident, size = raw[offset : offset + 4], struct.unpack("<I", raw[offset + 4 : offset + 8])[0]
        data = raw[offset + 8 : offset + 8 + size]
        if len(data) < size:
            raise UnsupportedFormat(f"{name}: chunk {ident!r} is truncated")
        found.append(_Chunk(ident, data))
        offset += 8 + size + (size & 1)
    return found


def _pack(chunks: list[_Chunk]) -> bytes:
    body = b"".join(
        c.ident + struct.pack("<I", len(c.data)) + c.data + (b"\0" if len(c.data) & 1 else b"")
        for c in chunks
    )
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def _info_entries(data: bytes) -> list[tuple[bytes, bytes]]:
    entries = []
    offset = 4  # past b"INFO"
    while offset + 8 <= len(data):
        ident, size = (
            data[offset : offset + 4],
            struct.unpack("<I", data[offset + 4 : offset + 8])[0],
        )
        entries.append((ident, data[offset + 8 : offset + 8 + size]))
        offset += 8 + size + (size & 1)
    return entries


def _info_chunk(entries: list[tuple[bytes, bytes]]) -> _Chunk:
    body = b"INFO" + b"".join(
        ident + struct.pack("<I", len(value)) + value + (b"\0" if len(value) & 1 else b"")
        for ident, value in entries
    )
    return _Chunk(b"LIST", body)


def _text(value: str, size: int | None = None) -> bytes:
    encoded = value.encode("utf-8")
    if size is None:
        return encoded + b"\0"
    return encoded[:size].ljust(size, b"\0")


def comment_text(fields: dict[str, str]) -> str:
    """``NAME=value; …`` with ``%`` and ``;`` percent-escaped, so any value reads back whole."""
    return "; ".join(
        f"{key}={value.replace('%', '%25').replace(';', '%3B')}" for key, value in fields.items()
    )


def _unescape(value: str) -> str:
    return value.replace("%3B", ";").replace("%25", "%")


def _bext(fields: dict[str, str], now: dt.datetime) -> _Chunk:
    words = (
        f"AI-generated audio ({fields.get('DIGITAL_SOURCE_TYPE', '').rsplit('/', 1)[-1]}), "
        f"model {fields.get('AI_MODEL', '?')}, licensee {fields.get('AI_LICENSEE', '?')}"
    )
    mark = fields.get("SOSTENUTO_WATERMARK_ID")
    data = (
        _text(words, 256)
        + _text("Sostenuto", 32)
        + _text(f"SOSTENUTO-WM-{mark}" if mark else "", 32)
        + _text(now.strftime("%Y-%m-%d"), 10)
        + _text(now.strftime("%H:%M:%S"), 8)
        + struct.pack("<QH", 0, 1)
        + bytes(64 + 190)
    )
    assert len(data) == _BEXT_V1_SIZE
    return _Chunk(b"bext", data)


def write_riff_label(path: str | Path, fields: dict[str, str]) -> None:
    """Put the label into ``path``'s INFO (and a new bext) chunk; atomic replace."""
    path = Path(path)
    chunks = _chunks(path.read_bytes(), path.name)
    comment = comment_text(fields).encode("utf-8") + b"\0"
    software = _text(fields.get("AI_MODEL", ""))
    info_at = next(
        (i for i, c in enumerate(chunks) if c.ident == b"LIST" and c.data[:4] == b"INFO"), None
    )
    entries = _info_entries(chunks[info_at].data) if info_at is not None else []
    entries = [(k, v) for k, v in entries if k not in (b"ICMT", b"ISFT")]
    entries += [(b"ISFT", software), (b"ICMT", comment)]
    if info_at is None:
        chunks.append(_info_chunk(entries))
    else:
        chunks[info_at] = _info_chunk(entries)
    if not any(c.ident == b"bext" for c in chunks):
        # BWF puts bext before the audio; after fmt is where readers look first.
        fmt_at = next((i for i, c in enumerate(chunks) if c.ident == b"fmt "), 0)
        chunks.insert(fmt_at + 1, _bext(fields, dt.datetime.now(dt.UTC)))
    packed = _pack(chunks)
    if len(packed) > 0xFFFFFFFF:
        raise UnsupportedFormat(f"{path.name} would exceed the 4 GiB RIFF limit")
    temporary = path.with_name(f".{path.name}.riff-tmp")
    with open(temporary, "wb") as handle:
        handle.write(packed)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def read_riff_label(path: str | Path) -> dict[str, str]:
    """The label fields found in INFO's comment (ours only), plus INFO/bext text as shown."""
    path = Path(path)
    found: dict[str, str] = {}
    for chunk in _chunks(path.read_bytes(), path.name):
        if chunk.ident == b"LIST" and chunk.data[:4] == b"INFO":
            for ident, value in _info_entries(chunk.data):
                if ident == b"ICMT":
                    text = value.rstrip(b"\0").decode("utf-8", errors="replace")
                    if text.startswith(_OURS):
                        for part in text.split("; "):
                            key, _, item = part.partition("=")
                            found[key] = _unescape(item)
        elif chunk.ident == b"bext":
            description = chunk.data[:256].rstrip(b"\0").decode("utf-8", errors="replace")
            if description:
                found["BEXT_DESCRIPTION"] = description
    return found

"""AI labels in each format's own tags, written and read with mutagen.

The same field names go into each format's conventional free-text slot: ID3v2 ``TXXX`` frames
(MP3, and the ``id3 `` chunk of WAV/BWF, which also gets INFO and bext: see ``_riff``), Vorbis
comments (FLAC, Ogg Vorbis, Ogg Opus) and MP4 freeform atoms ``----:com.sostenuto:<NAME>``
(M4A). Fields: AI_GENERATED ("true"), DIGITAL_SOURCE_TYPE (IPTC URI), AI_MODEL,
AI_LICENSEE, SOSTENUTO_LOG_ENTRY, SOSTENUTO_LICENCE, SOSTENUTO_CONSENT,
SOSTENUTO_WATERMARK_ID (8 hex digits). Other tags in the file are kept.
docs/labelling.md has the table.

The IPTC digital source type also goes where other tools look for it: XMP
``Iptc4xmpExt:DigitalSourceType`` (IPTC Photo Metadata Standard, read the same way for audio),
in an XMP packet carried by an ID3v2 ``PRIV`` frame owned by ``XMP`` (XMP Specification
Part 3, MP3; WAV's ``id3 `` chunk gets the same frame). A foreign XMP packet is left alone.
"""

from __future__ import annotations

import re
from html import escape, unescape
from pathlib import Path
from typing import Any

import mutagen
from mutagen.flac import FLAC
from mutagen.id3 import PRIV, TXXX
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, MP4FreeForm
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from sostenuto.errors import UnsupportedFormat
from sostenuto.label._model import Label, MetadataFinding
from sostenuto.label._riff import read_riff_label, write_riff_label

MP4_PREFIX = "----:com.sostenuto:"
FIELDS = (
    "AI_GENERATED",
    "DIGITAL_SOURCE_TYPE",
    "AI_MODEL",
    "AI_LICENSEE",
    "SOSTENUTO_LOG_ENTRY",
    "SOSTENUTO_LICENCE",
    "SOSTENUTO_CONSENT",
    "SOSTENUTO_WATERMARK_ID",
)


def label_fields(label: Label) -> dict[str, str]:
    values = {
        "AI_GENERATED": "true",
        "DIGITAL_SOURCE_TYPE": label.source_type_uri,
        "AI_MODEL": label.model,
        "AI_LICENSEE": label.licensee,
        "SOSTENUTO_LOG_ENTRY": label.log_entry_id,
        "SOSTENUTO_LICENCE": label.licence_ref,
        "SOSTENUTO_CONSENT": label.consent_ref,
        "SOSTENUTO_WATERMARK_ID": (
            None if label.watermark_id is None else f"{label.watermark_id:08x}"
        ),
    }
    return {key: value for key, value in values.items() if value is not None}


# mutagen's classes are untyped; they are handled as Any behind these names.
_TXXX: Any = TXXX
_PRIV: Any = PRIV

IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
XMP_FIELD = "XMP_DIGITAL_SOURCE_TYPE"
_XMP_TOOL = "Sostenuto"  # xmp:CreatorTool of our packets: the ones we may replace
_XMP_VALUE = re.compile(
    rb"<Iptc4xmpExt:DigitalSourceType>([^<]*)</Iptc4xmpExt:DigitalSourceType>"
    rb'|Iptc4xmpExt:DigitalSourceType="([^"]*)"'
)


def xmp_packet(source_type_uri: str) -> bytes:
    """A minimal XMP packet stating the IPTC digital source type."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        f'    xmlns:Iptc4xmpExt="{IPTC_EXT}"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/">\n'
        f"   <Iptc4xmpExt:DigitalSourceType>{escape(source_type_uri)}"
        "</Iptc4xmpExt:DigitalSourceType>\n"
        f"   <xmp:CreatorTool>{_XMP_TOOL}</xmp:CreatorTool>\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    ).encode()


def xmp_source_type(packet: bytes) -> str | None:
    """The digital source type an XMP packet states, if any."""
    found = _XMP_VALUE.search(packet)
    if found is None:
        return None
    return unescape((found.group(1) or found.group(2) or b"").decode(errors="replace"))


_FREEFORM: Any = MP4FreeForm


def _kind(handle: Any) -> str:
    kinds: list[tuple[type, str]] = [
        (MP3, "id3"),
        (WAVE, "id3"),
        (FLAC, "vorbis"),
        (OggVorbis, "vorbis"),
        (OggOpus, "vorbis"),
        (MP4, "mp4"),
    ]
    for cls, kind in kinds:
        if isinstance(handle, cls):
            return kind
    raise UnsupportedFormat(
        f"the metadata layer cannot be carried by {type(handle).__name__} files",
        details={"layer": "metadata", "format": type(handle).__name__},
    )


def _open(path: Path) -> Any:
    try:
        handle: Any = mutagen.File(str(path))
    except mutagen.MutagenError as error:
        raise UnsupportedFormat(f"cannot read tags of {path.name}: {error}") from None
    if handle is None:
        raise UnsupportedFormat(f"the metadata layer cannot be carried by {path.name}")
    return handle


def _write_id3(tags: Any, values: dict[str, str]) -> None:
    for key in FIELDS:
        tags.delall(f"TXXX:{key}")
    for key, value in values.items():
        tags.add(_TXXX(encoding=3, desc=key, text=[value]))
    packets = [frame for frame in tags.getall("PRIV") if frame.owner == "XMP"]
    if any(f"<xmp:CreatorTool>{_XMP_TOOL}<".encode() not in p.data for p in packets):
        return  # another tool's XMP: ours would replace it, so it stays as it is
    for frame in packets:
        del tags[frame.HashKey]
    tags.add(_PRIV(owner="XMP", data=xmp_packet(values["DIGITAL_SOURCE_TYPE"])))


def write_metadata(path: str | Path, label: Label) -> None:
    """Write the label into ``path``'s tags, in place (callers pass a working copy)."""
    path = Path(path)
    handle = _open(path)
    values = label_fields(label)
    kind = _kind(handle)
    if handle.tags is None:
        handle.add_tags()
    tags = handle.tags
    if kind == "id3":
        _write_id3(tags, values)
        if isinstance(handle, MP3):
            handle.save(v2_version=4)
        else:
            handle.save()
            write_riff_label(path, values)
        return
    for key in FIELDS:
        name = MP4_PREFIX + key if kind == "mp4" else key
        if name in tags:
            del tags[name]
    for key, value in values.items():
        if kind == "mp4":
            tags[MP4_PREFIX + key] = [_FREEFORM(value.encode())]
        else:
            tags[key] = [value]
    handle.save()


def read_metadata(path: str | Path) -> MetadataFinding:
    """The label fields found in ``path``'s tags."""
    path = Path(path)
    handle = _open(path)
    kind = _kind(handle)
    found: dict[str, str] = {}
    tags: Any = handle.tags
    if tags is not None:
        for key in FIELDS:
            value: str | None = None
            if kind == "id3":
                frames = tags.getall(f"TXXX:{key}")
                value = str(frames[0].text[0]) if frames else None
            elif kind == "mp4":
                atoms = tags.get(MP4_PREFIX + key)
                value = bytes(atoms[0]).decode(errors="replace") if atoms else None
            else:
                items = tags.get(key)
                value = str(items[0]) if items else None
            if value is not None:
                found[key] = value
    if tags is not None and kind == "id3":
        for frame in tags.getall("PRIV"):
            stated = xmp_source_type(frame.data) if frame.owner == "XMP" else None
            if stated:
                found[XMP_FIELD] = stated
    if isinstance(handle, WAVE):
        # The ID3 chunk wins; INFO/bext fill in when a tool dropped it (they often do).
        for key, value in read_riff_label(path).items():
            found.setdefault(key, value)
    return MetadataFinding(
        present=bool(found),
        ai_generated=found.get("AI_GENERATED", "").lower() == "true",
        fields=found,
    )

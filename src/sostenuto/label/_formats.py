"""Which container a file is, and which label layers that container can carry."""

from __future__ import annotations

from pathlib import Path

import mutagen
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from sostenuto.errors import UnsupportedFormat

FORMATS = ("wav", "flac", "mp3", "ogg-vorbis", "ogg-opus", "mp4")

# C2PA (c2pa-python) embeds manifests in WAV, FLAC, MP3 and MP4 audio; it has no Ogg binding.
_C2PA = {"wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg", "mp4": "audio/mp4"}
# How a marked signal is written back: (ffmpeg codec, ffmpeg container), None = soundfile.
ENCODERS: dict[str, tuple[str, str] | None] = {
    "wav": None,
    "flac": None,
    "mp3": ("libmp3lame", "mp3"),
    "ogg-vorbis": ("libvorbis", "ogg"),
    "ogg-opus": ("libopus", "ogg"),
    "mp4": ("aac", "mp4"),
}
_BY_TYPE: list[tuple[type, str]] = [
    (WAVE, "wav"),
    (FLAC, "flac"),
    (MP3, "mp3"),
    (OggVorbis, "ogg-vorbis"),
    (OggOpus, "ogg-opus"),
    (MP4, "mp4"),
]


def detect_format(path: str | Path) -> str:
    """The container of ``path``, from its bytes (not its name)."""
    try:
        handle = mutagen.File(str(path))
    except mutagen.MutagenError as error:
        raise UnsupportedFormat(f"cannot read {Path(path).name}: {error}") from None
    for kind, name in _BY_TYPE:
        if isinstance(handle, kind):
            return name
    raise UnsupportedFormat(
        f"{Path(path).name} is not a supported audio container (supported: {', '.join(FORMATS)})"
    )


def c2pa_mime(file_format: str) -> str:
    """The MIME type c2pa uses for ``file_format``; UnsupportedFormat if it has none."""
    mime = _C2PA.get(file_format)
    if mime is None:
        raise UnsupportedFormat(
            f"the c2pa layer cannot be carried by {file_format} files "
            f"(C2PA manifests embed in: {', '.join(_C2PA)})",
            details={"layer": "c2pa", "format": file_format},
        )
    return mime


def supports(file_format: str, layer: str) -> bool:
    if layer == "c2pa":
        return file_format in _C2PA
    return file_format in FORMATS

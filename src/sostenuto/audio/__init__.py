"""Audio decoding in one place: every capability reads audio through here."""

from sostenuto.audio._decode import (
    Audio,
    decode,
    decode_bytes,
    probe_bit_rate,
    probe_duration,
    write_wav,
)
from sostenuto.audio._formats import (
    AUDIO_SUFFIXES,
    TRACKER_SUFFIXES,
    has_audio_suffix,
    is_audio_file,
    probe_audio,
)

__all__ = [
    "AUDIO_SUFFIXES",
    "TRACKER_SUFFIXES",
    "Audio",
    "decode",
    "decode_bytes",
    "has_audio_suffix",
    "is_audio_file",
    "probe_audio",
    "probe_bit_rate",
    "probe_duration",
    "write_wav",
]

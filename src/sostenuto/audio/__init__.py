"""Audio decoding in one place: every capability reads audio through here."""

from sostenuto.audio._decode import (
    Audio,
    decode,
    decode_bytes,
    probe_bit_rate,
    probe_duration,
    write_wav,
)

__all__ = ["Audio", "decode", "decode_bytes", "probe_bit_rate", "probe_duration", "write_wav"]

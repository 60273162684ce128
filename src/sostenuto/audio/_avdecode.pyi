"""In-process decoding with FFmpeg's libraries (``_avdecode.c``); built only where they are."""

import os

class DecodeError(Exception):
    """libav could not open or decode the file; the message carries its reason."""

def decode(path: str | os.PathLike[str], sample_rate: int, fast_resample: bool) -> bytearray:
    """The first audio stream of ``path`` as mono native float32 at ``sample_rate``."""

"""Which files are audio: one list of accepted file name extensions, and a probe for the rest.

Everything that lists audio files (corpus folders, calibration sets, catalogue imports) asks
here, so a format the decoder reads is never skipped in one place and read in another. The
list names the usual audio containers and the tracker module formats FFmpeg reads through
libopenmpt; a file with any other name is audio when ffprobe finds an audio stream in it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

# Tracker modules: FFmpeg reads them through libopenmpt (Debian's ffmpeg is built with it),
# in process as well as on the command line. These are libopenmpt's own extensions.
TRACKER_SUFFIXES = frozenset(
    "." + name
    for name in [
        "mod",
        "it",
        "s3m",
        "xm",
        "mptm",
        "669",
        "amf",
        "ams",
        "dbm",
        "digi",
        "dmf",
        "dsm",
        "far",
        "gdm",
        "imf",
        "j2b",
        "m15",
        "mdl",
        "med",
        "mo3",
        "mt2",
        "mtm",
        "okt",
        "plm",
        "psm",
        "ptm",
        "stm",
        "ult",
        "umx",
        "wow",
    ]
)

AUDIO_SUFFIXES = frozenset(
    {
        ".wav",
        ".wave",
        ".flac",
        ".ogg",
        ".oga",
        ".opus",
        ".spx",
        ".mp3",
        ".mp2",
        ".m4a",
        ".m4b",
        ".aac",
        ".mp4",
        ".aif",
        ".aiff",
        ".aifc",
        ".wma",
        ".webm",
        ".mka",
        ".mkv",
        ".caf",
        ".au",
        ".snd",
        ".w64",
        ".wv",
        ".ape",
        ".ac3",
        ".eac3",
        ".dts",
        ".amr",
        ".3gp",
        ".tta",
        ".tak",
        ".mpc",
        ".ra",
        ".voc",
    }
    | TRACKER_SUFFIXES
)


def has_audio_suffix(path: str | Path) -> bool:
    """Whether the file's name ends in an extension of :data:`AUDIO_SUFFIXES` (any case)."""
    return Path(path).suffix.lower() in AUDIO_SUFFIXES


def probe_audio(path: str | Path) -> bool:
    """Whether ffprobe finds an audio stream in ``path`` (any format FFmpeg reads).

    Costs a process start: for files whose name says nothing. False when ffprobe is missing
    or the file is not readable."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None or not Path(path).is_file():
        return False
    command = [ffprobe, "-v", "error", "-select_streams", "a", "-show_entries"]
    command += ["stream=codec_type", "-of", "csv=p=0", f"file:{Path(path).resolve()}"]
    try:
        result = subprocess.run(command, capture_output=True, timeout=60, check=False)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0 and b"audio" in result.stdout


def is_audio_file(path: str | Path, *, probe: bool = True) -> bool:
    """Whether ``path`` is a file to read as audio: its extension, else (``probe``) ffprobe."""
    if not Path(path).is_file():
        return False
    return has_audio_suffix(path) or (probe and probe_audio(path))

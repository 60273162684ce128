"""Decode any file ffmpeg or libsndfile reads into float32 samples, resampled once.

libsndfile (through ``soundfile``) is used when it can read the file and no resampling is
needed, since it avoids a process start. Files resampled to mono at a given rate (what the
fingerprinter asks for) are decoded in process by ``_avdecode``, a C extension on FFmpeg's
libraries with the same resampler settings as the command line, when it was built; everything
else goes through ``ffmpeg``, which decodes and resamples in one pass. A file the extension
refuses is decoded again by ``ffmpeg``, so no file the command line reads is lost. Setting
``SOSTENUTO_DECODER=ffmpeg`` forces the command line, for comparison or should the extension
misbehave.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile

from sostenuto.errors import DependencyMissing, InvalidInput, UnsupportedFormat

try:
    from sostenuto.audio import _avdecode
except ImportError:  # built without FFmpeg's development files: the ffmpeg CLI decodes
    HAVE_AVDECODE = False
else:
    HAVE_AVDECODE = True

_log = logging.getLogger(__name__)

_SOUNDFILE_SUFFIXES = {".wav", ".flac", ".aiff", ".aif", ".ogg"}


@dataclass(frozen=True)
class Audio:
    """Samples as float32 in [-1, 1]: shape ``(n,)`` when mono, ``(n, channels)`` otherwise."""

    samples: npt.NDArray[np.float32]
    sample_rate: int

    @property
    def duration(self) -> float:
        return float(self.samples.shape[0]) / self.sample_rate

    @property
    def channels(self) -> int:
        return 1 if self.samples.ndim == 1 else int(self.samples.shape[1])


def _ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        raise DependencyMissing("ffmpeg is not installed (Debian package 'ffmpeg')")
    return path


def _to_mono(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    if samples.ndim == 1:
        return samples
    mixed: npt.NDArray[np.float32] = samples.mean(axis=1, dtype=np.float32)
    return mixed


# A short resampling filter (libswresample's defaults: filter_size 32, phase_shift 10, cutoff
# 0.97): about 10 % less CPU for a whole decode, with the band from 75 % to 90 % of Nyquist
# 0.1 to 2 dB lower and more above. Good enough for analysis (fingerprints), not for audio
# anyone listens to.
_FAST_RESAMPLER = "filter_size=16:phase_shift=8:cutoff=0.95"


def _ffmpeg_decode(
    source: str, stdin: bytes | None, sample_rate: int | None, mono: bool, fast_resample: bool
) -> Audio:
    probe_channels = None if mono else _channels_of(source, stdin)
    # -flush_packets 0 lets ffmpeg fill its 32 KB output buffer instead of writing every packet
    # (a few hundred bytes at 8 kHz): the same bytes, with a third less CPU on both sides.
    command = [_ffmpeg(), "-nostdin", "-v", "error", "-i", source, "-vn", "-flush_packets", "0"]
    command += ["-f", "f32le"]
    if sample_rate and fast_resample:
        command += ["-af", f"aresample={sample_rate}:{_FAST_RESAMPLER}"]
    if mono:
        command += ["-ac", "1"]
    if sample_rate:
        command += ["-ar", str(sample_rate)]
    command.append("-")
    result = subprocess.run(command, input=stdin, capture_output=True, check=False)
    if result.returncode != 0 or not result.stdout:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        reason = message[-1] if message else "no audio stream"
        raise UnsupportedFormat(f"cannot decode audio: {reason}", details={"source": source})
    samples = np.frombuffer(result.stdout, dtype=np.float32).copy()
    channels = 1 if mono else (probe_channels or 1)
    if channels > 1:
        samples = samples[: samples.size - samples.size % channels].reshape(-1, channels)
    rate = sample_rate or _rate_of(source, stdin)
    return Audio(samples, rate)


def _in_process_available() -> bool:
    """Whether the C extension was built and not turned off with SOSTENUTO_DECODER=ffmpeg."""
    return HAVE_AVDECODE and os.environ.get("SOSTENUTO_DECODER", "").lower() != "ffmpeg"


def _in_process_decode(path: Path, sample_rate: int, fast_resample: bool) -> Audio:
    """Decode, mix down and resample in this process: no ffmpeg process start, no pipe."""
    try:
        # "file:" keeps libavformat from reading a name like "concat:a|b" as a protocol.
        data = _avdecode.decode(f"file:{path.resolve()}", sample_rate, fast_resample)
    except _avdecode.DecodeError as error:
        raise UnsupportedFormat(
            f"cannot decode audio: {error}", details={"source": str(path)}
        ) from None
    if not data:
        raise UnsupportedFormat(
            "cannot decode audio: no audio decoded", details={"source": str(path)}
        )
    return Audio(np.frombuffer(data, dtype=np.float32), sample_rate)


def _ffprobe(source: str, stdin: bytes | None, entries: str) -> list[str]:
    """The values ffprobe prints for ``entries`` (e.g. ``stream=sample_rate``), one per line."""
    ffprobe = shutil.which("ffprobe") or "ffprobe"
    result = subprocess.run(
        [
            ffprobe,
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            entries,
            "-of",
            "default=nw=1:nk=1",
            source,
        ],
        input=stdin,
        capture_output=True,
        check=False,
    )
    return result.stdout.decode().split()


def _ffprobe_field(source: str, stdin: bytes | None, field: str) -> str:
    values = _ffprobe(source, stdin, f"stream={field}")
    return values[0] if values else ""


def _rate_of(source: str, stdin: bytes | None) -> int:
    value = _ffprobe_field(source, stdin, "sample_rate")
    if not value.isdigit():
        raise UnsupportedFormat("cannot read the sample rate", details={"source": source})
    return int(value)


def _channels_of(source: str, stdin: bytes | None) -> int:
    value = _ffprobe_field(source, stdin, "channels")
    return int(value) if value.isdigit() else 1


def _soundfile_rate_fits(path: Path, sample_rate: int | None) -> bool:
    """Whether libsndfile reads ``path`` at the wanted rate; the header is read, not the audio.

    When a resample is needed, ffmpeg decodes and resamples in one pass; decoding with
    libsndfile first would only be thrown away.
    """
    try:
        rate = soundfile.info(str(path)).samplerate
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        return False
    return sample_rate is None or sample_rate == rate


def decode(
    path: str | Path,
    *,
    sample_rate: int | None = None,
    mono: bool = True,
    fast_resample: bool = False,
) -> Audio:
    """Decode ``path``; resample to ``sample_rate`` when given; mix down when ``mono``.

    ``fast_resample`` picks a cheaper, slightly duller resampling filter, for analysis."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"no such audio file: {path}")
    if path.stat().st_size == 0:
        raise UnsupportedFormat(f"empty file: {path}")
    if path.suffix.lower() in _SOUNDFILE_SUFFIXES and _soundfile_rate_fits(path, sample_rate):
        try:
            data, rate = soundfile.read(str(path), dtype="float32", always_2d=False)
        except (soundfile.LibsndfileError, RuntimeError, TypeError):
            pass  # not readable by libsndfile; ffmpeg may still manage
        else:
            samples = _to_mono(data) if mono else data
            return Audio(np.ascontiguousarray(samples, dtype=np.float32), int(rate))
    # The extension writes mono at a chosen rate only: the fingerprinter's case.
    if sample_rate and mono and _in_process_available():
        try:
            return _in_process_decode(path, sample_rate, fast_resample)
        except UnsupportedFormat as refused:
            return _cli_after(refused, path, sample_rate, fast_resample)
    return _ffmpeg_decode(str(path), None, sample_rate, mono, fast_resample)


def _cli_after(refused: UnsupportedFormat, path: Path, sample_rate: int, fast: bool) -> Audio:
    """The command line's decode of a file the extension refused, per file.

    The command line reads every file the extension does and some it refuses (it goes on past
    errors the API reports); a file it reads must never become "unreadable", which would let
    a file evade screening. When it fails too, its reason is given with the extension's."""
    _log.info("in-process decoder refused %s (%s); decoding with the ffmpeg CLI", path, refused)
    try:
        return _ffmpeg_decode(str(path), None, sample_rate, True, fast)
    except DependencyMissing:
        raise refused from None
    except UnsupportedFormat as error:
        raise UnsupportedFormat(
            error.message,
            details={"source": str(path), "in_process": refused.message},
        ) from None


def decode_bytes(
    data: bytes,
    *,
    sample_rate: int | None = None,
    mono: bool = True,
    fast_resample: bool = False,
) -> Audio:
    """Decode an in-memory file (an upload) as :func:`decode` does a file.

    The bytes go to a private temporary file rather than down a pipe: some formats cannot be
    read from a pipe (tracker modules, MP4 with its index at the end), and a file gets the
    in-process decoder and its fallback like any other."""
    if not data:
        raise UnsupportedFormat("empty upload: no audio data")
    with tempfile.TemporaryDirectory(prefix="sostenuto-upload-") as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        try:
            return decode(path, sample_rate=sample_rate, mono=mono, fast_resample=fast_resample)
        except UnsupportedFormat as error:
            # The temporary name means nothing to the caller.
            message = error.message.replace(f"file:{path}", "upload").replace(str(path), "upload")
            raise UnsupportedFormat(message, details={"source": "upload"}) from None


def probe_duration(path: str | Path) -> float:
    """Duration in seconds without decoding the whole file (libsndfile, else ffprobe)."""
    try:
        return float(soundfile.info(str(path)).duration)
    except (soundfile.LibsndfileError, RuntimeError):
        values = _ffprobe(str(path), None, "format=duration")
        text = values[0] if values else ""
        try:
            return float(text)
        except ValueError:
            raise UnsupportedFormat(f"cannot read the duration of {path}") from None


def probe_bit_rate(path: str | Path) -> int | None:
    """Bits per second of the first audio stream, else of the container; None if unknown."""
    values = _ffprobe(str(path), None, "stream=bit_rate:format=bit_rate")
    rates = [int(value) for value in values if value.isdigit()]
    return rates[0] if rates else None


def write_wav(path: str | Path, samples: npt.NDArray[np.floating], sample_rate: int) -> Path:
    """Write 16-bit PCM WAV (what tests and benchmarks hand to encoders)."""
    path = Path(path)
    soundfile.write(str(path), np.clip(samples, -1.0, 1.0), sample_rate, subtype="PCM_16")
    return path

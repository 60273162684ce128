"""The in-process decoder (``_avdecode``) against the ffmpeg CLI path it stands in for.

Every file is synthesised here and encoded with the ffmpeg CLI; both paths must give the same
samples, fail on the same broken files, and yield the same fingerprints.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sostenuto.audio import decode, write_wav
from sostenuto.audio._decode import _ffmpeg_decode
from sostenuto.errors import DependencyMissing, InvalidInput, UnsupportedFormat
from sostenuto.identify import fingerprint_file
from tests.identify.conftest import render_piece

avdecode = pytest.importorskip("sostenuto.audio._avdecode")

pytestmark = pytest.mark.audio

Samples = npt.NDArray[np.float32]

# (suffix, ffmpeg encoder, sample rate, channels): each codec, mono and stereo, three rates.
CASES = [
    ("ogg", "libvorbis", 44100, 2),
    ("ogg", "libvorbis", 22050, 1),
    ("mp3", "libmp3lame", 44100, 2),
    ("mp3", "libmp3lame", 48000, 1),
    ("flac", "flac", 48000, 2),
    ("flac", "flac", 22050, 1),
    ("wav", "pcm_s16le", 44100, 1),
    ("wav", "pcm_f32le", 22050, 2),
    ("m4a", "aac", 44100, 2),
    ("m4a", "aac", 22050, 1),
    ("opus", "libopus", 48000, 2),
    ("opus", "libopus", 48000, 1),
]


def music(rate: int, channels: int, seconds: float = 3.0, seed: int = 5) -> Samples:
    """A synthetic piece; the second channel is another piece, so the mixdown matters."""
    left = render_piece(seed, seconds, rate)
    if channels == 1:
        return left
    return np.stack([left, render_piece(seed + 1, seconds, rate)], axis=1)


def encode(wav: Path, target: Path, encoder: str) -> Path:
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-c:a", encoder]
    subprocess.run([*command, str(target)], check=True)
    return target


def in_process(path: Path, rate: int = 8000, fast: bool = True) -> Samples:
    return np.frombuffer(avdecode.decode(str(path), rate, fast), dtype=np.float32)


def cli(path: Path, rate: int = 8000, fast: bool = True) -> Samples:
    return _ffmpeg_decode(str(path), None, rate, True, fast).samples


def assert_same_audio(ours: Samples, theirs: Samples) -> None:
    assert abs(ours.size - theirs.size) <= 4
    n = min(ours.size, theirs.size)
    assert n > 0
    assert float(np.max(np.abs(ours[:n] - theirs[:n]))) < 1e-4
    assert float(np.corrcoef(ours[:n], theirs[:n])[0, 1]) > 0.999


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, int, int], Path]:
    folder = tmp_path_factory.mktemp("encoded")
    files = {}
    for suffix, encoder, rate, channels in CASES:
        name = f"{encoder}-{rate}-{channels}"
        wav = write_wav(folder / f"{name}.source.wav", music(rate, channels), rate)
        files[suffix, encoder, rate, channels] = encode(wav, folder / f"{name}.{suffix}", encoder)
    return files


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[1]}-{c[2]}-{c[3]}ch")
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "default-filter"])
def test_matches_the_cli(
    encoded: dict[tuple[str, str, int, int], Path], case: tuple[str, str, int, int], fast: bool
) -> None:
    path = encoded[case]
    ours = in_process(path, fast=fast)
    assert_same_audio(ours, cli(path, fast=fast))
    assert abs(ours.size / 8000 - 3.0) < 0.1  # the whole piece, less codec padding


def test_decode_uses_it_and_the_env_var_forces_the_cli(
    encoded: dict[tuple[str, str, int, int], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = encoded["ogg", "libvorbis", 44100, 2]
    # Without ffmpeg on PATH only the in-process decoder can succeed.
    monkeypatch.setenv("PATH", "")
    audio = decode(path, sample_rate=8000, mono=True, fast_resample=True)
    assert audio.sample_rate == 8000
    assert audio.samples.dtype == np.float32
    assert audio.samples.flags.writeable
    assert_same_audio(audio.samples, in_process(path))
    monkeypatch.setenv("SOSTENUTO_DECODER", "ffmpeg")
    with pytest.raises(DependencyMissing):
        decode(path, sample_rate=8000, mono=True, fast_resample=True)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rate=st.integers(min_value=4000, max_value=96000), fast=st.booleans())
def test_any_target_rate_matches_the_cli(
    encoded: dict[tuple[str, str, int, int], Path], rate: int, fast: bool
) -> None:
    path = encoded["flac", "flac", 48000, 2]
    ours = in_process(path, rate, fast)
    assert_same_audio(ours, cli(path, rate, fast))
    assert abs(ours.size - 3 * rate) <= 2


def test_a_layout_the_file_does_not_name_gets_the_usual_one(tmp_path: Path) -> None:
    # Plain PCM WAV with three channels carries no channel mask.
    rate, channels = 16000, 3
    pcm = (np.random.default_rng(1).standard_normal((rate, channels)) * 3000).astype("<i2")
    header = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2, channels * 2, 16)
    body = b"WAVEfmt " + struct.pack("<I", len(header)) + header
    body += b"data" + struct.pack("<I", pcm.nbytes) + pcm.tobytes()
    path = tmp_path / "three.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    assert_same_audio(in_process(path), cli(path))


def test_a_sample_rate_change_mid_file_keeps_both_parts(tmp_path: Path) -> None:
    # A chained Ogg file: a 44.1 kHz mono link, then a 22.05 kHz stereo one.
    first = encode(
        write_wav(tmp_path / "a.wav", music(44100, 1), 44100), tmp_path / "a.ogg", "libvorbis"
    )
    second = write_wav(tmp_path / "b.wav", music(22050, 2, seed=9), 22050)
    second = encode(second, tmp_path / "b.ogg", "libvorbis")
    chained = tmp_path / "chained.ogg"
    chained.write_bytes(first.read_bytes() + second.read_bytes())
    ours = in_process(chained)
    theirs = cli(chained)
    # The CLI drops what its resampler holds at the change (a millisecond); we keep it.
    assert abs(ours.size - theirs.size) <= 16
    assert abs(ours.size - 6 * 8000) < 0.05 * 8000
    head = in_process(first).size - 16
    assert float(np.max(np.abs(ours[:head] - theirs[:head]))) < 1e-4


def test_a_truncated_file_keeps_what_was_decoded(
    encoded: dict[tuple[str, str, int, int], Path], tmp_path: Path
) -> None:
    whole = encoded["mp3", "libmp3lame", 44100, 2].read_bytes()
    path = tmp_path / "half.mp3"
    path.write_bytes(whole[: len(whole) // 2])
    ours = in_process(path)
    assert 0.3 * 3 * 8000 < ours.size < 0.7 * 3 * 8000
    assert_same_audio(ours, cli(path))


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(np.random.default_rng(2).bytes(20000), id="random-bytes"),
        pytest.param(b"OggS\x00\x02" + bytes(40), id="header-only"),
    ],
)
def test_undecodable_files_raise_unsupported_format(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.ogg"
    path.write_bytes(content)
    with pytest.raises(avdecode.DecodeError):
        avdecode.decode(str(path), 8000, True)
    with pytest.raises(UnsupportedFormat):
        decode(path, sample_rate=8000, mono=True, fast_resample=True)
    with pytest.raises(UnsupportedFormat):
        _ffmpeg_decode(str(path), None, 8000, True, True)


def test_an_ogg_cut_inside_its_headers_raises(
    encoded: dict[tuple[str, str, int, int], Path], tmp_path: Path
) -> None:
    path = tmp_path / "cut.ogg"
    path.write_bytes(encoded["ogg", "libvorbis", 44100, 2].read_bytes()[:300])
    with pytest.raises(UnsupportedFormat, match="cannot decode audio"):
        decode(path, sample_rate=8000, mono=True, fast_resample=True)
    with pytest.raises(UnsupportedFormat):
        _ffmpeg_decode(str(path), None, 8000, True, True)


def test_a_file_without_audio_raises_unsupported_format(tmp_path: Path) -> None:
    path = tmp_path / "video.mkv"
    command = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i"]
    command += ["color=c=blue:s=32x32:d=1", "-c:v", "mpeg4", str(path)]
    subprocess.run(command, check=True)
    with pytest.raises(avdecode.DecodeError, match="audio stream"):
        avdecode.decode(str(path), 8000, True)
    with pytest.raises(UnsupportedFormat):
        decode(path, sample_rate=8000, mono=True, fast_resample=True)
    with pytest.raises(UnsupportedFormat):
        _ffmpeg_decode(str(path), None, 8000, True, True)


def test_a_missing_file_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        decode(tmp_path / "nothing.ogg", sample_rate=8000, mono=True, fast_resample=True)
    with pytest.raises(avdecode.DecodeError, match="No such file"):
        avdecode.decode(str(tmp_path / "nothing.ogg"), 8000, True)


def test_fingerprints_agree_between_the_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wav = write_wav(tmp_path / "melody.wav", music(44100, 2, seconds=30.0, seed=11), 44100)
    path = encode(wav, tmp_path / "melody.ogg", "libvorbis")
    ours = fingerprint_file(path)
    monkeypatch.setenv("SOSTENUTO_DECODER", "ffmpeg")
    theirs = fingerprint_file(path)
    assert len(ours) > 500
    same = np.isin(ours.hashes, theirs.hashes).mean()
    assert same >= 0.95

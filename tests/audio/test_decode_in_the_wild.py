"""Files found in the wild: what the ffmpeg command line reads, ``decode`` reads too.

The regression file is built here (``conftest.ogg_with_empty_last_packet``) with the property
of supertux-data's ``music/misc/christmas_theme.ogg``; the package file itself is checked
too when it is in the corpus cache (``benchmarks/corpus.py`` fetches it; never committed).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sostenuto.audio import (
    AUDIO_SUFFIXES,
    TRACKER_SUFFIXES,
    decode,
    decode_bytes,
    has_audio_suffix,
    is_audio_file,
    probe_audio,
    probe_duration,
)
from sostenuto.audio import _decode as decode_module
from sostenuto.audio._decode import _ffmpeg_decode
from sostenuto.errors import UnsupportedFormat
from sostenuto.identify import fingerprint_file
from tests.audio.conftest import ogg_pages, ogg_with_empty_last_packet, tiny_mod

pytestmark = pytest.mark.audio

CORPUS = Path(os.environ.get("SOSTENUTO_CORPUS", Path.home() / ".cache/sostenuto/corpus"))
SUPERTUX = CORPUS / "supertux-data/usr/share/games/supertux2"


def fingerprint_decode(path: Path) -> np.ndarray:
    return decode(path, sample_rate=8000, mono=True, fast_resample=True).samples


def cli(path: Path) -> np.ndarray:
    return _ffmpeg_decode(str(path), None, 8000, True, True).samples


def assert_same(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert ours.size == theirs.size > 0
    assert float(np.max(np.abs(ours - theirs))) < 1e-4


@pytest.fixture(scope="module")
def vlc_ogg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ogg_with_empty_last_packet(tmp_path_factory.mktemp("wild") / "vlc.ogg")


def test_the_synthetic_file_ends_on_an_empty_packet(vlc_ogg: Path) -> None:
    *_, (_, last_flags, last_granule, last_lacing) = ogg_pages(vlc_ogg.read_bytes())
    _, before_flags, before_granule, _ = ogg_pages(vlc_ogg.read_bytes())[-2]
    assert last_lacing == [0] and last_flags == 0x04  # one empty packet, end of stream
    assert last_granule == before_granule and before_flags == 0
    # The command line meets the empty packet as a decoding error, and goes on.
    run = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(vlc_ogg), "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Invalid argument" in run.stderr


def test_an_ogg_ending_on_an_empty_packet_decodes_in_process(vlc_ogg: Path) -> None:
    avdecode = pytest.importorskip("sostenuto.audio._avdecode")
    # Before the fix: DecodeError "Invalid argument while decoding".
    ours = np.frombuffer(avdecode.decode(f"file:{vlc_ogg}", 8000, True), dtype=np.float32)
    assert_same(ours, cli(vlc_ogg))
    assert abs(ours.size / 8000 - 6.0) < 0.05  # all of it
    assert_same(fingerprint_decode(vlc_ogg), ours)
    assert len(fingerprint_file(vlc_ogg)) > 100


@pytest.mark.skipif(not SUPERTUX.is_dir(), reason="supertux-data is not in the corpus cache")
@pytest.mark.parametrize("name", ["music/misc/christmas_theme.ogg", "sounds/thud.ogg"])
def test_the_supertux_files_decode_as_on_the_command_line(name: str) -> None:
    path = SUPERTUX / name
    assert_same(fingerprint_decode(path), cli(path))


def test_a_file_the_extension_refuses_is_decoded_by_the_cli(
    vlc_ogg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    avdecode = pytest.importorskip("sostenuto.audio._avdecode")

    def refuse(path: str, sample_rate: int, fast_resample: bool) -> bytearray:
        # What the extension said about the supertux file before the fix; any refusal of a
        # file the command line reads takes the same way.
        raise avdecode.DecodeError(f"Invalid argument while decoding: {path}")

    monkeypatch.setattr(decode_module._avdecode, "decode", refuse)
    assert_same(fingerprint_decode(vlc_ogg), cli(vlc_ogg))


def test_when_both_refuse_both_reasons_are_given(tmp_path: Path) -> None:
    pytest.importorskip("sostenuto.audio._avdecode")
    path = tmp_path / "noise.ogg"
    path.write_bytes(np.random.default_rng(4).bytes(30_000))
    with pytest.raises(UnsupportedFormat, match="cannot decode audio") as caught:
        fingerprint_decode(path)
    assert caught.value.details["source"] == str(path)
    assert "in_process" in caught.value.details  # the CLI was tried after the extension


# ---------------------------------------------------------------- tracker modules


@pytest.fixture(scope="module")
def module_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tracker") / "tiny.mod"
    path.write_bytes(tiny_mod())
    return path


def test_a_tracker_module_decodes_in_process_and_on_the_command_line(module_file: Path) -> None:
    ours = fingerprint_decode(module_file)
    assert_same(ours, cli(module_file))
    assert 7.5 < ours.size / 8000 < 8.0  # 64 rows at speed 6: 7.68 s, and the last note's tail
    assert float(np.abs(ours).max()) > 0.1  # the notes sound
    # Another rate, stereo: the CLI path.
    stereo = decode(module_file, mono=False)
    assert stereo.channels == 2 and abs(stereo.duration - ours.size / 8000) < 0.01
    assert abs(probe_duration(module_file) - 7.68) < 0.01
    assert len(fingerprint_file(module_file)) > 20


def test_different_tunes_give_different_fingerprints(tmp_path: Path) -> None:
    up = tmp_path / "up.mod"
    down = tmp_path / "down.mod"
    up.write_bytes(tiny_mod())
    down.write_bytes(tiny_mod(notes=(214, 226, 254, 285, 320, 339, 381, 428)))
    a, b = fingerprint_file(up), fingerprint_file(down)
    assert np.isin(a.hashes, b.hashes).mean() < 0.5


@pytest.mark.parametrize("suffix", [".mod", ".it", ".s3m", ".xm", ".MOD", ".IT"])
def test_tracker_modules_are_audio(suffix: str, module_file: Path, tmp_path: Path) -> None:
    assert suffix.lower() in TRACKER_SUFFIXES <= AUDIO_SUFFIXES
    named = tmp_path / f"song{suffix}"
    named.write_bytes(module_file.read_bytes())
    assert has_audio_suffix(named)
    assert is_audio_file(named, probe=False)


def test_the_probe_reads_what_the_name_does_not_say(module_file: Path, tmp_path: Path) -> None:
    unnamed = tmp_path / "track.bin"
    unnamed.write_bytes(module_file.read_bytes())
    assert not has_audio_suffix(unnamed)
    assert not is_audio_file(unnamed, probe=False)
    assert probe_audio(unnamed) and is_audio_file(unnamed)
    text = tmp_path / "notes.txt"
    text.write_text("not audio\n" * 50)
    assert not probe_audio(text) and not is_audio_file(text)
    assert not is_audio_file(tmp_path / "missing.mod")
    assert not is_audio_file(tmp_path)  # a folder


@settings(max_examples=50, deadline=None)
@given(
    stem=st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12),
    suffix=st.sampled_from(sorted(AUDIO_SUFFIXES)),
    upper=st.booleans(),
)
def test_any_listed_suffix_in_any_case_is_audio(stem: str, suffix: str, upper: bool) -> None:
    assert has_audio_suffix(f"{stem}{suffix.upper() if upper else suffix}")
    assert not has_audio_suffix(f"{stem}{suffix}.txt")


def test_uploads_decode_what_files_do(module_file: Path, vlc_ogg: Path) -> None:
    # A tracker module cannot be read from a pipe; an upload is decoded from a file.
    for path in (module_file, vlc_ogg):
        upload = decode_bytes(path.read_bytes(), sample_rate=8000, fast_resample=True)
        assert_same(upload.samples, fingerprint_decode(path))
    with pytest.raises(UnsupportedFormat, match="cannot decode audio") as caught:
        decode_bytes(b"neither audio nor anything else" * 100, sample_rate=8000)
    assert "sostenuto-upload" not in caught.value.message
    assert caught.value.details == {"source": "upload"}

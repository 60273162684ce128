"""The watermark after speed, tempo and pitch changes (issue 19), on synthesised music."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal, special

from sostenuto.label import _watermark as wm
from sostenuto.label import _wm_search as search
from sostenuto.label import detect, detect_watermark, embed
from tests.label.conftest import RATE, encode, synth_music

WATERMARK_ID = 0x1D_5EED_05


@pytest.fixture(scope="module")
def host() -> np.ndarray:
    return synth_music(24.0, seed=21)


@pytest.fixture(scope="module")
def marked_mono16(host: np.ndarray) -> np.ndarray:
    samples, report = embed(host, RATE, WATERMARK_ID)
    assert report.snr_db >= 30.0
    return _mono16(samples)


def _mono16(samples: np.ndarray, rate: int = RATE) -> np.ndarray:
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    return np.asarray(signal.resample_poly(mono.astype(np.float64), 160, rate // 100))


def _tape_speed(x: np.ndarray, factor: float) -> np.ndarray:
    """Play ``x`` ``factor`` times faster (and higher), as resampling or a turntable does."""
    positions = np.arange(int(x.size / factor)) * factor
    return np.interp(positions, np.arange(x.size), x)


def _excerpt(x: np.ndarray, start_s: float, seconds: float = 10.0) -> np.ndarray:
    start = int(start_s * wm.RATE)
    return x[start : start + int(seconds * wm.RATE)]


@pytest.mark.parametrize("factor", [0.95, 0.97, 0.995, 1.005, 1.03, 1.05])
def test_tape_speed_changes_keep_the_id(marked_mono16: np.ndarray, factor: float) -> None:
    found = detect(_excerpt(_tape_speed(marked_mono16, factor), 2.3))
    assert found.found and found.watermark_id == WATERMARK_ID
    # Time runs 1/factor as long, frequencies factor higher; the grid step is 0.3 %.
    assert found.stretch == pytest.approx(1 / factor, rel=0.004)
    assert found.frequency == pytest.approx(factor, rel=0.004)
    assert found.false_alarm < 1e-8


@settings(max_examples=4, deadline=None)
@given(st.floats(0.95, 1.05), st.floats(0.0, 10.0))
def test_any_speed_within_five_percent_at_any_offset(factor: float, start_s: float) -> None:
    host = synth_music(22.0, seed=int(factor * 1000) % 50)
    samples, _ = embed(host, RATE, 4242)
    found = detect(_excerpt(_tape_speed(_mono16(samples), factor), start_s))
    assert found.watermark_id == 4242


def test_unmarked_music_is_not_found_by_the_search(host: np.ndarray) -> None:
    found = detect(_excerpt(_mono16(host), 1.0))
    assert not found.found and found.watermark_id is None
    assert found.p_search is not None  # the search ran ...
    assert found.p_search > wm.STAGE_P_THRESHOLD or not found.crc_ok  # ... and found nothing


def test_the_bound_counts_every_alignment_the_search_tried(marked_mono16: np.ndarray) -> None:
    result = search.search(_excerpt(_tape_speed(marked_mono16, 1.04), 0.5))
    assert result is not None
    # Tempo and speed hypotheses try 2 sub-hop phases, pitch ones (original tempo) 4.
    per_shift = sum(2 if stretch != 1.0 else 4 for stretch, _ in search.hypotheses())
    assert search.trials() == per_shift * wm.PERIOD == 172_032
    bound = search.TAIL_FACTOR * search.trials() * special.ndtr(-result.z)
    assert result.p_sync == pytest.approx(min(1.0, bound))
    # +-5 % speed, tempo and pitch each lie inside the grid, a step apart at most.
    grid = search.scales()
    assert grid.min() < 1 / 1.06 and grid.max() > 1.06
    assert np.all(np.diff(np.log(grid)) <= math.log(search.STEP) + 1e-12)


def test_a_speed_change_outside_the_grid_is_not_claimed(marked_mono16: np.ndarray) -> None:
    # 12 % faster lies beyond the search: nothing (in particular no wrong id) is reported.
    found = detect(_excerpt(_tape_speed(marked_mono16, 1.12), 1.0))
    assert found.watermark_id in (None, WATERMARK_ID)


def test_whole_file_after_a_speed_change(marked_mono16: np.ndarray) -> None:
    # Longer than 1.5 search windows: the search looks at windows spread over the file.
    longer = np.concatenate([marked_mono16, marked_mono16[: 8 * wm.RATE]])
    found = detect(_tape_speed(longer, 0.97))
    assert found.watermark_id == WATERMARK_ID
    assert found.seconds_analysed == pytest.approx(longer.size / 0.97 / wm.RATE, rel=1e-3)


def test_input_too_short_to_carry_a_mark_is_not_searched(marked_mono16: np.ndarray) -> None:
    found = detect(marked_mono16[: int(1.5 * wm.RATE)])
    assert not found.found and found.p_sync == 1.0 and found.p_search is None


def test_unscaled_marks_are_still_found_first(marked_mono16: np.ndarray) -> None:
    found = detect(_excerpt(marked_mono16, 4.0))
    assert found.found and found.p_search is None  # the search did not need to run
    assert (found.stretch, found.frequency) == (1.0, 1.0)


@pytest.mark.audio
@pytest.mark.parametrize(
    "audio_filter",
    ["atempo=0.95", "atempo=1.05", "rubberband=pitch=1.059463", "rubberband=pitch=0.943874"],
    ids=["tempo-0.95", "tempo-1.05", "pitch+1", "pitch-1"],
)
def test_tempo_and_pitch_changes_keep_the_id(
    host: np.ndarray, tmp_path: Path, audio_filter: str
) -> None:
    samples, _ = embed(host, RATE, WATERMARK_ID)
    wav = tmp_path / "marked.wav"
    soundfile.write(str(wav), samples, RATE, subtype="PCM_16")
    changed = encode(wav, tmp_path / "changed.wav", "-af", audio_filter, "-c:a", "pcm_s16le")
    finding = detect_watermark(changed)
    assert finding.found and finding.watermark_id == WATERMARK_ID
    mono16 = _mono16(soundfile.read(str(changed), dtype="float64")[0])
    found = detect(_excerpt(mono16, 3.1))
    assert found.watermark_id == WATERMARK_ID
    if audio_filter.startswith("atempo"):  # tempo: time scaled, pitch kept
        assert found.frequency == 1.0 and found.stretch != 1.0
    else:  # pitch: frequencies scaled, time kept
        assert found.stretch == 1.0 and found.frequency != 1.0

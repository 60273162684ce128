"""A spread-spectrum audio watermark carrying a 32-bit identifier (NumPy and SciPy only).

Method (documented in docs/labelling.md):

* Everything happens at a fixed internal rate of 16 kHz on the mono mix, so a file that was
  resampled, downmixed or re-encoded is analysed on the same grid. The mark is computed there
  and resampled back to the file's own rate, then added to every channel.
* STFT with a 512-sample square-root Hann window, hop 256. Bins from LOW_BIN to 6 kHz carry
  chips: each bin of each frame is multiplied by ``1 + a * chip`` with ``chip`` = +-1, so the
  change follows the music's spectrum (no mark in silence). The relative change ``a`` of each
  cell is allocated to spend a fixed energy budget (30.5 dB under the music) where it buys the
  most detection under added noise: ``a = c / (P + N)`` for a cell of power P and a reference
  noise level N, capped at 0.8 and the mark at 0.3 of the local amplitude (see _allocation).
* Chips repeat with a period of 512 frames (8.2 s). A quarter of the cells of that period
  carry a fixed pseudo-random *sync* pattern; the rest carry the 162 coded bits (32-bit id +
  CRC-16, rate-1/3 convolutional code), each bit spread over ~430 cells interleaved across
  time and frequency.
* Detection takes the log-magnitude, removes the local spectral envelope, folds all frames
  modulo the period (a whole file adds up all its repetitions; an excerpt of >= 8.2 s holds
  one), finds the cyclic shift and sub-hop offset by FFT cross-correlation with the sync
  pattern, and decodes the bits with a soft Viterbi decoder. The sync peak, normalised by the
  spread of the correlation over all other shifts, is a z-score whose false-alarm probability
  under "no mark" is bounded by the number of shifts tried times the Gaussian tail; a decode
  is accepted only when that bound is small *and* the CRC matches (a further 2^-16).
* When that finds nothing, _wm_search looks again over speed, tempo and pitch changes of up
  to about +-6 %, its bound counting every alignment it tried; each stage gets half of the
  false-alarm budget, so the bound over both is the one the single stage had.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import fft as sfft
from scipy import signal, special
from scipy.ndimage import uniform_filter1d

from sostenuto.label._ecc import (
    bits_to_int,
    coded_length,
    conv_encode,
    crc16,
    int_to_bits,
    viterbi_decode,
)

RATE = 16_000
FRAME = 512
HOP = 256
LOW_BIN = 10  # 312.5 Hz
HIGH_BIN = 192  # 6 kHz (exclusive)
BINS = HIGH_BIN - LOW_BIN
PERIOD = 512  # frames in one repetition of the pattern
SYNC_FRACTION = 0.25
ID_BITS = 32
CRC_BITS = 16
PAYLOAD_BITS = ID_BITS + CRC_BITS
CODED_BITS = coded_length(PAYLOAD_BITS)
SUB_OFFSETS = 8  # sub-hop offsets tried by the detector
KEY = 0x50_57_41_54  # seeds the public pattern; Sostenuto's watermark is meant to be read by all
TARGET_SNR_DB = 30.5
# A decode is accepted when the sync bound is below this and the CRC matches. Detection has
# two stages, the unscaled alignment and then the search over speed, tempo and pitch
# (_wm_search); each is held to half of it, so a search of unmarked audio is accepted with
# probability <= SYNC_P_THRESHOLD * 2^-16 over both stages together.
SYNC_P_THRESHOLD = 1e-3
STAGE_P_THRESHOLD = SYNC_P_THRESHOLD / 2
SEARCH_WINDOW_S = 12.0  # the scale search looks at windows this long (>= a period at 1.065)
SEARCH_WINDOWS = 3  # at most this many per file, spread over it
# Shorter input holds too few frames for the spread of the correlation to mean anything (a
# 1 s sound effect scored z = 40 unmarked) and far too few cells to decode: never searched.
MIN_SECONDS = 2.0
FALSE_ALARM_FLOOR = 1e-12
_EPS = 1e-7
MASK_WIDTH = 9
TIME_SMOOTH = 5
FLOOR_WEIGHT = 10.0  # detector: a cell at 10x its bin's noise floor counts half
MAX_RELATIVE = 0.8  # no cell's magnitude moves by more than this fraction
MASK_RATIO = 0.3  # nor the mark above this fraction of its own or its neighbours' amplitude
NOISE_REFERENCE_DB = 20.0  # the allocation is tuned for white noise this far under the music
# White noise of unit variance per sample, seen in one bin of a sqrt-Hann STFT (sum of w^2 =
# FRAME/2), halved because noise added to each channel of a stereo file averages in the mono mix
# (the exact figure hardly matters: 3x more or less moved no detection on 40 tracks).
NOISE_BIN_GAIN = FRAME / 4


@dataclass(frozen=True)
class EmbedReport:
    """What embedding did: the mark's SNR against the host, and the largest relative change
    of a cell's magnitude that was allowed (after any scaling to meet the SNR floor)."""

    snr_db: float
    strength: float


@dataclass(frozen=True)
class Detection:
    """The outcome of looking for a mark.

    ``z`` is the sync correlation peak in units of its spread over all shifts; ``p_sync``
    bounds the chance that unmarked audio reaches it; ``false_alarm`` adds the CRC's 2^-16
    for an accepted identifier.
    ``coded_bit_agreement`` is the share of coded bits whose soft value agrees with the
    re-encoded payload (a margin indicator).
    """

    found: bool
    watermark_id: int | None
    z: float
    p_sync: float
    false_alarm: float
    crc_ok: bool
    coded_bit_agreement: float
    seconds_analysed: float
    raw_id: int | None = None  # the 32 id bits as decoded, CRC or not (for bit accuracy)
    # The scales at which the mark was found: the query's time over the original's (1.05 =
    # 5 % slower) and its frequencies over the original's (1.059 = a semitone up).
    stretch: float = 1.0
    frequency: float = 1.0
    # Each stage's own bound, for calibration: the unscaled alignment's and the scale
    # search's (None when the first stage already found the mark and the search did not run).
    p_unscaled: float = 1.0
    p_search: float | None = None

    @property
    def confidence(self) -> float:
        return 1.0 - self.false_alarm if self.found else 0.0


@dataclass(frozen=True)
class _Pattern:
    role: npt.NDArray[np.int64]  # (PERIOD, BINS): -1 sync, else coded-bit index
    sign: npt.NDArray[np.float64]  # (PERIOD, BINS): +-1
    sync: npt.NDArray[np.float64]  # sign where role == -1, else 0
    data_mask: npt.NDArray[np.bool_]


@lru_cache(maxsize=1)
def _pattern() -> _Pattern:
    rng = np.random.default_rng(KEY)
    cells = PERIOD * BINS
    order = rng.permutation(cells)
    flat = np.empty(cells, dtype=np.int64)
    n_sync = int(cells * SYNC_FRACTION)
    flat[order[:n_sync]] = -1
    flat[order[n_sync:]] = np.arange(cells - n_sync) % CODED_BITS
    role = flat.reshape(PERIOD, BINS)
    sign = rng.choice(np.array([-1.0, 1.0]), size=(PERIOD, BINS))
    sync = np.where(role == -1, sign, 0.0)
    return _Pattern(role=role, sign=sign, sync=sync, data_mask=role >= 0)


@lru_cache(maxsize=1)
def _window() -> npt.NDArray[np.float64]:
    window: npt.NDArray[np.float64] = np.sqrt(signal.get_window("hann", FRAME, fftbins=True))
    return window


def _scramble() -> npt.NDArray[np.uint8]:
    # Whitens the payload so that id 0 (or any simple id) is not an all-zero codeword.
    rng = np.random.default_rng(KEY ^ 0x5A5A)
    return rng.integers(0, 2, size=PAYLOAD_BITS, dtype=np.uint8)


def encode_payload(watermark_id: int) -> npt.NDArray[np.uint8]:
    """The coded bits for ``watermark_id`` (id, CRC-16, scrambled, convolutionally coded)."""
    if not 0 <= watermark_id < 1 << ID_BITS:
        raise ValueError("watermark id must fit in 32 bits")
    bits = int_to_bits(watermark_id, ID_BITS)
    payload = np.concatenate([bits, int_to_bits(crc16(bits), CRC_BITS)]) ^ _scramble()
    return conv_encode(payload)


def _resample(x: npt.NDArray[np.float64], src: int, dst: int) -> npt.NDArray[np.float64]:
    if src == dst:
        return x
    ratio = Fraction(dst, src)
    return np.asarray(
        signal.resample_poly(x, ratio.numerator, ratio.denominator, axis=0), dtype=np.float64
    )


def _frames(x: npt.NDArray[np.float64], offset: int = 0) -> npt.NDArray[np.float64]:
    usable = x[offset:]
    n = max(0, (usable.size - FRAME) // HOP + 1)
    if n == 0:
        return np.zeros((0, FRAME))
    view = np.lib.stride_tricks.sliding_window_view(usable, FRAME)[::HOP][:n]
    return view * _window()


def mark_signal(
    mono16: npt.NDArray[np.float64],
    watermark_id: int,
    strength: float = MAX_RELATIVE,
    snr_db: float = TARGET_SNR_DB,
) -> npt.NDArray[np.float64]:
    """The additive mark (at 16 kHz) for a 16 kHz mono host, about ``snr_db`` under it."""
    n = mono16.size
    padded = np.concatenate([mono16, np.zeros(FRAME + HOP)])
    frames = _frames(padded)
    spectrum = np.fft.rfft(frames, axis=1)
    pattern = _pattern()
    coded = 1.0 - 2.0 * encode_payload(watermark_id).astype(np.float64)
    chips = pattern.sign * np.where(pattern.role < 0, 1.0, coded[np.maximum(pattern.role, 0)])
    index = np.arange(frames.shape[0]) % PERIOD
    band = spectrum[:, LOW_BIN:HIGH_BIN]
    # With sqrt-Hann analysis and synthesis at 50 % overlap, the host's energy is ~2x the sum
    # of |X|^2 over the one-sided frames, the mark's ~1x the sum of |M|^2 (independent chips):
    # so the budget on sum |M|^2 is twice the host's sum, scaled by the SNR.
    total = 2.0 * float(np.sum(np.abs(spectrum) ** 2))
    budget = total * 10 ** (-snr_db / 10)
    noise = float(np.mean(mono16**2)) * 10 ** (-NOISE_REFERENCE_DB / 10) * NOISE_BIN_GAIN
    relative = _allocation(np.abs(band) ** 2, budget, noise, strength)
    mark_spec = np.zeros_like(spectrum)
    mark_spec[:, LOW_BIN:HIGH_BIN] = relative * chips[index] * band
    mark_frames = np.fft.irfft(mark_spec, n=FRAME, axis=1) * _window()
    out = np.zeros(padded.size)
    for k in range(FRAME // HOP):
        # Overlap-add in FRAME/HOP interleaved passes keeps it vectorised.
        block = mark_frames[k :: FRAME // HOP].reshape(-1)
        start = k * HOP
        out[start : start + block.size] += block[: out.size - start]
    return out[:n]


def _allocation(
    power: npt.NDArray[np.float64], budget: float, noise: float, cap: float
) -> npt.NDArray[np.float64]:
    """Relative change per cell, spending the energy ``budget`` where it buys detection.

    A cell of music power P under added noise N carries a log-magnitude change of about
    ``a * P / (P + N)`` for a relative change ``a``, at an energy cost ``a^2 * P``. Maximising
    the summed change for a fixed energy gives ``a = c / (P + N)``: loud cells cost much and
    gain little, cells far under the noise gain nothing, so the mark gathers in cells near the
    noise level. Each cell is capped at ``cap`` and its mark at ``MASK_RATIO`` of the larger of
    its own and its neighbourhood's amplitude (bins masked by louder neighbours may change
    more, a peak no more than ``MASK_RATIO`` of itself); ``c`` is solved exactly so
    the energy meets the budget, or every cell sits at its cap when the budget allows it.
    """
    power = power + 1e-20
    local = uniform_filter1d(power, size=MASK_WIDTH, axis=1, mode="nearest")
    # max(): a peak over its neighbours may still move by MASK_RATIO of itself (this also
    # guards against the running-sum filter rounding a tiny value below zero).
    ceiling: npt.NDArray[np.float64] = np.minimum(
        cap, MASK_RATIO * np.sqrt(np.maximum(local, power) / power)
    )
    shape = 1.0 / (power + noise)
    # Cell i reaches its ceiling once c >= reach[i]; sort by it and find the c that spends the
    # budget: cells before k are capped, the rest are proportional to c.
    reach = (ceiling / shape).ravel()
    order = np.argsort(reach)
    reach = reach[order]
    capped = np.concatenate([[0.0], np.cumsum((ceiling**2 * power).ravel()[order])])
    free = (shape**2 * power).ravel()[order]
    tail = np.concatenate([np.cumsum(free[::-1])[::-1], [0.0]])
    spent = capped[1:] + reach**2 * tail[1:]  # energy with c = reach[k]
    k = int(np.searchsorted(spent, budget))
    if k >= reach.size:
        return ceiling
    c = math.sqrt(max(0.0, budget - capped[k]) / max(tail[k], 1e-300))
    relative: npt.NDArray[np.float64] = np.minimum(ceiling, c * shape)
    return relative


def embed(
    samples: npt.NDArray[np.floating],
    sample_rate: int,
    watermark_id: int,
    *,
    strength: float | None = None,
    min_snr_db: float | None = None,
) -> tuple[npt.NDArray[np.float32], EmbedReport]:
    """Return marked samples (same shape and rate) and the mark's SNR.

    ``strength`` is the largest relative change of any cell's magnitude (default
    ``MAX_RELATIVE``); the mark spends an energy ``min_snr_db`` under the host (default
    ``TARGET_SNR_DB``) and never more.
    """
    wanted = MAX_RELATIVE if strength is None else strength
    if not 0.0 < wanted <= 1.0:
        raise ValueError("strength must be in (0, 1]")
    floor_db = TARGET_SNR_DB if min_snr_db is None else min_snr_db
    host = np.asarray(samples, dtype=np.float64)
    mono = host if host.ndim == 1 else host.mean(axis=1)
    mono16 = _resample(mono, sample_rate, RATE)
    mark16 = mark_signal(mono16, watermark_id, wanted, floor_db)
    mark = _resample(mark16, RATE, sample_rate)
    mark = np.pad(mark, (0, max(0, mono.size - mark.size)))[: mono.size]
    host_power = float(np.mean(mono**2)) + 1e-20
    mark_power = float(np.mean(mark**2)) + 1e-20
    # The budget is set at 16 kHz on framed spectra: scale down if the file's own SNR misses it.
    factor = min(1.0, math.sqrt(host_power / mark_power * 10 ** (-floor_db / 10)))
    mark *= factor
    used = wanted * factor
    marked = host + (mark if host.ndim == 1 else mark[:, None])
    snr = 10 * math.log10(host_power / (mark_power * factor * factor))
    return np.clip(marked, -1.0, 1.0).astype(np.float32), EmbedReport(snr, used)


def _offset_features(mono16: npt.NDArray[np.float64]) -> list[npt.NDArray[np.float32]]:
    """The detector's features at each of the SUB_OFFSETS sub-hop offsets.

    One STFT on a hop of HOP / SUB_OFFSETS holds every offset's frames (offset ``o`` is
    every SUB_OFFSETS-th row from row ``o``), and float32 halves the memory traffic: the
    unscaled stage costs a third less than eight separate float64 STFTs, for the same
    features to within 1e-5 of their spread.
    """
    hop = HOP // SUB_OFFSETS
    if mono16.size < FRAME:
        return []
    view = np.lib.stride_tricks.sliding_window_view(mono16.astype(np.float32), FRAME)[::hop]
    frames = view * _window().astype(np.float32)
    margin = 4
    magnitude = np.abs(sfft.rfft(frames, axis=1)[:, LOW_BIN - margin : HIGH_BIN + margin])
    band = np.log(magnitude + np.float32(_EPS))
    # Remove the spectral envelope (along frequency) and steady partials (along time).
    detail = band - uniform_filter1d(band, size=2 * margin + 1, axis=1, mode="nearest")
    detail = detail[:, margin:-margin]
    power = magnitude[:, margin:-margin] ** 2
    across = uniform_filter1d(power, size=MASK_WIDTH, axis=1, mode="nearest")
    features = []
    for offset in range(SUB_OFFSETS):
        rows = np.ascontiguousarray(detail[offset::SUB_OFFSETS])
        if TIME_SMOOTH > 1:
            rows -= uniform_filter1d(rows, size=TIME_SMOOTH, axis=0, mode="nearest")
        scale = float(np.median(np.abs(rows))) * 1.4826 + 1e-12
        clipped = np.clip(rows / np.float32(scale), -3.0, 3.0)
        # Cells near the file's own noise floor (per-bin 10th percentile of power) carry
        # mostly noise after an attack such as added white noise: weigh each cell by its
        # local power over that floor so they count less. The sync z-score is normalised
        # over all shifts, so this leaves the false-alarm bound as it was.
        floor = column_percentile(power[offset::SUB_OFFSETS], 10.0) + np.float32(1e-20)
        local = uniform_filter1d(across[offset::SUB_OFFSETS], size=3, axis=0, mode="nearest")
        features.append(clipped * (local / (local + np.float32(FLOOR_WEIGHT) * floor)))
    return features


def column_percentile(values: npt.NDArray[Any], q: float) -> npt.NDArray[Any]:
    """np.percentile(values, q, axis=0, keepdims=True) (linear), by one partition: the same
    numbers ~10x faster, which matters as detection runs it on every feature table."""
    n = values.shape[0]
    position = q / 100.0 * (n - 1)
    low = math.floor(position)
    high = min(low + 1, n - 1)
    rows = np.partition(np.ascontiguousarray(values.T), (low, high), axis=1)
    below, above = rows[:, low], rows[:, high]
    result: npt.NDArray[Any] = (below + (position - low) * (above - below))[None, :]
    return result


def _fold(features: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float64]:
    n = features.shape[0]
    reps = -(-n // PERIOD)
    padded = np.zeros((reps * PERIOD, BINS))
    padded[:n] = features
    folded: npt.NDArray[np.float64] = padded.reshape(reps, PERIOD, BINS).sum(axis=0)
    return folded


def detect(mono16: npt.NDArray[np.floating]) -> Detection:
    """Look for a mark in 16 kHz mono samples: first unscaled, then over speed, tempo and pitch
    changes of up to about +-6 % (see _wm_search)."""
    x = np.asarray(mono16, dtype=np.float64)
    if x.size < MIN_SECONDS * RATE:
        return Detection(False, None, 0.0, 1.0, 1.0, False, 0.0, x.size / RATE)
    first = _detect_unscaled(x)
    first = replace(first, p_unscaled=first.p_sync)
    if first.found:
        return first
    # Imported here: the search builds on this module's grid and pattern.
    from sostenuto.label import _wm_search

    window = int(SEARCH_WINDOW_S * RATE)
    count = 1 if x.size <= 1.5 * window else SEARCH_WINDOWS
    starts = np.linspace(0, max(0, x.size - window), count).astype(int)
    best: Detection | None = None
    for start in starts:
        piece = x[start : start + window] if count > 1 else x
        result = _wm_search.search(piece)
        if result is None:
            continue
        p_sync = min(1.0, count * result.p_sync)  # every window's trials count
        found = _decoded(
            result.soft, result.z, p_sync, x.size / RATE, result.stretch, result.frequency
        )
        if best is None or found.found or (not best.found and found.z > best.z):
            best = found
        if found.found:
            break
    if best is None:
        return first
    p_search = best.p_sync
    chosen = best if best.found or best.z > first.z else first
    return replace(chosen, p_unscaled=first.p_sync, p_search=p_search)


def _decoded(
    soft: npt.NDArray[np.float64],
    z: float,
    p_sync: float,
    seconds: float,
    stretch: float = 1.0,
    frequency: float = 1.0,
) -> Detection:
    """Viterbi-decode the soft coded bits and accept when the CRC holds and p_sync is small."""
    decoded = viterbi_decode(soft, PAYLOAD_BITS) ^ _scramble()
    ident, check = decoded[:ID_BITS], decoded[ID_BITS:]
    crc_ok = crc16(ident) == bits_to_int(check)
    watermark_id = bits_to_int(ident)
    agreement = 0.0
    if crc_ok:
        expected = 1.0 - 2.0 * encode_payload(watermark_id).astype(np.float64)
        agreement = float(np.mean(np.sign(soft) == expected))
    found = crc_ok and p_sync <= STAGE_P_THRESHOLD
    # The Gaussian tail is not trusted far out: no bound below FALSE_ALARM_FLOOR is claimed.
    false_alarm = max(FALSE_ALARM_FLOOR, min(1.0, p_sync * 2.0**-CRC_BITS)) if crc_ok else 1.0
    return Detection(
        found=found,
        watermark_id=watermark_id if found else None,
        z=z,
        p_sync=p_sync,
        false_alarm=false_alarm if found else 1.0,
        crc_ok=crc_ok,
        coded_bit_agreement=agreement,
        seconds_analysed=seconds,
        raw_id=watermark_id,
        stretch=stretch if found else 1.0,
        frequency=frequency if found else 1.0,
    )


def _detect_unscaled(x: npt.NDArray[np.float64]) -> Detection:
    """The mark at its own speed: every repetition folded, 8 sub-hop offsets x 512 shifts."""
    seconds = x.size / RATE
    pattern = _pattern()
    sync_fft = np.fft.rfft(pattern.sync, axis=0)
    folds: list[npt.NDArray[np.float64]] = []
    scores: list[npt.NDArray[np.float64]] = []
    for feats in _offset_features(x):
        if feats.shape[0] < 8:
            continue
        folded = _fold(feats)
        folds.append(folded)
        corr = np.fft.irfft(np.conj(np.fft.rfft(folded, axis=0)) * sync_fft, n=PERIOD, axis=0)
        scores.append(corr.sum(axis=1))
    if not scores:
        return Detection(False, None, 0.0, 1.0, 1.0, False, 0.0, seconds)
    table = np.stack(scores)  # (offsets, shifts)
    centre = float(np.median(table))
    spread = float(np.median(np.abs(table - centre)) * 1.4826) + 1e-12
    z_table = (table - centre) / spread
    best_o, best_k = np.unravel_index(int(np.argmax(z_table)), z_table.shape)
    z = float(z_table[best_o, best_k])
    p_sync = min(1.0, table.size * float(special.ndtr(-z)))
    aligned = np.roll(folds[best_o], int(best_k), axis=0)
    # aligned[j] now pairs with pattern row j: folded row j - k maps to pattern row j.
    weighted = (aligned * pattern.sign)[pattern.data_mask]
    soft = np.bincount(
        pattern.role[pattern.data_mask], weights=weighted, minlength=CODED_BITS
    ).astype(np.float64)
    return _decoded(soft, z, p_sync, seconds)

"""Undo a pitch shift: resample a signal so that its pitch moves by whole semitones.

A clone shifted up two semitones is searched again shifted down two. Resampling moves pitch
and formants together and stretches time by the same ratio, which is what a plain pitch
shift (phase vocoder, varispeed) does to a voice, so the inverse lines the voice back up;
the time stretch is undone by mapping times back (``time_scale``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import signal

from sostenuto.errors import InvalidInput

Floats = npt.NDArray[np.float32]
# Rational approximations of 2**(k/12) (within 0.01 %) so resample_poly stays exact and fast.
_RATIOS = {1: (89, 84), 2: (55, 49), 3: (44, 37), 4: (63, 50)}
SHIFTS: tuple[int, ...] = (-2, -1, 0, 1, 2)


@dataclass(frozen=True)
class Shifted:
    """A signal moved by ``semitones``; a time ``t`` in it is ``t * time_scale`` originally."""

    semitones: int
    samples: Floats
    time_scale: float


def shift(samples: Floats, semitones: int) -> Shifted:
    """Move the pitch of ``samples`` by ``semitones`` (−4..4) by resampling."""
    if semitones == 0:
        return Shifted(0, samples, 1.0)
    if abs(semitones) not in _RATIOS:
        raise InvalidInput(f"pitch shifts of -4..4 semitones are supported; got {semitones}")
    up, down = _RATIOS[abs(semitones)]
    # Raising pitch = fewer samples played at the same rate; lowering = more.
    num, den = (down, up) if semitones > 0 else (up, down)
    out: Floats = np.asarray(signal.resample_poly(samples, num, den), dtype=np.float32)
    scale = samples.size / max(out.size, 1)
    return Shifted(semitones, out, scale)

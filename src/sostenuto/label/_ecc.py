"""Error protection for the watermark payload: CRC-16 and a rate-1/3 convolutional code.

The 32-bit identifier is followed by a CRC-16 (CCITT, initial value 0xFFFF) so that a decode
of noise is accepted with probability 2^-16 at most; the 48 bits are then encoded with the
constraint-length-7 code (generators 133, 171, 165 octal, the one used in LTE and many
broadcast systems) and decoded by a soft-decision Viterbi decoder.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

CONSTRAINT = 7
GENERATORS = (0o133, 0o171, 0o165)
_STATES = 1 << (CONSTRAINT - 1)


def crc16(bits: npt.NDArray[np.uint8]) -> int:
    """CRC-16/CCITT-FALSE over a bit array (most significant bit first)."""
    register = 0xFFFF
    for bit in bits.tolist():
        top = ((register >> 15) & 1) ^ int(bit)
        register = (register << 1) & 0xFFFF
        if top:
            register ^= 0x1021
    return register


def int_to_bits(value: int, width: int) -> npt.NDArray[np.uint8]:
    return np.array([(value >> (width - 1 - i)) & 1 for i in range(width)], dtype=np.uint8)


def bits_to_int(bits: npt.NDArray[np.uint8]) -> int:
    value = 0
    for bit in bits.tolist():
        value = (value << 1) | int(bit)
    return value


def _parity(value: int) -> int:
    return bin(value).count("1") & 1


# Output bits of every (state, input) transition; the state holds the last K-1 inputs.
_OUTPUTS = np.array(
    [
        [
            [_parity((((state << 1) | bit) & ((1 << CONSTRAINT) - 1)) & g) for g in GENERATORS]
            for bit in (0, 1)
        ]
        for state in range(_STATES)
    ],
    dtype=np.int8,
)


def conv_encode(bits: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Encode, flushing with K-1 zeros so the decoder ends in state 0."""
    state = 0
    out: list[int] = []
    for bit in [*bits.tolist(), *([0] * (CONSTRAINT - 1))]:
        out.extend(_OUTPUTS[state, bit].tolist())
        state = ((state << 1) | bit) & (_STATES - 1)
    return np.array(out, dtype=np.uint8)


def coded_length(n_bits: int) -> int:
    return (n_bits + CONSTRAINT - 1) * len(GENERATORS)


def viterbi_decode(soft: npt.NDArray[np.float64], n_bits: int) -> npt.NDArray[np.uint8]:
    """Soft-decision Viterbi: ``soft`` > 0 means bit 0 is likelier (BPSK, 0 -> +1)."""
    rate = len(GENERATORS)
    steps = n_bits + CONSTRAINT - 1
    if soft.size != steps * rate:
        raise ValueError(f"expected {steps * rate} soft values, got {soft.size}")
    symbols = 1.0 - 2.0 * _OUTPUTS.astype(np.float64)  # (state, input, rate)
    states = np.arange(_STATES)
    # Predecessor of each next state for input bit b: next = ((s << 1) | b) & mask.
    next_state = ((states[:, None] << 1) | np.array([0, 1])[None, :]) & (_STATES - 1)
    metric = np.full(_STATES, -np.inf)
    metric[0] = 0.0
    back_state = np.zeros((steps, _STATES), dtype=np.int64)
    back_bit = np.zeros((steps, _STATES), dtype=np.uint8)
    for t in range(steps):
        gains = symbols @ soft[t * rate : (t + 1) * rate]  # (state, input)
        candidate = metric[:, None] + gains
        new_metric = np.full(_STATES, -np.inf)
        flat_next = next_state.ravel()
        flat_cand = candidate.ravel()
        order = np.argsort(flat_cand, kind="stable")
        # Later (larger) candidates overwrite smaller ones: a vectorised max per next state.
        new_metric[flat_next[order]] = flat_cand[order]
        winner = np.full(_STATES, 0, dtype=np.int64)
        winner[flat_next[order]] = order
        back_state[t] = winner // 2
        back_bit[t] = (winner % 2).astype(np.uint8)
        metric = new_metric
    state = 0
    decoded = np.zeros(steps, dtype=np.uint8)
    for t in range(steps - 1, -1, -1):
        decoded[t] = back_bit[t, state]
        state = int(back_state[t, state])
    return decoded[:n_bits]

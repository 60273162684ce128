"""The payload's error protection: CRC-16 and the convolutional code with Viterbi decoding."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sostenuto.label._ecc import (
    bits_to_int,
    coded_length,
    conv_encode,
    crc16,
    int_to_bits,
    viterbi_decode,
)


def test_crc16_matches_the_ccitt_false_check_value() -> None:
    # The standard check: CRC-16/CCITT-FALSE of ASCII "123456789" is 0x29B1.
    bits = np.unpackbits(np.frombuffer(b"123456789", dtype=np.uint8))
    assert crc16(bits) == 0x29B1


@given(st.integers(0, 2**32 - 1), st.integers(0, 31))
def test_crc16_catches_every_single_bit_error(value: int, position: int) -> None:
    bits = int_to_bits(value, 32)
    flipped = bits.copy()
    flipped[position] ^= 1
    assert crc16(bits) != crc16(flipped)
    assert bits_to_int(bits) == value


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**48 - 1), st.integers(0, 2**31 - 1))
def test_viterbi_corrects_noisy_soft_symbols(value: int, seed: int) -> None:
    bits = int_to_bits(value, 48)
    coded = conv_encode(bits)
    assert coded.size == coded_length(48)
    rng = np.random.default_rng(seed)
    # Eb/N0 of about 4.8 dB per coded symbol: hard decisions would err on ~4 % of symbols.
    soft = (1.0 - 2.0 * coded) + rng.normal(0.0, 0.57, coded.size)
    assert np.array_equal(viterbi_decode(soft, 48), bits)


def test_viterbi_rejects_a_wrong_length() -> None:
    import pytest

    with pytest.raises(ValueError):
        viterbi_decode(np.zeros(10), 48)

"""Exact money: the largest-remainder rule, currencies and amounts."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sostenuto.errors import InvalidInput
from sostenuto.remuneration import (
    allocate,
    allocate_segments,
    check_currency,
    format_minor,
    minor_exponent,
    parse_major,
    rate_half_up,
)

amounts = st.integers(min_value=0, max_value=10**15)
weights = st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=30).filter(
    lambda ws: sum(ws) > 0
)


@given(amounts, weights)
def test_parts_sum_exactly_and_stay_within_one_unit(amount: int, ws: list[int]) -> None:
    parts = allocate(amount, ws)
    assert sum(parts) == amount
    total = sum(ws)
    for part, weight in zip(parts, ws, strict=True):
        exact = Fraction(amount * weight, total)
        assert exact - 1 < part < exact + 1
        assert part >= 0


@given(amounts, weights)
def test_leftover_units_go_to_the_largest_remainders(amount: int, ws: list[int]) -> None:
    parts = allocate(amount, ws)
    total = sum(ws)
    remainders = [amount * w % total for w in ws]
    rounded_up = [
        i for i, (p, w) in enumerate(zip(parts, ws, strict=True)) if p * total > amount * w
    ]
    kept_down = [i for i in range(len(ws)) if i not in rounded_up]
    if rounded_up and kept_down:
        assert min(remainders[i] for i in rounded_up) >= max(remainders[i] for i in kept_down)


def test_ties_go_to_the_smaller_key() -> None:
    assert allocate(1, [1, 1, 1]) == [1, 0, 0]
    assert allocate(1, [1, 1, 1], keys=[30, 10, 20]) == [0, 1, 0]
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]


@given(amounts, weights)
def test_more_weight_never_gets_less(amount: int, ws: list[int]) -> None:
    before = allocate(amount, ws)
    grown = [ws[0] + 1 + ws[0] // 3, *ws[1:]]
    assert allocate(amount, grown)[0] >= before[0]


@given(
    st.lists(st.tuples(amounts, weights), min_size=1, max_size=8),
)
def test_vectorised_splits_equal_the_plain_rule(cases: list[tuple[int, list[int]]]) -> None:
    segment = np.concatenate(
        [np.full(len(ws), i, dtype=np.int64) for i, (_, ws) in enumerate(cases)]
    )
    flat = np.concatenate([np.asarray(ws, dtype=np.int64) for _, ws in cases])
    keys = np.concatenate([np.arange(len(ws), dtype=np.int64) for _, ws in cases])
    got = allocate_segments(np.asarray([a for a, _ in cases], dtype=np.int64), segment, flat, keys)
    expected = [part for amount, ws in cases for part in allocate(amount, ws)]
    assert got.tolist() == expected


def test_zero_weights_cannot_carry_money() -> None:
    with pytest.raises(InvalidInput, match="sum to zero"):
        allocate(5, [0, 0])
    assert allocate(0, [0, 0]) == [0, 0]
    with pytest.raises(InvalidInput, match="sum to zero"):
        allocate_segments(
            np.asarray([5]), np.asarray([0, 0]), np.asarray([0, 0]), np.asarray([1, 2])
        )


@pytest.mark.parametrize("bad", [-1, 1.5, True, "10"])
def test_amounts_must_be_non_negative_integers(bad: object) -> None:
    with pytest.raises(InvalidInput):
        allocate(bad, [1, 2])  # type: ignore[arg-type]


def test_weights_must_be_non_negative_integers() -> None:
    with pytest.raises(InvalidInput, match="weights"):
        allocate(10, [1, -1, 3])


def test_currencies_follow_iso_4217() -> None:
    assert check_currency(" sek ") == "SEK"
    assert (minor_exponent("EUR"), minor_exponent("JPY"), minor_exponent("KWD")) == (2, 0, 3)
    for bad in ("EURO", "XXX", "ABC", "XAU"):
        with pytest.raises(InvalidInput, match="currency"):
            check_currency(bad)


def test_major_units_round_trip_without_floats() -> None:
    assert parse_major("1234.56", "EUR") == 123456
    assert parse_major("1234", "JPY") == 1234
    assert parse_major("0.001", "KWD") == 1
    assert format_minor(123456, "EUR") == "1234.56 EUR"
    assert format_minor(5, "KWD") == "0.005 KWD"
    assert format_minor(7, "JPY") == "7 JPY"
    with pytest.raises(InvalidInput, match="decimals"):
        parse_major("0.001", "EUR")
    with pytest.raises(InvalidInput, match="negative"):
        parse_major("-1", "EUR")
    with pytest.raises(InvalidInput, match="not an amount"):
        parse_major("twelve", "EUR")


def test_rates_round_half_up() -> None:
    assert rate_half_up(12_345_678, 500, 10_000) == 617_284  # 617 283.9
    assert rate_half_up(10_395, 1_000, 10_000) == 1_040  # 1 039.5
    assert rate_half_up(10_394, 1_000, 10_000) == 1_039  # 1 039.4

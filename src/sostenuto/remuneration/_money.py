"""Exact money: ISO 4217 currencies, integer minor units and the largest-remainder rule.

Every amount is an ``int`` of minor units (cents, öre, yen) beside its ISO 4217 code; no
float ever touches an amount. Splitting an amount uses the largest-remainder (Hamilton)
method so that the parts always add up to the amount exactly:

1. each part gets ``floor(amount × weight / total)``;
2. the units still left over go, one each, to the parts with the largest remainders
   ``amount × weight mod total``;
3. equal remainders are broken by the smaller key (a stable id such as a recording or
   performer id), so the same input always gives the same split.

Each part is thus the floor or the ceiling of its exact share, never further off than one
minor unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pycountry

from sostenuto.errors import InvalidInput

Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# ISO 4217 minor-unit exponents that differ from 2 (the standard's table, current codes).
_EXPONENTS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}
# Codes pycountry lists that are not money one can pay (metals, testing, SDR).
_NOT_PAYABLE = {
    "XAG",
    "XAU",
    "XBA",
    "XBB",
    "XBC",
    "XBD",
    "XDR",
    "XPD",
    "XPT",
    "XSU",
    "XTS",
    "XUA",
    "XXX",
}

# Products above this go through Python integers: int64 would overflow.
_INT64_SAFE = 2**62


@lru_cache(maxsize=1)
def _currency_codes() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies) - _NOT_PAYABLE


def check_currency(code: str) -> str:
    """The upper-case ISO 4217 code, or :class:`InvalidInput` naming the bad code."""
    normal = code.strip().upper()
    if normal not in _currency_codes():
        raise InvalidInput(
            f"unknown currency {code!r}: use an ISO 4217 code such as 'EUR' or 'SEK'",
            details={"currency": code},
        )
    return normal


def minor_exponent(currency: str) -> int:
    """Digits after the decimal point in ``currency`` (2 for EUR, 0 for JPY, 3 for KWD)."""
    return _EXPONENTS.get(check_currency(currency), 2)


def check_amount(value: int, what: str) -> int:
    """A non-negative integer amount of minor units; floats and negatives are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            f"{what} must be an integer number of minor units, got {value!r}",
            details={"field": what},
        )
    if value < 0:
        raise InvalidInput(f"{what} must not be negative, got {value}", details={"field": what})
    return value


def format_minor(amount: int, currency: str) -> str:
    """``123456, 'EUR'`` → ``'1234.56 EUR'`` (for people; machines keep the integer)."""
    exponent = minor_exponent(currency)
    sign = "-" if amount < 0 else ""
    units, minor = divmod(abs(amount), 10**exponent)
    text = f"{units}.{minor:0{exponent}d}" if exponent else str(units)
    return f"{sign}{text} {currency}"


def parse_major(text: str, currency: str) -> int:
    """``'1234.56', 'EUR'`` → ``123456``; more decimals than the currency has are refused."""
    exponent = minor_exponent(currency)
    try:
        value = Decimal(text.strip())
    except ArithmeticError as error:
        raise InvalidInput(f"not an amount: {text!r}") from error
    if not value.is_finite():
        raise InvalidInput(f"not an amount: {text!r}")
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise InvalidInput(
            f"{text!r} has more decimals than {currency} allows ({exponent})",
            details={"amount": text, "currency": currency},
        )
    return check_amount(int(scaled), "amount")


def parse_percent_bp(text: str) -> int:
    """``'5'`` or ``'5.25'`` (per cent) → basis points (500, 525); finer rates are refused."""
    try:
        value = Decimal(text.strip().rstrip("%"))
    except ArithmeticError as error:
        raise InvalidInput(f"not a percentage: {text!r}") from error
    scaled = value * 100
    if not value.is_finite() or scaled != scaled.to_integral_value():
        raise InvalidInput(f"{text!r}: rates are whole basis points (at most two decimals)")
    if not 0 <= scaled <= 10_000:
        raise InvalidInput(f"{text!r} is not between 0 and 100 per cent")
    return int(scaled)


def rate_half_up(amount: int, numerator: int, denominator: int) -> int:
    """``amount × numerator / denominator`` rounded half up, in integers (fees, shares)."""
    return (2 * amount * numerator + denominator) // (2 * denominator)


def allocate(amount: int, weights: Sequence[int], keys: Sequence[int] | None = None) -> list[int]:
    """Split ``amount`` over integer ``weights`` by largest remainder; the parts sum to it.

    ``keys`` break ties between equal remainders (smaller key first); by default the
    position. A zero total weight can only carry a zero amount.
    """
    check_amount(amount, "amount")
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 0 for w in weights):
        raise InvalidInput("weights must be non-negative integers")
    order_keys = list(range(len(weights))) if keys is None else list(keys)
    if len(order_keys) != len(weights):
        raise InvalidInput("one key per weight is needed")
    total = sum(weights)
    if total == 0:
        if amount:
            raise InvalidInput(f"cannot split {amount} over weights that sum to zero")
        return [0] * len(weights)
    parts = [amount * w // total for w in weights]
    remainders = [amount * w % total for w in weights]
    left = amount - sum(parts)
    ranked = sorted(range(len(weights)), key=lambda i: (-remainders[i], order_keys[i]))
    for i in ranked[:left]:
        parts[i] += 1
    return parts


def allocate_segments(
    amounts: Int64Array, segment: Int64Array, weights: Int64Array, keys: Int64Array
) -> Int64Array:
    """Largest remainder in many independent splits at once (the vectorised twin of
    :func:`allocate`): row ``i`` belongs to split ``segment[i]`` of ``amounts[segment[i]]``.

    Every split sums exactly to its amount; ties go to the smaller key. Products that could
    overflow int64 are computed with Python integers.
    """
    n_segments = len(amounts)
    if len(weights) == 0:
        return np.zeros(0, dtype=np.int64)
    totals = _segment_sum(segment, weights, n_segments)
    if np.any((totals == 0) & (amounts != 0)):
        bad = int(np.flatnonzero((totals == 0) & (amounts != 0))[0])
        raise InvalidInput(f"cannot split {int(amounts[bad])} over weights that sum to zero")
    row_amount = amounts[segment]
    row_total = np.where(totals[segment] == 0, 1, totals[segment])
    max_product = int(amounts.max(initial=0)) * int(weights.max(initial=0))
    if max_product < _INT64_SAFE:
        product = row_amount * weights
        parts = product // row_total
        remainders = product % row_total
    else:
        big = row_amount.astype(object) * weights.astype(object)
        parts = (big // row_total.astype(object)).astype(np.int64)
        remainders = (big % row_total.astype(object)).astype(np.int64)
    left = amounts - _segment_sum(segment, parts, n_segments)
    order = np.lexsort((keys, -remainders, segment))
    sorted_segment = segment[order]
    starts = np.searchsorted(sorted_segment, np.arange(n_segments), side="left")
    rank = np.arange(len(order), dtype=np.int64) - starts[sorted_segment]
    bonus = np.zeros(len(order), dtype=np.int64)
    bonus[order] = (rank < left[sorted_segment]).astype(np.int64)
    result: Int64Array = parts + bonus
    return result


def _segment_sum(segment: Int64Array, values: Int64Array, n_segments: int) -> Int64Array:
    """Exact int64 per-segment sums (``np.bincount`` would go through float64)."""
    out = np.zeros(n_segments, dtype=np.int64)
    np.add.at(out, segment, values)
    return out

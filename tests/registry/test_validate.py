"""Each validation rule of the registry, on real identifiers and on broken ones."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sostenuto.errors import InvalidInput
from sostenuto.registry import (
    ISRC_SPECIAL_PREFIXES,
    format_isrc,
    isni_check_character,
    normalise_ipn,
    normalise_isni,
    normalise_isrc,
)
from sostenuto.registry._validate import (
    check_period,
    check_sha256,
    check_territory_list,
    check_use_list,
    check_weight,
)
from sostenuto.vocabulary import territory_codes


@pytest.mark.parametrize(
    ("written", "compact"),
    [
        ("ES-A7Q-24-00001", "ESA7Q2400001"),
        ("es-a7q-24-00001", "ESA7Q2400001"),
        ("ISRC GB-AJY-12-34567", "GBAJY1234567"),
        ("  US RC1 76 07839 ", "USRC17607839"),
        ("QM-DA7-14-18090", "QMDA71418090"),  # a US agency prefix, not an ISO 3166 code
        ("ZZ-ZZZ-12-34567", "ZZZZZ1234567"),  # the International ISRC Agency's own prefix
        ("DG-A12-99-99999", "DGA129999999"),
    ],
)
def test_isrc_written_forms_normalise(written: str, compact: str) -> None:
    assert normalise_isrc(written) == compact


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("ES-A7Q-24-0001", "12 characters"),  # too short
        ("ES-A7Q-24-000001", "12 characters"),  # too long
        ("XX-A7Q-24-00001", "neither an ISO 3166"),  # not a country, not an agency prefix
        ("E1-A7Q-24-00001", "form is"),  # element 1 is letters only
        ("ES-A_Q-24-00001", "form is"),  # underscore is not a character of an ISRC
        ("ES-A7Q-2A-00001", "form is"),  # year is two digits
        ("ES-A7Q-24-0000B", "form is"),  # designation is five digits
    ],
)
def test_bad_isrcs_are_refused_naming_the_field(bad: str, why: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        normalise_isrc(bad)
    assert why in raised.value.message
    assert raised.value.details == {"field": "isrc", "value": bad}


_PREFIXES = sorted(territory_codes() | ISRC_SPECIAL_PREFIXES)
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@given(
    prefix=st.sampled_from(_PREFIXES),
    registrant=st.text(_ALNUM, min_size=3, max_size=3),
    digits=st.text("0123456789", min_size=7, max_size=7),
    separator=st.sampled_from(["", "-", " "]),
    lower=st.booleans(),
)
def test_isrc_normalisation_round_trips(
    prefix: str, registrant: str, digits: str, separator: str, lower: bool
) -> None:
    compact = prefix + registrant + digits
    written = separator.join([prefix, registrant, digits[:2], digits[2:]])
    if lower:
        written = written.lower()
    assert normalise_isrc(written) == compact
    assert normalise_isrc(format_isrc(compact)) == compact
    assert format_isrc(compact).replace("-", "") == compact


# ISO 7064 MOD 11-2 is also ORCID's check: its published example identifiers are valid ISNIs.
@pytest.mark.parametrize(
    "isni", ["0000000218250097", "0000000151093700", "000000021694233X", "0000 0001 2103 2683"]
)
def test_known_isnis_pass(isni: str) -> None:
    assert normalise_isni(isni) == isni.replace(" ", "")


@pytest.mark.parametrize(
    "bad", ["0000000218250098", "000000021825009", "00000002182500971", "00000002182500X7"]
)
def test_bad_isnis_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        normalise_isni(bad)
    assert raised.value.details["field"] == "isni"


@given(st.text("0123456789", min_size=15, max_size=15))
def test_isni_check_character_validates_and_catches_one_digit_errors(digits: str) -> None:
    isni = digits + isni_check_character(digits)
    assert normalise_isni(isni) == isni
    for position in range(15):
        changed = str((int(digits[position]) + 1) % 10)
        typo = digits[:position] + changed + digits[position + 1 :] + isni[15]
        with pytest.raises(InvalidInput):
            normalise_isni(typo)


def test_ipn_is_digits() -> None:
    assert normalise_ipn(" 10004567 ") == "10004567"
    for bad in ("", "IPN123", "123456789012", "12 34"):
        with pytest.raises(InvalidInput):
            normalise_ipn(bad)


def test_territories_are_iso_3166_and_ww_swallows_the_rest() -> None:
    assert check_territory_list(["se", "ES", "ES"]) == ["ES", "SE"]
    assert check_territory_list(["ES", "WW"]) == ["WW"]
    with pytest.raises(InvalidInput) as raised:
        check_territory_list(["ES", "EU"])
    assert raised.value.details == {"field": "territories", "value": "EU"}
    with pytest.raises(InvalidInput):
        check_territory_list([])


def test_uses_come_from_the_vocabulary() -> None:
    assert check_use_list(["voice-clone", "train-genai"]) == ["train-genai", "voice-clone"]
    with pytest.raises(InvalidInput) as raised:
        check_use_list(["train-genai", "karaoke"])
    assert raised.value.details["value"] == "karaoke"


def test_period_must_not_end_before_it_starts() -> None:
    check_period(dt.date(2025, 1, 1), dt.date(2025, 1, 1))
    check_period(dt.date(2025, 1, 1), None)
    with pytest.raises(InvalidInput) as raised:
        check_period(dt.date(2025, 1, 2), dt.date(2025, 1, 1))
    assert raised.value.details["field"] == "valid_to"


def test_sha256_is_64_hex_characters() -> None:
    digest = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
    assert check_sha256(digest) == digest.lower()
    for bad in (digest[:-1], digest[:-1] + "G", ""):
        with pytest.raises(InvalidInput):
            check_sha256(bad)


def test_weights_are_positive_numbers() -> None:
    assert check_weight("0.5") == Decimal("0.500000")
    assert check_weight(2) == Decimal("2.000000")
    for bad in ("0", "-1", "abc", "NaN", "Infinity"):
        with pytest.raises(InvalidInput) as raised:
            check_weight(bad)
        assert raised.value.details["field"] == "weight"

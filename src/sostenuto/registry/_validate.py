"""Checks and normalisation of identifiers and values the registry stores.

Every check returns the normalised value or raises :class:`InvalidInput` naming the field and
the value, so a front end can show the message as it is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sostenuto.errors import InvalidInput
from sostenuto.vocabulary import check_territory, check_use, territory_codes

# Element 1 of an ISRC is drawn from ISO 3166-1 alpha-2, but the ISRC agency also allocates
# prefixes that are not (or no longer) countries: extra prefixes of busy national agencies
# (QM/QT/QZ for the US, UK/GX for the UK, BC/BK/BP/BX for Brazil, ...), its own reserved
# prefixes (CP, DG, QN, ZZ) and the prefixes of ceased states (CS, YU) that stay valid on
# recordings coded before. Source: ISRC agency bulletin 2015/01 and its "valid characters" list.
ISRC_SPECIAL_PREFIXES = frozenset(
    {"BC", "BK", "BP", "BX", "CB", "CP", "CS", "DG", "FX", "GX", "KS", "QM", "QN", "QT", "QZ"}
    | {"UK", "YU", "ZB", "ZZ"}
)

_ISRC_SHAPE = re.compile(r"[A-Z]{2}[A-Z0-9]{3}[0-9]{7}")
_ISRC_SEPARATORS = str.maketrans("", "", "- \t")
_ISNI_SHAPE = re.compile(r"[0-9]{15}[0-9X]")
_IPN_SHAPE = re.compile(r"[0-9]{1,11}")
_SHA256_SHAPE = re.compile(r"[0-9a-f]{64}")
_CODE_SHAPE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,31}")

CONTRIBUTION_KINDS = ("voice", "instrument")
LICENSEE_KINDS = ("developer", "platform")
LICENCE_STATUSES = ("active", "suspended", "ended")


def _invalid(field: str, value: object, why: str) -> InvalidInput:
    return InvalidInput(
        f"invalid {field} {value!r}: {why}", details={"field": field, "value": value}
    )


def normalise_isrc(value: str) -> str:
    """The 12-character ISRC in upper case, from any of its written forms.

    ``es-a1b-24-00001``, ``ISRC ES A1B 24 00001`` and ``ESA1B2400001`` all give
    ``ESA1B2400001``. Element 1 must be an ISO 3166 code or a prefix the ISRC agency allocates.
    """
    compact = value.translate(_ISRC_SEPARATORS).upper()
    if compact.startswith("ISRC") and len(compact) == 16:
        compact = compact[4:]
    if len(compact) != 12:
        raise _invalid("isrc", value, f"an ISRC has 12 characters, this has {len(compact)}")
    if not _ISRC_SHAPE.fullmatch(compact):
        raise _invalid(
            "isrc",
            value,
            "the form is CC-XXX-YY-NNNNN: 2 letters, 3 letters or digits, "
            "2 digits of year, 5 digits of designation",
        )
    prefix = compact[:2]
    if prefix not in ISRC_SPECIAL_PREFIXES and prefix not in territory_codes():
        raise _invalid(
            "isrc", value, f"{prefix!r} is neither an ISO 3166 country code nor an ISRC prefix"
        )
    return compact


def format_isrc(isrc: str) -> str:
    """The hyphenated display form ``CC-XXX-YY-NNNNN`` of a normalised ISRC."""
    return f"{isrc[:2]}-{isrc[2:5]}-{isrc[5:7]}-{isrc[7:]}"


def isni_check_character(digits: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 15 digits of an ISNI."""
    total = 0
    for char in digits:
        total = (total + int(char)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def normalise_isni(value: str) -> str:
    """16 characters (15 digits and a check digit or ``X``), spaces and hyphens dropped."""
    compact = value.translate(_ISRC_SEPARATORS).upper()
    if compact.startswith("ISNI"):
        compact = compact[4:]
    if not _ISNI_SHAPE.fullmatch(compact):
        raise _invalid("isni", value, "an ISNI is 15 digits and a check digit or X")
    expected = isni_check_character(compact[:15])
    if compact[15] != expected:
        raise _invalid("isni", value, f"the check character should be {expected!r}")
    return compact


def normalise_ipn(value: str) -> str:
    """An International Performer Number (SCAPR IPD): digits only, at most 11.

    The IPN has no public check-digit rule, so only its form is checked.
    """
    compact = value.strip()
    if not _IPN_SHAPE.fullmatch(compact):
        raise _invalid("ipn", value, "an IPN is a number of 1 to 11 digits")
    return compact


def check_sha256(value: str) -> str:
    """A SHA-256 digest as 64 lower-case hexadecimal characters."""
    normal = value.strip().lower()
    if not _SHA256_SHAPE.fullmatch(normal):
        raise _invalid("audio_sha256", value, "a SHA-256 digest is 64 hexadecimal characters")
    return normal


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        raise InvalidInput(
            f"cannot read audio file {str(path)!r}: {error.strerror}", details={"path": str(path)}
        ) from None
    return digest.hexdigest()


def check_country(value: str, field: str = "country") -> str:
    """An ISO 3166-1 alpha-2 country (``WW`` is a territory, not a country)."""
    try:
        return check_territory(value, allow_worldwide=False)
    except InvalidInput:
        raise _invalid(field, value, "not an ISO 3166-1 alpha-2 country code") from None


def check_territory_list(values: Iterable[str], field: str = "territories") -> list[str]:
    """Sorted, distinct territories; ``WW`` alone stands for every territory."""
    checked: set[str] = set()
    for value in values:
        try:
            checked.add(check_territory(value))
        except InvalidInput:
            raise _invalid(field, value, "not an ISO 3166-1 alpha-2 code or 'WW'") from None
    if not checked:
        raise InvalidInput(f"{field}: at least one territory is required", details={"field": field})
    if "WW" in checked:
        return ["WW"]
    return sorted(checked)


def check_use_list(values: Iterable[str], field: str = "uses") -> list[str]:
    checked: set[str] = set()
    for value in values:
        try:
            checked.add(check_use(value))
        except InvalidInput as error:
            raise _invalid(field, value, error.message) from None
    if not checked:
        raise InvalidInput(f"{field}: at least one use is required", details={"field": field})
    return sorted(checked)


def check_period(valid_from: dt.date, valid_to: dt.date | None) -> None:
    if valid_to is not None and valid_to < valid_from:
        raise InvalidInput(
            f"invalid period: valid_to {valid_to.isoformat()} is before valid_from "
            f"{valid_from.isoformat()}",
            details={"field": "valid_to", "value": valid_to.isoformat()},
        )


def check_weight(value: Decimal | float | int | str) -> Decimal:
    """A contribution weight: a finite number greater than zero."""
    try:
        weight = Decimal(str(value).strip())
    except InvalidOperation:
        raise _invalid("weight", value, "not a number") from None
    if not weight.is_finite() or weight <= 0:
        raise _invalid("weight", value, "a weight is a number greater than 0")
    if weight >= Decimal(1_000_000):
        raise _invalid("weight", value, "a weight is below 1 000 000")
    return weight.quantize(Decimal("0.000001"))


def check_fee(value: Decimal | float | str) -> Decimal:
    """An administration fee as a fraction in [0, 1)."""
    try:
        fee = Decimal(str(value).strip())
    except InvalidOperation:
        raise _invalid("admin_fee", value, "not a number") from None
    if not fee.is_finite() or not Decimal(0) <= fee < Decimal(1):
        raise _invalid("admin_fee", value, "a fee is a fraction from 0 up to, not including, 1")
    return fee.quantize(Decimal("0.0001"))


def check_name(value: str, field: str = "name", *, limit: int = 300) -> str:
    name = " ".join(value.split())
    if not name:
        raise _invalid(field, value, "must not be empty")
    if len(name) > limit:
        raise _invalid(field, value[:40] + "…", f"longer than {limit} characters")
    return name


def check_cmo_code(value: str) -> str:
    code = value.strip().upper()
    if not _CODE_SHAPE.fullmatch(code):
        raise _invalid("code", value, "2 to 32 letters, digits or hyphens")
    return code


def check_choice(value: str, field: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _invalid(field, value, f"must be one of: {', '.join(choices)}")
    return value


_LATEST_YEAR = dt.date.today().year + 1


def check_year(value: int) -> int:
    if not 1877 <= value <= _LATEST_YEAR:  # Edison's phonograph: 1877
        raise _invalid("fixation_year", value, "not a plausible year of fixation")
    return value


def check_duration_ms(value: int) -> int:
    if not 0 < value < 100 * 3600 * 1000:
        raise _invalid("duration_ms", value, "a duration is positive and under 100 hours")
    return value


def check_conditions(values: Iterable[str]) -> list[str]:
    """Conditions of a licence: short kebab-case codes such as ``remuneration``."""
    checked = sorted({value.strip() for value in values})
    for value in checked:
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,63}", value):
            raise _invalid("conditions", value, "a condition is a kebab-case code")
    return checked

"""Streaming readers of catalogue files: CSV and DDEX-style JSON (JSON Lines or an array).

Each reader yields, in file order, either a :class:`ParsedRow` (one recording and at most one
contributor, already validated) or a :class:`RowError`. Nothing here touches the database.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from sostenuto.errors import InvalidInput, SostenutoError, UnsupportedFormat
from sostenuto.registry._validate import (
    CONTRIBUTION_KINDS,
    check_duration_ms,
    check_name,
    check_sha256,
    check_weight,
    check_year,
    normalise_ipn,
    normalise_isni,
    normalise_isrc,
)

RECORD_TEXT_LIMIT = 300
ONE = Decimal(1).quantize(Decimal("0.000001"))


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that was skipped: its line in the file, why, and its text."""

    line: int
    reason: str
    record: str | None = None


@dataclass(slots=True)
class Contributor:
    name: str
    isni: str | None
    ipn: str | None
    featured: bool
    kind: str
    instrument: str | None
    weight: Decimal
    # How the contributor is matched to a performer, identifiers first, the name last.
    keys: tuple[tuple[str, str], ...]
    # What tells two contributors of one recording apart (the first key).
    identity: tuple[str, str]
    # Identifiers when the file gives any; a bare name is matched within the CMO.
    lookup_keys: tuple[tuple[str, str], ...]


@dataclass(slots=True)
class ParsedRow:
    """One recording as a row gives it, with the contributors that row names."""

    line: int
    isrc: str
    title: str
    duration_ms: int | None
    fixation_year: int | None
    audio_sha256: str | None
    contributors: tuple[Contributor, ...]
    raw: str | list[str]  # the row as read; turned into text only when it is reported
    # True when the row is the whole recording (a JSON record): it never continues another.
    whole: bool = False

    @property
    def record(self) -> str:
        return _clip(self.raw if isinstance(self.raw, str) else ",".join(self.raw))


def _clip(text: str) -> str:
    return text if len(text) <= RECORD_TEXT_LIMIT else text[: RECORD_TEXT_LIMIT - 1] + "…"


# ---------------------------------------------------------------- CSV

CSV_COLUMNS = (
    "isrc",
    "title",
    "duration_ms",
    "fixation_year",
    "audio_sha256",
    "performer_name",
    "performer_isni",
    "performer_ipn",
    "featured",
    "kind",
    "instrument",
    "weight",
)
CSV_REQUIRED = ("isrc", "title")
_TRUE = frozenset({"true", "yes", "y", "1", "featured"})
_FALSE = frozenset({"", "false", "no", "n", "0", "non-featured"})


def _int_field(value: str, field: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"invalid {field} {value!r}: not a whole number") from None


def _flag(value: str, field: str) -> bool:
    normal = value.strip().lower()
    if normal in _TRUE:
        return True
    if normal in _FALSE:
        return False
    raise InvalidInput(f"invalid {field} {value!r}: use true or false")


_CONTRIBUTOR_CACHE: dict[tuple[object, ...], Contributor] = {}
_CACHE_LIMIT = 500_000


def _contributor(
    name: str,
    isni: str,
    ipn: str,
    featured: bool | str,
    kind: str,
    instrument: str,
    weight: str | Decimal | float | int | None,
) -> Contributor:
    """A checked contributor. The same performer recurs on many rows of a catalogue, so
    checked contributors are remembered by their raw fields (they are never mutated)."""
    key = (name, isni, ipn, featured, kind, instrument, weight)
    found = _CONTRIBUTOR_CACHE.get(key)
    if found is None:
        found = _check_contributor(name, isni, ipn, featured, kind, instrument, weight)
        if len(_CONTRIBUTOR_CACHE) >= _CACHE_LIMIT:
            _CONTRIBUTOR_CACHE.clear()
        _CONTRIBUTOR_CACHE[key] = found
    return found


def _check_contributor(
    name: str,
    isni: str,
    ipn: str,
    featured: bool | str,
    kind: str,
    instrument: str,
    weight: str | Decimal | float | int | None,
) -> Contributor:
    kind = kind.strip().lower()
    if kind not in CONTRIBUTION_KINDS:
        raise InvalidInput(f"invalid kind {kind!r}: must be one of: voice, instrument")
    instrument = " ".join(instrument.split())
    if kind == "voice" and instrument:
        raise InvalidInput(f"invalid instrument {instrument!r}: a voice names no instrument")
    if len(instrument) > 100:
        raise InvalidInput("invalid instrument: longer than 100 characters")
    if isinstance(featured, str):
        featured = _flag(featured, "featured")
    name = check_name(name, "performer_name")
    isni_value = normalise_isni(isni) if isni else None
    ipn_value = normalise_ipn(ipn) if ipn else None
    keys: list[tuple[str, str]] = []
    if isni_value:
        keys.append(("isni", isni_value))
    if ipn_value:
        keys.append(("ipn", ipn_value))
    keys.append(("name", name))
    return Contributor(
        name=name,
        isni=isni_value,
        ipn=ipn_value,
        featured=featured,
        kind=kind,
        instrument=instrument or None,
        weight=ONE if weight is None or weight == "" else check_weight(weight),
        keys=tuple(keys),
        identity=keys[0],
        lookup_keys=tuple(keys[:-1] if len(keys) > 1 else keys),
    )


_RecordingFields = tuple[str, str, int | None, int | None, str | None]


def _recording_fields(
    isrc: str, title: str, duration: str, year: str, sha: str
) -> _RecordingFields:
    duration, year, sha = duration.strip(), year.strip(), sha.strip()
    return (
        normalise_isrc(isrc),
        check_name(title, "title", limit=500),
        check_duration_ms(_int_field(duration, "duration_ms")) if duration else None,
        check_year(_int_field(year, "fixation_year")) if year else None,
        check_sha256(sha) if sha else None,
    )


def _csv_contributors(values: list[str]) -> tuple[Contributor, ...]:
    name, isni, ipn, featured, kind, instrument, weight = values[5:12]
    name, isni, ipn, kind = name.strip(), isni.strip(), ipn.strip(), kind.strip()
    if name:
        return (_contributor(name, isni, ipn, featured, kind, instrument, weight.strip()),)
    if isni or ipn or kind:
        raise InvalidInput("invalid performer_name '': a contributor needs a name")
    return ()


def read_csv(stream: io.TextIOBase) -> Iterator[ParsedRow | RowError]:
    """Rows of a CSV catalogue; the first line is the header (see docs/registry.md)."""
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as error:
        raise UnsupportedFormat(f"unreadable CSV header: {error}") from None
    columns = [name.strip().lower() for name in header]
    unknown = sorted(set(columns) - set(CSV_COLUMNS))
    missing = [name for name in CSV_REQUIRED if name not in columns]
    duplicated = sorted({name for name in columns if columns.count(name) > 1})
    if unknown or missing or duplicated:
        raise InvalidInput(
            "the CSV header does not fit the catalogue format"
            + (f"; unknown columns: {', '.join(unknown)}" if unknown else "")
            + (f"; missing columns: {', '.join(missing)}" if missing else "")
            + (f"; repeated columns: {', '.join(duplicated)}" if duplicated else ""),
            details={"expected": list(CSV_COLUMNS)},
        )
    width = len(columns)
    # Where each canonical column sits in this file; absent columns read as empty.
    positions = [columns.index(name) if name in columns else width for name in CSV_COLUMNS]
    in_order = positions == list(range(len(CSV_COLUMNS)))
    last_raw: list[str] | None = None
    fields: _RecordingFields = ("", "", None, None, None)
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield RowError(reader.line_num, f"malformed CSV: {error}")
            continue
        line = reader.line_num
        if not values or (len(values) == 1 and not values[0].strip()):
            continue  # blank line
        if len(values) != width:
            yield RowError(
                line, f"expected {width} fields, found {len(values)}", _clip(",".join(values))
            )
            continue
        if in_order:
            ordered = values
        else:
            padded = [*values, ""]
            ordered = [padded[i] for i in positions]
        try:
            # The rows of one recording repeat its fields: check them once.
            raw_fields = ordered[:5]
            if raw_fields != last_raw:
                fields = _recording_fields(*raw_fields)
                last_raw = raw_fields
            yield ParsedRow(line, *fields, _csv_contributors(ordered), values)
        except SostenutoError as error:
            last_raw = None
            yield RowError(line, error.message, _clip(",".join(values)))


# ---------------------------------------------------------------- DDEX-style JSON

_DURATION = re.compile(
    r"P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)
_VOICE_ROLES = frozenset(
    {"vocalist", "leadvocalist", "backgroundvocalist", "backingvocalist", "singer", "rapper"}
    | {"narrator", "speaker", "voiceactor", "choir", "chorus"}
)
_INSTRUMENT_ROLES = frozenset({"musician", "instrumentalist", "orchestra", "ensemble"})
_FEATURED_ROLES = frozenset({"mainartist", "featuredartist", "primaryartist", "soloist"})


def parse_iso_duration(value: str) -> int:
    """Milliseconds from an ISO 8601 duration such as ``PT3M25.5S``."""
    match = _DURATION.fullmatch(value.strip())
    if not match or not any(match.groupdict().values()) or value.strip().endswith("T"):
        raise InvalidInput(f"invalid Duration {value!r}: use ISO 8601, such as PT3M25S")
    parts = {key: float(number) if number else 0.0 for key, number in match.groupdict().items()}
    seconds = parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
    return check_duration_ms(round(seconds * 1000))


def _text(value: Any, field: str) -> str:
    if isinstance(
        value, dict
    ):  # DDEX often wraps text: {"#text": ..., "LanguageAndScriptCode": ...}
        value = value.get("#text", value.get("Value"))
    if not isinstance(value, str):
        raise InvalidInput(f"invalid {field} {value!r}: expected text")
    return value


def _roles(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [_text(item, "Role").replace(" ", "").lower() for item in items]


def _ddex_contributor(item: Any) -> Contributor:
    if not isinstance(item, dict):
        raise InvalidInput("invalid ResourceContributor: expected an object")
    name = item.get("DisplayName") or (item.get("PartyName") or {}).get("FullName")
    if name is None:
        raise InvalidInput("invalid ResourceContributor: DisplayName is missing")
    party = item.get("PartyId") or {}
    if isinstance(party, list):
        merged: dict[str, Any] = {}
        for entry in party:
            merged.update(entry if isinstance(entry, dict) else {})
        party = merged
    roles = _roles(item.get("Role", item.get("ResourceContributorRole")))
    instrument = item.get("InstrumentType")
    if isinstance(instrument, list):
        instrument = instrument[0] if instrument else None
    instrument_text = _text(instrument, "InstrumentType") if instrument is not None else ""
    kind = item.get("ContributionKind")
    if kind is None:
        if instrument_text or any(role in _INSTRUMENT_ROLES for role in roles):
            kind = "instrument"
        elif any(role in _VOICE_ROLES for role in roles):
            kind = "voice"
        else:
            raise InvalidInput(
                f"cannot tell voice from instrument for {name!r}: give InstrumentType, "
                "a vocal Role (such as Vocalist) or ContributionKind"
            )
    featured = item.get("HasMadeFeaturedContribution")
    if featured is None:
        featured = any(role in _FEATURED_ROLES for role in roles)
    if not isinstance(featured, bool):
        raise InvalidInput(f"invalid HasMadeFeaturedContribution {featured!r}: use true or false")
    weight = item.get("Weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float | str | None):
        raise InvalidInput(f"invalid weight {weight!r}: not a number")
    return _contributor(
        _text(name, "DisplayName"),
        str(party.get("ISNI") or ""),
        str(party.get("IPN") or ""),
        featured,
        _text(kind, "ContributionKind"),
        instrument_text,
        weight,
    )


def _ddex_isrc(obj: dict[str, Any]) -> str:
    for key in ("ResourceId", "SoundRecordingId"):
        nested = obj.get(key)
        if isinstance(nested, dict) and "ISRC" in nested:
            return _text(nested["ISRC"], "ISRC")
    if "ISRC" not in obj:
        raise InvalidInput("invalid SoundRecording: ISRC is missing")
    return _text(obj["ISRC"], "ISRC")


def _ddex_year(value: Any) -> int:
    text = str(value).strip()
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text):
        raise InvalidInput(f"invalid CreationDate {value!r}: use YYYY or YYYY-MM-DD")
    return check_year(int(text[:4]))


def _ddex_hash(value: Any) -> str:
    if isinstance(value, dict):
        algorithm = str(value.get("Algorithm", "SHA256")).replace("-", "").upper()
        if algorithm != "SHA256":
            raise InvalidInput(f"invalid HashSum algorithm {algorithm!r}: only SHA256 is kept")
        value = value.get("HashSumValue")
    return check_sha256(_text(value, "HashSumValue"))


def _ddex_record(obj: Any, line: int, record: str) -> ParsedRow:
    if not isinstance(obj, dict):
        raise InvalidInput("invalid SoundRecording: expected a JSON object")
    if "SoundRecording" in obj and isinstance(obj["SoundRecording"], dict):
        obj = obj["SoundRecording"]
    contributors = obj.get("ResourceContributor", obj.get("Contributor", []))
    if isinstance(contributors, dict):
        contributors = [contributors]
    if not isinstance(contributors, list):
        raise InvalidInput("invalid ResourceContributor: expected a list")
    duration = obj.get("Duration")
    year = obj.get("CreationDate")
    sha = obj.get("HashSum")
    return ParsedRow(
        line=line,
        isrc=normalise_isrc(_ddex_isrc(obj)),
        title=check_name(
            _text(obj.get("DisplayTitleText"), "DisplayTitleText"), "title", limit=500
        ),
        duration_ms=parse_iso_duration(_text(duration, "Duration")) if duration else None,
        fixation_year=_ddex_year(year) if year else None,
        audio_sha256=_ddex_hash(sha) if sha else None,
        contributors=tuple(_ddex_contributor(item) for item in contributors),
        raw=record,
        whole=True,
    )


def _parse_ddex(obj: Any, line: int, record: str) -> ParsedRow | RowError:
    try:
        return _ddex_record(obj, line, record)
    except SostenutoError as error:
        return RowError(line, error.message, record)


def read_ddex_lines(stream: io.TextIOBase) -> Iterator[ParsedRow | RowError]:
    """JSON Lines: one SoundRecording object per line, blank lines ignored."""
    for line, text in enumerate(stream, start=1):
        stripped = text.strip()
        if not stripped:
            continue
        try:
            obj = orjson.loads(stripped)
        except orjson.JSONDecodeError as error:
            yield RowError(line, f"malformed JSON: {error}", _clip(stripped))
            continue
        yield _parse_ddex(obj, line, _clip(stripped))


def read_ddex_array(text: str) -> Iterator[ParsedRow | RowError]:
    """A JSON array of SoundRecording objects; each is reported at the line it starts on."""
    decoder = json.JSONDecoder()
    size = len(text)
    counted, line = 0, 1

    def line_at(pos: int) -> int:
        nonlocal counted, line
        line += text.count("\n", counted, pos)
        counted = pos
        return line

    def skip(pos: int) -> int:
        while pos < size and text[pos] in " \t\r\n":
            pos += 1
        return pos

    position = skip(text.index("[") + 1)
    if position < size and text[position] == "]":
        return
    while position < size:
        start_line = line_at(position)
        try:
            obj, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            # The rest of the array cannot be delimited reliably: report it and stop.
            yield RowError(
                start_line, f"malformed JSON: {error.msg}", _clip(text[position : position + 200])
            )
            return
        yield _parse_ddex(obj, start_line, _clip(text[position:end]))
        position = skip(end)
        if position < size and text[position] == ",":
            position = skip(position + 1)
        elif position < size and text[position] == "]":
            return
        else:
            yield RowError(line_at(position), "malformed JSON: expected ',' or ']' after a record")
            return

"""Streaming readers of catalogue files: CSV and DDEX-style JSON (JSON Lines or an array).

Each reader yields, in file order, either a :class:`ParsedRow` (one recording and at most one
contributor, already validated) or a :class:`RowError`. Nothing here touches the database.

A file is read as bytes, one physical line (ended by LF or CRLF) at a time, and each line is
decoded on its own: a line that is not UTF-8 is one bad row, reported with the offset of its
first bad byte in the file, and the lines after it are read as usual. A CSV record is one
physical line; quoting is checked strictly (RFC 4180, without line breaks inside quotes).
Whatever a row holds, a reader turns it into a row or a row error; only a file that does not
fit the format at all (its header, or a JSON array that cannot be delimited) raises, and it
does so before the first row is handed on, so that nothing of it is written.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, BinaryIO

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
_NAMED_FIELD = re.compile(r"invalid ([a-z_]+) ")
ONE = Decimal(1).quantize(Decimal("0.000001"))


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that was skipped: its line in the file, why, its text, and the column at fault
    where one check names it."""

    line: int
    reason: str
    record: str | None = None
    field: str | None = None


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
    # An audio file to fingerprint with the recording (a local import reads it).
    audio_path: str | None = None

    @property
    def record(self) -> str:
        return _clip(self.raw if isinstance(self.raw, str) else ",".join(self.raw))


def _field_of(error: SostenutoError) -> str | None:
    """The column a check named in its error (its details, else "invalid <column> ...")."""
    field = error.details.get("field")
    if isinstance(field, str):
        return field
    named = _NAMED_FIELD.match(error.message)
    return named.group(1) if named and named.group(1) in _ALL_COLUMNS else None


def _clip(text: str) -> str:
    return text if len(text) <= RECORD_TEXT_LIMIT else text[: RECORD_TEXT_LIMIT - 1] + "…"


# ---------------------------------------------------------------- lines and encoding

_BOM = "\ufeff"


def _not_utf8(error: UnicodeDecodeError, data: bytes, offset: int) -> str:
    """Why a line is not text: the bad byte and its offset in the file (counted from 0)."""
    return (
        f"not UTF-8: byte 0x{data[error.start]:02x} at byte offset {offset + error.start} "
        f"({error.reason}); catalogue files are UTF-8"
    )


def _without_line_end(text: str) -> str:
    if text.endswith("\n"):
        return text[:-2] if text.endswith("\r\n") else text[:-1]
    return text


def physical_lines(raw: BinaryIO) -> Iterator[tuple[int, str | RowError]]:
    """Each line of the file with its number, decoded and without its line end (LF or
    CRLF); a line that is not UTF-8 comes as a :class:`RowError` naming the bad byte."""
    offset = 0
    for number, data in enumerate(raw, start=1):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            record = _without_line_end(data.decode("utf-8", "backslashreplace"))
            yield number, RowError(number, _not_utf8(error, data, offset), _clip(record))
        else:
            if number == 1 and text.startswith(_BOM):
                text = text[1:]
            yield number, _without_line_end(text)
        offset += len(data)


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
# Optional, after the others: an audio file to fingerprint (read by local imports only).
CSV_AUDIO_COLUMN = "audio_path"
_ALL_COLUMNS = (*CSV_COLUMNS, CSV_AUDIO_COLUMN)
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
    checked_weight = ONE if weight is None or weight == "" else check_weight(weight)
    if not checked_weight:  # a weight such as 1e-9 is kept with 6 decimals: 0
        raise InvalidInput(f"invalid weight {weight!r}: below 0.000001, the smallest weight kept")
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
        weight=checked_weight,
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


def _quoted_fields(text: str) -> list[str]:
    """The fields of a line that holds a quote, read strictly: a quoted field starts right
    after a comma (or at the line's start), doubles its inner quotes and ends right before a
    comma (or at the line's end); no other field holds a quote. A quote left open at the end
    of the line is an error: a record is one line, so it never runs into the next one."""
    values: list[str] = []
    position, size = 0, len(text)
    while True:
        number = len(values) + 1
        if text.startswith('"', position):
            parts: list[str] = []
            start = position + 1
            while True:
                close = text.find('"', start)
                if close < 0:
                    raise InvalidInput(
                        f"unterminated quote in field {number}: no closing quote on this line "
                        "(a record is one line; a field holds no line break)"
                    )
                if text.startswith('"', close + 1):  # a doubled quote stands for one
                    parts.append(text[start : close + 1])
                    start = close + 2
                    continue
                parts.append(text[start:close])
                break
            values.append("".join(parts))
            position = close + 1
            if position == size:
                return values
            if text[position] != ",":
                raise InvalidInput(
                    f"broken CSV quoting in field {number}: text after the closing quote "
                    f"({_clip(text[position : position + 20])!r})"
                )
            position += 1
        else:
            comma = text.find(",", position)
            value = text[position:] if comma < 0 else text[position:comma]
            if '"' in value:
                raise InvalidInput(
                    f"broken CSV quoting in field {number}: a quote inside an unquoted field "
                    f"({_clip(value)!r}); quote the whole field and double its quotes"
                )
            values.append(value)
            if comma < 0:
                return values
            position = comma + 1


def _csv_fields(text: str) -> list[str]:
    if '"' not in text:
        return text.split(",")
    return _quoted_fields(text)


def _csv_header(lines: Iterator[tuple[int, str | RowError]]) -> list[str] | None:
    """The header's column names; raises when the header cannot be read."""
    first = next(lines, None)
    if first is None:
        return None
    header = first[1]
    if isinstance(header, RowError):
        raise UnsupportedFormat(f"the CSV header (line 1) is {header.reason}")
    if "\r" in header:
        raise UnsupportedFormat(
            "the CSV header holds a carriage return: lines must end with LF or CRLF"
        )
    try:
        names = _csv_fields(header)
    except InvalidInput as error:
        raise UnsupportedFormat(f"unreadable CSV header: {error.message}") from None
    return [name.strip().lower() for name in names]


def read_csv(raw: BinaryIO) -> Iterator[ParsedRow | RowError]:
    """Rows of a CSV catalogue; the first line is the header (see docs/registry.md)."""
    lines = physical_lines(raw)
    columns = _csv_header(lines)
    if columns is None:
        return
    unknown = sorted(set(columns) - set(_ALL_COLUMNS))
    missing = [name for name in CSV_REQUIRED if name not in columns]
    duplicated = sorted({name for name in columns if columns.count(name) > 1})
    if unknown or missing or duplicated:
        raise InvalidInput(
            "the CSV header does not fit the catalogue format"
            + (f"; unknown columns: {', '.join(unknown)}" if unknown else "")
            + (f"; missing columns: {', '.join(missing)}" if missing else "")
            + (f"; repeated columns: {', '.join(duplicated)}" if duplicated else ""),
            details={"expected": list(_ALL_COLUMNS)},
        )
    width = len(columns)
    # Where each canonical column sits in this file; absent columns read as empty.
    positions = [columns.index(name) if name in columns else width for name in _ALL_COLUMNS]
    in_order = positions == list(range(len(_ALL_COLUMNS)))
    last_raw: list[str] | None = None
    fields: _RecordingFields = ("", "", None, None, None)
    for line, text in lines:
        if isinstance(text, RowError):
            yield text
            continue
        if not text or text.isspace():
            continue  # blank line
        try:
            values = text.split(",") if '"' not in text else _quoted_fields(text)
            if "\x00" in text:  # PostgreSQL stores no NUL character
                raise InvalidInput("the row holds a NUL character (U+0000)")
        except InvalidInput as error:
            yield RowError(line, error.message, _clip(text))
            continue
        if len(values) != width:
            yield RowError(line, f"expected {width} fields, found {len(values)}", _clip(text))
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
            row = ParsedRow(line, *fields, _csv_contributors(ordered), text)
            # Files without the column (most) stay "in order" and have 12 fields.
            row.audio_path = ordered[12].strip() or None if len(ordered) > 12 else None
            yield row
        except SostenutoError as error:
            last_raw = None
            yield RowError(line, error.message, _clip(text), _field_of(error))
        except (ValueError, ArithmeticError) as error:  # a value no check foresaw
            last_raw = None
            yield RowError(line, f"invalid value: {error}", _clip(text))


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
    if not math.isfinite(seconds) or seconds > 1e9:
        raise InvalidInput(f"invalid Duration {value!r}: a duration is under 100 hours")
    return check_duration_ms(round(seconds * 1000))


# Text no database column takes: PostgreSQL stores no NUL and no driver encodes a lone
# surrogate. In JSON they come only from escapes (\\u0000, \\ud800), so a record's text is
# searched for such an escape first and its values only when one is there.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89abAB])")


def _unstorable(value: Any) -> bool:
    """Whether any string in a parsed JSON value holds a NUL or a lone surrogate."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(_unstorable(key) or _unstorable(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_unstorable(item) for item in value)
    return False


def _checked_json(obj: Any, text: str, line: int) -> RowError | None:
    if _UNSTORABLE_ESCAPE.search(text) and _unstorable(obj):
        return RowError(
            line,
            "the record holds a NUL character or a lone surrogate (\\u0000, \\ud800…)",
            _clip(text),
        )
    return None


def _text(value: Any, field: str) -> str:
    # DDEX often wraps text: {"#text": ..., "LanguageAndScriptCode": ...}
    if isinstance(value, dict):
        value = value.get("#text", value.get("Value"))
    if not isinstance(value, str):
        raise InvalidInput(f"invalid {field} {_clip(repr(value))}: expected text")
    return value


def _roles(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [_text(item, "Role").replace(" ", "").lower() for item in items]


def _ddex_contributor(item: Any) -> Contributor:
    if not isinstance(item, dict):
        raise InvalidInput("invalid ResourceContributor: expected an object")
    party_name = item.get("PartyName")
    name = item.get("DisplayName") or (
        party_name.get("FullName") if isinstance(party_name, dict) else None
    )
    if name is None:
        raise InvalidInput("invalid ResourceContributor: DisplayName is missing")
    party = item.get("PartyId") or {}
    if isinstance(party, list):
        merged: dict[str, Any] = {}
        for entry in party:
            merged.update(entry if isinstance(entry, dict) else {})
        party = merged
    if not isinstance(party, dict):
        raise InvalidInput(f"invalid PartyId {_clip(repr(party))}: expected an object")
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
    audio = obj.get("AudioFile")  # a Sostenuto extension: the recording's audio file
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
        audio_path=_text(audio, "AudioFile").strip() or None if audio else None,
    )


def _parse_ddex(obj: Any, line: int, record: str) -> ParsedRow | RowError:
    try:
        return _ddex_record(obj, line, record)
    except SostenutoError as error:
        return RowError(line, error.message, record, _field_of(error))
    except (ValueError, ArithmeticError, TypeError, AttributeError, RecursionError) as error:
        # A shape no check foresaw: still this record's error, never the whole file's.
        return RowError(line, f"invalid SoundRecording: {_clip(str(error))}", record)


def read_ddex_lines(raw: BinaryIO) -> Iterator[ParsedRow | RowError]:
    """JSON Lines: one SoundRecording object per line, blank lines ignored."""
    for line, text in physical_lines(raw):
        if isinstance(text, RowError):
            yield text
            continue
        stripped = text.strip()
        if not stripped:
            continue
        try:
            obj = orjson.loads(stripped)
        except orjson.JSONDecodeError as error:
            yield RowError(line, f"malformed JSON: {error}", _clip(stripped))
            continue
        yield _checked_json(obj, stripped, line) or _parse_ddex(obj, line, _clip(stripped))


def _array_text(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise UnsupportedFormat(
            f"the JSON array is {_not_utf8(error, data, 0)} (line {line}); nothing was imported",
            details={"line": line, "offset": error.start},
        ) from None
    return text.removeprefix(_BOM)


def _array_records(text: str) -> list[tuple[int, Any, str]]:
    """Every record of the array with the line it starts on, or :class:`InvalidInput` when
    the array is malformed: past a syntax error its records cannot be delimited, so the whole
    file is refused before anything of it is written."""
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

    def refuse(pos: int, why: str) -> InvalidInput:
        where = line_at(pos)
        column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        return InvalidInput(
            f"malformed JSON array at line {where}, column {column}: {why}; nothing was "
            "imported (records after a syntax error cannot be delimited)",
            details={"line": where, "column": column},
        )

    records: list[tuple[int, Any, str]] = []
    position = skip(text.index("[") + 1)
    if position < size and text[position] == "]":
        return records
    while True:
        if position >= size:
            raise refuse(position, "the array is not closed")
        start_line = line_at(position)
        try:
            obj, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise refuse(error.pos, error.msg) from None
        except RecursionError:
            raise refuse(position, "nested too deeply") from None
        records.append((start_line, obj, text[position:end]))
        position = skip(end)
        if position < size and text[position] == ",":
            position = skip(position + 1)
        elif position < size and text[position] == "]":
            return records
        else:
            raise refuse(position, "expected ',' or ']' after a record")


def read_ddex_array(data: bytes) -> Iterator[ParsedRow | RowError]:
    """A JSON array of SoundRecording objects; each is reported at the line it starts on.

    The array is read whole (it is for small files) and delimited before any record is
    handed on."""
    for line, obj, record in _array_records(_array_text(data)):
        yield _checked_json(obj, record, line) or _parse_ddex(obj, line, _clip(record))

"""Catalogue import is all-or-report: every bad row is reported at its line and the good rows
around it are imported, or the whole file is refused before anything is written — never both.

Regressions of issue finding 8 (broken CSV quoting imported mangled, one non-UTF-8 row ending
an import half-way, an unterminated quote swallowing the rows after it) and properties over
any mix of good and bad rows.
"""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from sostenuto.auth import OPERATOR
from sostenuto.errors import InvalidInput, UnsupportedFormat
from sostenuto.registry import CSV_COLUMNS, add_cmo, import_catalogue, show_recording
from sostenuto.registry._readers import ParsedRow, RowError, read_csv, read_ddex_lines
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Contribution, Performer, Recording

from .conftest import Registry

HEADER = ",".join(CSV_COLUMNS)
ISNI_A = "0000000218250097"


def _row(isrc: str, title: str, name: str = "Carmen Olmos") -> str:
    return f"{isrc},{title},200000,2020,,{name},,,true,voice,,1"


def _count(database: Database, table: type) -> int:
    with database.reader() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def _titles(database: Database) -> dict[str, str]:
    with database.reader() as session:
        rows = session.execute(select(Recording.isrc, Recording.title))
        return {isrc: title for isrc, title in rows}


# ---------------------------------------------------------------- finding 8, regressions


def test_broken_quoting_is_reported_not_imported_mangled(reg: Registry, tmp_path: Path) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(
        "\n".join(
            [
                HEADER,
                _row("ESA7Q2400001", '"Calima, ""live"""'),  # good: quoted, quotes doubled
                _row("ESA7Q2400002", 'Ca"lima'),  # a quote inside an unquoted field
                _row("ESA7Q2400003", '"Luz" de enero'),  # text after the closing quote
                _row("ESA7Q2400004", ' "Sal"'),  # a quoted field must start at the comma
                _row("ESA7Q2400005", "Marea"),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    report = import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie)
    errors = {error.line: error for error in report.errors}
    assert sorted(errors) == [3, 4, 5]
    assert "quote inside an unquoted field" in errors[3].reason
    assert "after the closing quote" in errors[4].reason
    assert "quote inside an unquoted field" in errors[5].reason
    assert errors[3].record is not None and errors[3].record.startswith("ESA7Q2400002")
    assert report.imported == 2
    assert _titles(reg.database) == {
        "ESA7Q2400001": 'Calima, "live"',
        "ESA7Q2400005": "Marea",
    }


def test_an_unterminated_quote_swallows_nothing(reg: Registry, tmp_path: Path) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(
        "\n".join(
            [
                HEADER,
                _row("ESA7Q2400001", "Calima"),
                _row("ESA7Q2400002", '"Luz de enero'),  # never closed
                _row("ESA7Q2400003", "Marea"),
                _row("ESA7Q2400004", "Sal"),
                _row("ESA7Q2400005", '"Orilla'),  # never closed, and the last row
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    report = import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie)
    assert [(e.line, "unterminated quote" in e.reason) for e in report.errors] == [
        (3, True),
        (6, True),
    ]
    assert report.imported == 3
    assert sorted(_titles(reg.database).values()) == ["Calima", "Marea", "Sal"]


def test_a_field_that_runs_across_a_line_end_is_two_bad_lines(
    reg: Registry, tmp_path: Path
) -> None:
    """A record is one physical line: a quoted line break is not part of the format."""
    path = tmp_path / "catalogue.csv"
    path.write_bytes(
        (
            f"{HEADER}\r\n"
            + _row("ESA7Q2400001", '"Calima')
            + "\r\n"
            + 'live",200000,2020,,Carmen Olmos,,,true,voice,,1\r\n'
            + _row("ESA7Q2400002", "Marea")
            + "\r\n"
        ).encode()
    )
    report = import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie)
    assert [e.line for e in report.errors] == [2, 3]
    assert "unterminated quote" in report.errors[0].reason
    assert "quote inside an unquoted field" in report.errors[1].reason
    assert _titles(reg.database) == {"ESA7Q2400002": "Marea"}


def _latin1_file(path: Path, rows: int, bad_at: int) -> tuple[bytes, int]:
    """A catalogue with ``rows`` data rows whose row on line ``bad_at`` is Latin-1 encoded;
    the file's bytes and the offset of the bad byte."""
    lines = [HEADER.encode()]
    for line in range(2, rows + 2):
        title = "Canción" if line == bad_at else f"Tema {line}"
        text = _row(f"ESA7Q24{line:05d}", title)
        lines.append(text.encode("latin-1" if line == bad_at else "utf-8"))
    data = b"\n".join(lines) + b"\n"
    path.write_bytes(data)
    return data, data.index(b"\xf3")


def test_a_row_that_is_not_utf8_is_reported_and_the_rest_imported(
    reg: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "catalogue.csv"
    _, offset = _latin1_file(path, rows=30, bad_at=25)
    report = import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie, chunk_size=4)
    assert [error.line for error in report.errors] == [25]
    reason = report.errors[0].reason
    assert "not UTF-8" in reason
    assert f"byte offset {offset}" in reason
    assert "0xf3" in reason
    assert report.imported == 29
    assert _count(reg.database, Recording) == 29


def test_json_lines_not_utf8_is_reported_per_record(reg: Registry, tmp_path: Path) -> None:
    records = [
        orjson.dumps({"ISRC": f"SEK4L23{n:05d}", "DisplayTitleText": f"Spår {n}"})
        for n in range(12)
    ]
    records[9] = records[9].replace("Spår".encode(), "Spår".encode("latin-1"))
    data = b"\n".join(records) + b"\n"
    path = tmp_path / "catalogue.jsonl"
    path.write_bytes(data)
    report = import_catalogue(reg.database, reg.sami_admin, path, cmo_id=reg.sami, chunk_size=3)
    offset = data.index(b"\xe5")
    assert [error.line for error in report.errors] == [10]
    assert f"byte offset {offset}" in report.errors[0].reason
    assert report.imported == 11


def test_a_header_that_is_not_utf8_refuses_the_file(reg: Registry, tmp_path: Path) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_bytes(b"isrc,t\xedtulo\n" + _row("ESA7Q2400001", "Calima").encode() + b"\n")
    with pytest.raises(UnsupportedFormat) as raised:
        import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie)
    assert "not UTF-8" in raised.value.message
    assert "byte offset 6" in raised.value.message
    assert _count(reg.database, Recording) == 0


def test_a_json_array_with_a_syntax_error_is_refused_before_anything(
    reg: Registry, tmp_path: Path
) -> None:
    """The records after a syntax error cannot be delimited: the whole array is refused
    rather than imported up to the error."""
    good = [{"ISRC": f"SEK4L23{n:05d}", "DisplayTitleText": f"Spår {n}"} for n in range(5)]
    text = orjson.dumps(good, option=orjson.OPT_INDENT_2).decode()
    text = text[: text.rindex("}")] + "}, {oops]"
    path = tmp_path / "catalogue.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as raised:
        import_catalogue(reg.database, reg.sami_admin, path, cmo_id=reg.sami, chunk_size=2)
    assert f"line {text.count(chr(10)) + 1}" in raised.value.message
    assert _count(reg.database, Recording) == 0


def test_nul_and_surrogates_are_bad_rows_not_database_errors(reg: Registry, tmp_path: Path) -> None:
    """PostgreSQL stores no NUL character and no driver encodes a lone surrogate: such a
    value must be a row error, not a failure of the chunk half-way through the file."""
    csv_path = tmp_path / "catalogue.csv"
    rows = [HEADER, _row("ESA7Q2400001", "Ca\x00lima"), _row("ESA7Q2400002", "Marea")]
    csv_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = import_catalogue(reg.database, reg.aie_admin, csv_path, cmo_id=reg.aie)
    assert [(e.line, "NUL" in e.reason) for e in report.errors] == [(2, True)]
    assert report.imported == 1
    array = tmp_path / "catalogue.json"
    array.write_text(
        '[{"ISRC": "SEK4L2300001", "DisplayTitleText": "Spår \\ud800"},\n'
        ' {"ISRC": "SEK4L2300002", "DisplayTitleText": "Spår \\u0000"},\n'
        ' {"ISRC": "SEK4L2300003", "DisplayTitleText": "Spår"}]\n',
        encoding="utf-8",
    )
    report = import_catalogue(reg.database, reg.sami_admin, array, cmo_id=reg.sami)
    assert [e.line for e in report.errors] == [1, 2]
    assert report.imported == 1


def test_a_weight_too_small_to_keep_is_a_bad_row(reg: Registry, tmp_path: Path) -> None:
    """Weights are kept with 6 decimals: 1e-9 would be stored as 0, breaking weight > 0."""
    path = tmp_path / "catalogue.csv"
    rows = [HEADER, _row("ESA7Q2400001", "Calima")[:-1] + "1e-9", _row("ESA7Q2400002", "Marea")]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie)
    assert [(e.line, "weight" in e.reason) for e in report.errors] == [(2, True)]
    assert report.imported == 1


def test_odd_json_shapes_are_row_errors(reg: Registry, tmp_path: Path) -> None:
    odd: list[dict[str, object]] = [
        {"ResourceContributor": [{"PartyName": "x"}]},
        {"ResourceContributor": [{"DisplayName": "X", "PartyId": "0000000218250097"}]},
        {"SoundRecordingId": "x"},
        {"Duration": 12},
        {"Duration": "P" + "9" * 400 + "D"},
        {"HashSum": 5},
        {},
    ]
    shapes = [
        {"ISRC": f"SEK4L23{n:05d}", "DisplayTitleText": f"Spår {n}", **shape}
        for n, shape in enumerate(odd)
    ]
    path = tmp_path / "catalogue.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(shape) for shape in shapes) + b"\n")
    report = import_catalogue(reg.database, reg.sami_admin, path, cmo_id=reg.sami)
    assert report.imported + len(report.errors) == len(shapes)
    assert report.imported == _count(reg.database, Recording) >= 1


# ---------------------------------------------------------------- readers, any input


_BAD_BYTES = st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xe2\x82"])
# Per column of CSV_COLUMNS: values it accepts, and values it refuses.
_COLUMN_VALUES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("ESA7Q2400001", "es-a7q-24-00002", "ESA7Q2400001"), ("XXA7Q2400001", "")),
    (("Calima", "Calima, live", 'Say "hi"', "Tema\x85"), ("", " ", "x" * 600)),
    (("", "200000"), ("0", "9" * 5000, "2e5")),
    (("", "2020"), ("1066", "20x0")),
    (("", "ab" * 32), ("xyz",)),
    (("Carmen Olmos", "Lucía Ferrer", "Ferrer, Lucía"), ("",)),
    (("", ISNI_A), ("0000000218250098",)),
    (("", "123"), ("12a",)),
    (("", "true", "no"), ("maybe",)),
    (("voice", "instrument"), ("", "drums")),
    (("",), ("g" * 101,)),
    (("", "1", "2.5"), ("0", "-1", "1e-9", "NaN", "Infinity", "1e999999")),
)


def _column(values: tuple[tuple[str, ...], tuple[str, ...]]) -> st.SearchStrategy[str]:
    """Mostly a value the column accepts, one time in 16 one it refuses."""
    good, bad = values
    return st.tuples(st.integers(0, 15), st.sampled_from(good), st.sampled_from(bad)).map(
        lambda pick: pick[2] if pick[0] == 0 else pick[1]
    )


def _csv_value(value: str, quote: int) -> str:
    """``value`` quoted when it must be or when asked (0); left bare one time in 8 (1)."""
    if quote == 1 or not (quote == 0 or "," in value or '"' in value):
        return value
    return '"' + value.replace('"', '""') + '"'


_ROW = st.builds(
    lambda fields, quotes: ",".join(map(_csv_value, fields, quotes)),
    st.tuples(*(_column(values) for values in _COLUMN_VALUES)),
    st.lists(st.integers(0, 7), min_size=12, max_size=12),
)
_LINE = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=80).map(str.encode),
    st.lists(
        st.one_of(st.sampled_from([b'"', b",", b'""', b"\r", b"ES", b"\x00", b"a"]), _BAD_BYTES),
        max_size=20,
    ).map(b"".join),
    _ROW.map(str.encode),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINE.map(lambda line: line.replace(b"\n", b"")), max_size=20))
def test_the_csv_reader_turns_any_line_into_one_row_or_one_error(lines: list[bytes]) -> None:
    data = (HEADER + "\n").encode() + b"\n".join(lines)
    out = list(read_csv(io.BytesIO(data)))
    expected = [number for number, line in enumerate(lines, start=2) if not _blank(line)]
    assert all(isinstance(item, ParsedRow | RowError) for item in out)
    assert all(isinstance(item.line, int) for item in out)
    assert [item.line for item in out] == expected[: len(out)]
    assert len(out) == len(expected)


def _blank(line: bytes) -> bool:
    """A line of white space only (blank lines are skipped); a line that is not UTF-8 is
    never blank."""
    try:
        return not line.decode("utf-8").strip()
    except UnicodeDecodeError:
        return False


_DDEX_KEYS = [
    *("ISRC", "DisplayTitleText", "Duration", "CreationDate", "HashSum", "ResourceContributor"),
    *("DisplayName", "PartyId", "PartyName", "Role", "InstrumentType", "Weight", "ISNI", "IPN"),
    *("SoundRecordingId", "FullName", "#text", "SoundRecording", "HasMadeFeaturedContribution"),
    *("ContributionKind", "Algorithm", "HashSumValue", "ResourceId", "Contributor"),
]
_JSON_SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["ESA7Q2400001", ISNI_A, "PT3M", "2020", "voice", "Vocalist", "1"])
)
_JSON_VALUE = st.recursive(
    _JSON_SCALAR,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(_DDEX_KEYS), inner, max_size=5)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_JSON_VALUE, min_size=1, max_size=8))
def test_the_json_lines_reader_never_fails_on_a_record(records: list[object]) -> None:
    data = b"\n".join(orjson.dumps(record) for record in records)
    out = list(read_ddex_lines(io.BytesIO(data)))
    assert [item.line for item in out] == list(range(1, len(records) + 1))


# ---------------------------------------------------------------- import, any mix of rows

GOOD, GOOD_QUOTED = "good", "good-quoted"
BAD_KINDS = (
    "bad-isrc",
    "duplicate-isrc",
    "missing-field",
    "broken-quote",
    "unterminated",
    "not-utf8",
    "bad-weight",
    "nul",
)
KINDS = (GOOD, GOOD_QUOTED, *BAD_KINDS)


def _mixed_file(kinds: list[str], crlf: bool) -> tuple[bytes, set[int], dict[str, str]]:
    """A catalogue of one row per recording: its bytes, the bad rows' lines and the good
    recordings' titles by ISRC."""
    lines = [HEADER]
    bad: set[int] = set()
    good: dict[str, str] = {}
    for index, kind in enumerate(kinds):
        isrc = f"ESA7Q24{index:05d}"
        performer = f"Performer {index % 5}"
        text = _row(isrc, f"Tema {index}", performer)
        if kind == GOOD:
            good[isrc] = f"Tema {index}"
        elif kind == GOOD_QUOTED:
            text = _row(isrc, f'"Tema {index}, ""live"""', f'"{performer}"')
            good[isrc] = f'Tema {index}, "live"'
        elif kind == "duplicate-isrc" and good:
            # Adjacent to its recording's row, its other title is the error; else the
            # recording appeared earlier in the file: a bad row either way.
            text = _row(next(iter(good)), "Tema again", "Someone Else")
        elif kind in ("bad-isrc", "duplicate-isrc"):
            text = _row("XXA7Q2400001", "Bad country")
        elif kind == "missing-field":
            text = text.rsplit(",", 1)[0]
        elif kind == "broken-quote":
            text = _row(isrc, 'Te"ma' if index % 2 else '"Tema" x', performer)
        elif kind == "unterminated":
            text = _row(isrc, '"Tema', performer)
        elif kind == "bad-weight":
            text = text[: text.rindex(",")] + ",0"
        elif kind == "nul":
            text = _row(isrc, "Te\x00ma", performer)
        elif kind == "not-utf8":
            text = (
                _row(isrc, "Canción", performer)
                .encode("latin-1")
                .decode("utf-8", "surrogateescape")
            )
        lines.append(text)
        if kind in BAD_KINDS:
            bad.add(index + 2)
    end = "\r\n" if crlf else "\n"
    return (end.join(lines) + end).encode("utf-8", "surrogateescape"), bad, good


@pytest.fixture
def cmo(database: Database) -> int:
    with database.transaction() as session:
        return add_cmo(session, OPERATOR, code="AIE", name="AIE", country="ES").id


def _empty(database: Database) -> None:
    with database.transaction() as session:
        session.execute(delete(Contribution))
        session.execute(delete(Recording))
        session.execute(delete(Performer))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=40),
    chunk_size=st.integers(1, 8),
    crlf=st.booleans(),
)
def test_any_mix_of_rows_is_imported_or_reported_and_the_summary_is_what_is_stored(
    database: Database, cmo: int, tmp_path: Path, kinds: list[str], chunk_size: int, crlf: bool
) -> None:
    _empty(database)
    data, bad, good = _mixed_file(kinds, crlf)
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    report = import_catalogue(database, OPERATOR, path, cmo_id=cmo, chunk_size=chunk_size)
    assert {error.line for error in report.errors} == bad
    assert len(report.errors) == len(bad)  # one report per bad row
    assert report.imported + len(report.errors) == len(kinds)
    assert (report.updated, report.unchanged) == (0, 0)
    assert _titles(database) == good
    assert _count(database, Recording) == report.imported
    assert _count(database, Contribution) == report.contributions_written == report.imported
    assert _count(database, Performer) == report.performers_created
    again = import_catalogue(database, OPERATOR, path, cmo_id=cmo, chunk_size=chunk_size)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, len(good))
    assert [(e.line, e.reason) for e in again.errors] == [(e.line, e.reason) for e in report.errors]


def test_show_recording_of_a_quoted_title(reg: Registry, tmp_path: Path) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(
        f'{HEADER}\nESA7Q2400001,"Calima, ""live""",,,,"Ferrer, Lucía",{ISNI_A},,1,voice,,\n',
        encoding="utf-8",
    )
    report = import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie)
    assert (report.imported, report.errors) == (1, [])
    with reg.database.reader() as session:
        recording = show_recording(session, reg.auditor, "ESA7Q2400001")
    assert recording.title == 'Calima, "live"'
    assert [c.performer_name for c in recording.contributions] == ["Ferrer, Lucía"]  # type: ignore[union-attr]

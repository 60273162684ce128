"""Bulk import: bad rows reported by line and skipped, good rows stored, re-runs idempotent."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from sostenuto.auth import OPERATOR
from sostenuto.errors import Forbidden, InvalidInput
from sostenuto.registry import (
    CSV_COLUMNS,
    RecordingInfo,
    add_cmo,
    import_catalogue,
    list_audit,
    show_recording,
)
from sostenuto.registry.synthetic import (
    ddex_record,
    synthetic_recordings,
    write_csv_catalogue,
    write_ddex_catalogue,
)
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Contribution, Performer, Recording

from .conftest import Registry

HEADER = ",".join(CSV_COLUMNS)
ISNI_A = "0000000218250097"
ISNI_B = "0000000151093700"
SHA = "ab" * 32

CSV_WITH_BAD_ROWS = f"""{HEADER}
ESA7Q2400001,Calima,176200,2024,{SHA},Lucía Ferrer,{ISNI_A},,true,voice,,2
ESA7Q2400001,Calima,176200,2024,{SHA},Mateo Ibarra,{ISNI_B},,false,instrument,guitar,1
XXA7Q2400002,Bad country,,,,Lucía Ferrer,{ISNI_A},,true,voice,,1
ESA7Q2400003,Bad ISNI,,,,Someone,0000000218250098,,true,voice,,1
ESA7Q2400004,Bad weight,,,,Carmen Olmos,,,false,instrument,cajón,0
ESA7Q2400005,Short row,,,
ESA7Q2400006,Luz de enero,198500,2019,,Carmen Olmos,,,yes,voice,,
ESA7Q2400007,Bad year,,1066,,Carmen Olmos,,,no,voice,,1
ESA7Q2400006,Luz de enero,198500,2019,,Lucía Ferrer,{ISNI_A},,no,voice,,1
ESA7Q2400008,Bad kind,,,,Carmen Olmos,,,no,drums,,1
ESA7Q2400009,Differs,,,,Carmen Olmos,,,no,voice,,1
ESA7Q2400009,Differs again,,,,Mateo Ibarra,{ISNI_B},,no,voice,,1
ESA7Q2400001,Again later,,,,Carmen Olmos,,,no,voice,,1
"""


def _count(reg: Registry, table: type) -> int:
    with reg.database.reader() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_csv_bad_rows_are_reported_by_line_and_good_rows_imported(
    reg: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(CSV_WITH_BAD_ROWS, encoding="utf-8")
    report = import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie)
    errors = {error.line: error.reason for error in report.errors}
    assert sorted(errors) == [4, 5, 6, 7, 9, 11, 13, 14]
    assert "neither an ISO 3166" in errors[4]
    assert "check character" in errors[5]
    assert "weight" in errors[6]
    assert "expected 12 fields, found 5" in errors[7]
    assert "fixation_year" in errors[9]
    assert "kind" in errors[11]
    assert "title 'Differs again' differs" in errors[13]
    assert "appeared earlier" in errors[14]
    record = next(e for e in report.errors if e.line == 4).record
    assert record is not None and record.startswith("XXA7Q2400002")
    assert (report.imported, report.updated, report.unchanged) == (3, 0, 0)
    with reg.database.reader() as session:
        calima = show_recording(session, reg.auditor, "ESA7Q2400001")
        luz = show_recording(session, reg.auditor, "ESA7Q2400006")
    assert {c.performer_name: c.kind for c in calima.contributions} == {  # type: ignore[union-attr]
        "Lucía Ferrer": "voice",
        "Mateo Ibarra": "instrument",
    }
    # Lucía is matched by her ISNI on line 10, Carmen by her name within the CMO.
    assert _count(reg, Performer) == 1 + 3  # the fixture's performer + three new ones
    assert len(luz.contributions) == 2  # type: ignore[union-attr]


def test_rerunning_the_same_file_changes_nothing(reg: Registry, tmp_path: Path) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(CSV_WITH_BAD_ROWS, encoding="utf-8")
    import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie)
    counts = [_count(reg, table) for table in (Recording, Contribution, Performer)]
    again = import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 3)
    assert len(again.errors) == 8
    assert [_count(reg, table) for table in (Recording, Contribution, Performer)] == counts


def test_changed_rows_update_and_are_audited(reg: Registry, tmp_path: Path) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(
        f"{HEADER}\nESA7Q2400001,Calima,176200,2024,,Lucía Ferrer,{ISNI_A},,true,voice,,2\n",
        encoding="utf-8",
    )
    import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie)
    path.write_text(
        f"{HEADER}\nESA7Q2400001,Calima (remaster),176200,2024,,Lucía Ferrer,{ISNI_A},,true,"
        f"voice,,3\nESA7Q2400001,Calima (remaster),,,,Mateo Ibarra,{ISNI_B},,false,instrument,"
        "guitar,1\n",
        encoding="utf-8",
    )
    report = import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie)
    assert (report.imported, report.updated, report.unchanged) == (0, 1, 0)
    with reg.database.reader() as session:
        recording = show_recording(session, reg.auditor, "ESA7Q2400001")
        events = list_audit(session, reg.auditor, entity_type="catalogue")
    assert recording.title == "Calima (remaster)"
    assert sorted(c.weight for c in recording.contributions) == ["1.000000", "3.000000"]  # type: ignore[union-attr]
    assert events[0].after is not None
    assert events[0].after["updated"][0]["fields"]["title"] == ["Calima", "Calima (remaster)"]
    assert events[0].after["updated"][0]["contributions_added"] == 1
    assert events[1].after is not None and events[1].after["imported"] == ["ESA7Q2400001"]


def test_a_cmo_imports_only_into_its_own_catalogue(reg: Registry, tmp_path: Path) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(f"{HEADER}\nESA7Q2400001,Calima,,,,,,,,,,\n", encoding="utf-8")
    with pytest.raises(Forbidden):
        import_catalogue(reg.database, reg.sami_admin, path, cmo_id=reg.aie)
    import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie)
    report = import_catalogue(reg.database, reg.sami_admin, path, cmo_id=reg.sami)
    assert report.imported == 0
    assert "belongs to the catalogue of CMO" in report.errors[0].reason


def test_a_header_that_does_not_fit_is_refused_before_anything(
    reg: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text("isrc,name,length\nESA7Q2400001,Calima,1\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as raised:
        import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie)
    assert "unknown columns: length, name" in raised.value.message
    assert _count(reg, Recording) == 0


def test_columns_may_come_in_any_order_and_be_left_out(reg: Registry, tmp_path: Path) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(
        "title,kind,isrc,performer_name\nCalima,voice,ESA7Q2400001,Lucía Ferrer\n",
        encoding="utf-8",
    )
    report = import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie)
    assert (report.imported, report.errors) == (1, [])


DDEX_GOOD = {
    "ISRC": "SE-K4L-23-00008",
    "DisplayTitleText": "Norrsken",
    "Duration": "PT3M58.6S",
    "CreationDate": "2023-04-01",
    "HashSum": {"Algorithm": "SHA-256", "HashSumValue": SHA},
    "ResourceContributor": [
        {
            "DisplayName": "Elsa Nyberg",
            "PartyId": {"ISNI": ISNI_A},
            "Role": ["MainArtist"],
            "InstrumentType": "violin",
        },
        {"DisplayName": "Ingrid Sjöberg", "Role": "Vocalist", "HasMadeFeaturedContribution": False},
    ],
}


def _ddex_lines(records: list[object]) -> str:
    return "\n".join(orjson.dumps(r).decode() if not isinstance(r, str) else r for r in records)


def test_ddex_json_lines(reg: Registry, tmp_path: Path) -> None:
    bad_duration = {**DDEX_GOOD, "ISRC": "SEK4L2300009", "Duration": "3 minutes"}
    no_kind = {
        **DDEX_GOOD,
        "ISRC": "SEK4L2300010",
        "ResourceContributor": [{"DisplayName": "Maja Ekström", "Role": "MainArtist"}],
    }
    path = tmp_path / "catalogue.jsonl"
    path.write_text(
        _ddex_lines([DDEX_GOOD, "", "{not json", bad_duration, no_kind, DDEX_GOOD]) + "\n",
        encoding="utf-8",
    )
    report = import_catalogue(reg.database, reg.sami_admin, path, cmo_id=reg.sami)
    errors = {error.line: error.reason for error in report.errors}
    assert sorted(errors) == [3, 4, 5, 6]
    assert errors[3].startswith("malformed JSON")
    assert "Duration" in errors[4]
    assert "voice from instrument" in errors[5]
    assert "appeared earlier" in errors[6]
    with reg.database.reader() as session:
        norrsken = show_recording(session, reg.auditor, "SEK4L2300008")
    assert norrsken.fixation_year == 2023
    assert isinstance(norrsken, RecordingInfo)
    assert norrsken.duration_ms == 238_600
    assert {
        (c.performer_name, c.featured, c.kind, c.instrument) for c in norrsken.contributions
    } == {
        ("Elsa Nyberg", True, "instrument", "violin"),
        ("Ingrid Sjöberg", False, "voice", None),
    }


def test_ddex_json_array_reports_the_line_each_record_starts_on(
    reg: Registry, tmp_path: Path
) -> None:
    bad = {**DDEX_GOOD, "ISRC": "SE-K4L-23-0000"}
    text = orjson.dumps([DDEX_GOOD, bad], option=orjson.OPT_INDENT_2).decode()
    second_start = text.splitlines().index("  {", 2) + 1
    assert second_start > 2
    path = tmp_path / "catalogue.json"
    path.write_text(text, encoding="utf-8")
    report = import_catalogue(reg.database, reg.sami_admin, path, cmo_id=reg.sami)
    assert report.imported == 1
    assert [(e.line, "isrc" in e.reason) for e in report.errors] == [(second_start, True)]


@pytest.mark.parametrize("fmt", ["csv", "ddex-json"])
def test_synthetic_catalogue_in_both_formats(reg: Registry, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / ("cat.csv" if fmt == "csv" else "cat.jsonl")
    writer = write_csv_catalogue if fmt == "csv" else write_ddex_catalogue
    writer(path, synthetic_recordings(300, performers=40, seed=3))
    report = import_catalogue(
        reg.database, OPERATOR, path, cmo_id=reg.aie, format=fmt, chunk_size=64
    )
    assert (report.imported, report.errors) == (300, [])
    assert report.performers_created == 40
    assert _count(reg, Contribution) == 600
    again = import_catalogue(reg.database, OPERATOR, path, cmo_id=reg.aie, chunk_size=64)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 300)
    first = next(synthetic_recordings(1, performers=40, seed=3))
    assert ddex_record(first)["ISRC"] == first.isrc


def test_a_crash_loses_only_the_chunk_in_flight(sqlite_database: Database, tmp_path: Path) -> None:
    with sqlite_database.transaction() as session:
        cmo = add_cmo(session, OPERATOR, code="AIE", name="AIE", country="ES").id
        # The database itself refuses the fifth recording, as a full disk or a crash would.
        session.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON recording WHEN NEW.isrc = 'ESS0S0000004' "
                "BEGIN SELECT RAISE(ABORT, 'simulated failure'); END"
            )
        )
    path = tmp_path / "cat.csv"
    write_csv_catalogue(path, synthetic_recordings(9, performers=30, seed=5))
    with pytest.raises(DBAPIError):
        import_catalogue(sqlite_database, OPERATOR, path, cmo_id=cmo, chunk_size=2)
    with sqlite_database.reader() as session:
        stored = list(session.scalars(select(Recording.isrc).order_by(Recording.isrc)))
        parts = session.scalar(select(func.count()).select_from(Contribution))
        performers = session.scalar(select(func.count()).select_from(Performer))
        events = list_audit(session, OPERATOR, entity_type="catalogue")
    assert stored == ["ESS0S0000000", "ESS0S0000001", "ESS0S0000002", "ESS0S0000003"]
    assert parts == 8  # two whole chunks, nothing of the third
    assert performers == len({p for e in events for p in e.after["performers_created"]})  # type: ignore[index]
    with sqlite_database.transaction() as session:
        session.execute(text("DROP TRIGGER refuse"))
    report = import_catalogue(sqlite_database, OPERATOR, path, cmo_id=cmo, chunk_size=2)
    assert (report.imported, report.unchanged) == (5, 4)


def test_one_performer_named_twice_in_a_recording_is_refused(reg: Registry, tmp_path: Path) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(
        f"{HEADER}\n"
        f"ESA7Q2400001,Calima,,,,Mateo Ibarra,{ISNI_B},,true,voice,,1\n"
        f"ESA7Q2400002,Luz,,,,Mateo Ibarra,{ISNI_B},,true,voice,,1\n"
        f"ESA7Q2400002,Luz,,,,Mateo Ibarra,,,false,voice,,1\n"
        "ESA7Q2400003,Sal,,,,Nadie Nuevo,,,true,voice,,1\n",
        encoding="utf-8",
    )
    report = import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie)
    assert report.imported == 2
    assert [(e.line, "already listed" in e.reason) for e in report.errors] == [(4, True)]
    assert _count(reg, Performer) == 1 + 2  # Mateo (matched by ISNI, then by name) and Nadie


def test_a_row_that_is_not_utf8_is_reported_with_its_byte_offset(
    reg: Registry, tmp_path: Path
) -> None:
    """Each line is decoded on its own: a Latin-1 row is one bad row, not a refused file
    (tests/registry/test_import_bad_rows.py has the rest of the encoding cases)."""
    path = tmp_path / "catalogue.csv"
    data = f"{HEADER}\n".encode() + "ESA7Q2400001,Canción,,,,,,,,,,\n".encode("latin-1")
    path.write_bytes(data)
    report = import_catalogue(reg.database, reg.aie_admin, path, cmo_id=reg.aie)
    assert [error.line for error in report.errors] == [2]
    offset = data.index(b"\xf3")
    assert f"not UTF-8: byte 0xf3 at byte offset {offset}" in report.errors[0].reason
    assert report.imported == 0
    assert _count(reg, Recording) == 0

"""Catalogue import at scale: 10⁵ rows with every kind of bad row mixed in, and a SIGKILL
half-way through an import followed by a re-run, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from sostenuto.auth import OPERATOR
from sostenuto.registry import CSV_COLUMNS, add_cmo, import_catalogue
from sostenuto.registry.synthetic import SyntheticRecording, synthetic_recordings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Contribution, Performer, Recording

pytestmark = pytest.mark.slow

RECORDINGS = 49_500  # two rows each: 99 000 good rows
BAD_EVERY = 99  # one bad row after every 99 good ones: 1 000 bad rows, 100 000 rows in all


@pytest.fixture
def cmo(database: Database) -> int:
    with database.transaction() as session:
        return add_cmo(session, OPERATOR, code="AIE", name="AIE", country="ES").id


def _count(database: Database, table: type) -> int:
    with database.reader() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def _quoted_titles(recordings: Iterator[SyntheticRecording]) -> Iterator[SyntheticRecording]:
    """Every 97th title needs CSV quoting (a comma and quotes): good rows, quoted properly."""
    for index, recording in enumerate(recordings):
        if index % 97 == 0:
            recording = dataclasses.replace(recording, title=f'{recording.title}, "live"')
        yield recording


def _good_rows(recording: SyntheticRecording) -> list[bytes]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for part in recording.contributors:
        writer.writerow(
            (
                recording.isrc, recording.title, recording.duration_ms, recording.fixation_year,
                recording.audio_sha256, part.name, part.isni or "", "",
                "true" if part.featured else "false", part.kind, part.instrument or "",
                part.weight,
            )
        )  # fmt: skip
    return [line.encode() for line in out.getvalue().splitlines()]


# The reason each kind of bad row is reported with (part of it).
REASONS = (
    "is neither an ISO 3166",  # bad ISRC
    "appeared earlier in the file",  # the ISRC of a recording ten recordings back
    "expected 12 fields, found 11",  # a missing field
    "a quote inside an unquoted field",
    "text after the closing quote",
    "unterminated quote",
    "the check character",  # bad ISNI
    "a weight is a number greater than 0",
    "not UTF-8",
)


def _bad_row(kind: int, number: int, earlier_isrc: str) -> bytes:
    """A bad row of kind ``kind`` (see REASONS); its ISRC is never a good recording's."""
    isrc = f"ESBAD24{number:05d}"
    tail = "Bad Performer,,,true,voice,,1"
    rows = [
        f"XXA7Q24{number:05d},Bad country,200000,2020,,{tail}",
        f"{earlier_isrc},Listed again,200000,2020,,{tail}",
        f"{isrc},Missing field,200000,2020,,Bad Performer,,,true,voice,",
        f'{isrc},Ca"lima,200000,2020,,{tail}',
        f'{isrc},"Calima" live,200000,2020,,{tail}',
        f'{isrc},"Calima,200000,2020,,{tail}',
        f"{isrc},Bad ISNI,200000,2020,,Bad Performer,0000000218250098,,true,voice,,1",
        f"{isrc},Bad weight,200000,2020,,Bad Performer,,,true,voice,,-1",
    ]
    if kind < len(rows):
        return rows[kind].encode()
    return f"{isrc},Canción,200000,2020,,{tail}".encode("latin-1")


def _catalogue(path: Path) -> tuple[list[SyntheticRecording], dict[int, int], int]:
    """Write the mixed catalogue: its recordings, each bad row's kind by line, the rows."""
    recordings = list(_quoted_titles(synthetic_recordings(RECORDINGS, performers=5_000, seed=11)))
    lines = [",".join(CSV_COLUMNS).encode()]
    bad: dict[int, int] = {}

    def add_bad(kind: int, done: int, at: int | None = None) -> None:
        row = _bad_row(kind, len(bad), recordings[max(0, done - 10)].isrc)
        if at is None:
            lines.append(row)
            bad[len(lines)] = kind  # lines count from 1: the header is line 1
        else:
            lines.insert(at, row)
            bad[at + 1] = kind

    add_bad(8, 0)  # not UTF-8, early: line 2
    good_rows = 0
    for done, recording in enumerate(recordings):
        for row in _good_rows(recording):
            lines.append(row)
            good_rows += 1
            if good_rows % BAD_EVERY == 0 and len(bad) < 999:
                add_bad(len(bad) % len(REASONS), done)
    add_bad(8, len(recordings), at=len(lines) - 1)  # not UTF-8, late: the last line but one
    path.write_bytes(b"\n".join(lines) + b"\n")
    return recordings, bad, len(lines) - 1


def _contributions(database: Database) -> list[tuple[str, ...]]:
    with database.reader() as session:
        rows = session.execute(
            select(
                Recording.isrc,
                Performer.name,
                Performer.isni,
                Contribution.featured,
                Contribution.kind,
                Contribution.instrument,
                Contribution.weight,
            )
            .join(Recording, Recording.id == Contribution.recording_id)
            .join(Performer, Performer.id == Contribution.performer_id)
        )
        return sorted(_text(row) for row in rows)


def _text(row: Any) -> tuple[str, ...]:
    """A row as text, numbers written alike whichever type the backend returns."""
    return tuple(
        ""
        if value is None
        else str(value)
        if isinstance(value, bool | int | str)
        else f"{float(value):.6f}"
        for value in row
    )


def test_a_hundred_thousand_rows_with_bad_rows_of_every_kind(
    database: Database, cmo: int, tmp_path: Path
) -> None:
    path = tmp_path / "catalogue.csv"
    recordings, bad, rows = _catalogue(path)
    assert rows == 100_000 and len(bad) == 1_000
    started = time.perf_counter()
    report = import_catalogue(database, OPERATOR, path, cmo_id=cmo)
    seconds = time.perf_counter() - started
    backend = "SQLite" if database.is_sqlite else "PostgreSQL"
    print(f"\n{backend}: {rows} rows in {seconds:.1f} s, {rows / seconds:,.0f} rows/s")
    # Every bad row reported once, at its line, for what is wrong with it; every good row in.
    assert sorted(error.line for error in report.errors) == sorted(bad)
    for error in report.errors:
        assert REASONS[bad[error.line]] in error.reason, (error, bad[error.line])
    late = max(bad)
    offset = path.read_bytes().rindex(b"Canci\xf3n") + len("Canci")
    assert f"byte offset {offset}" in next(e.reason for e in report.errors if e.line == late)
    assert (report.imported, report.updated, report.unchanged) == (RECORDINGS, 0, 0)
    # The summary is what is stored.
    assert _count(database, Recording) == report.imported
    assert _count(database, Contribution) == report.contributions_written == 2 * RECORDINGS
    assert _count(database, Performer) == report.performers_created
    with database.reader() as session:
        stored = session.execute(select(Recording.isrc, Recording.title))
        titles = {isrc: title for isrc, title in stored}
    assert titles == {recording.isrc: recording.title for recording in recordings}
    expected = sorted(
        _text(
            (
                recording.isrc, part.name, part.isni, part.featured, part.kind,
                part.instrument, float(part.weight),
            )
        )
        for recording in recordings
        for part in recording.contributors
    )  # fmt: skip
    assert _contributions(database) == expected


# ---------------------------------------------------------------- SIGKILL and re-run

CHILD = """
import sys
from sostenuto.auth import OPERATOR
from sostenuto.registry import import_catalogue
from sostenuto.storage import Database

url, schema, path, cmo, chunk = sys.argv[1:6]
database = Database(url, connect_args={"options": f"-csearch_path={schema}"} if schema else None)
report = import_catalogue(database, OPERATOR, path, cmo_id=int(cmo), chunk_size=int(chunk))
"""


def _child(database: Database, path: Path, cmo: int, chunk: int) -> subprocess.Popen[bytes]:
    schema = ""
    if not database.is_sqlite:
        with database.reader() as session:
            schema = str(session.scalar(select(func.current_schema())))
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, database.url, schema, str(path), str(cmo), str(chunk)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _state(database: Database) -> dict[str, list[tuple[str, ...]]]:
    """Recordings, performers and contributions by their natural keys (ids may differ)."""
    with database.reader() as session:
        recordings = session.execute(
            select(
                Recording.isrc,
                Recording.title,
                Recording.duration_ms,
                Recording.fixation_year,
                Recording.audio_sha256,
                Recording.registered_by_cmo_id,
            )
        )
        performers = session.execute(
            select(Performer.name, Performer.isni, Performer.ipn, Performer.registered_by_cmo_id)
        )
        return {
            "recordings": sorted(_text(row) for row in recordings),
            "performers": sorted(_text(row) for row in performers),
            "contributions": _contributions(database),
        }


def _empty(database: Database) -> None:
    with database.transaction() as session:
        session.execute(delete(Contribution))
        session.execute(delete(Recording))
        session.execute(delete(Performer))


CHUNK = 150


def test_a_sigkill_mid_import_and_a_rerun_end_as_one_clean_run(
    database: Database, cmo: int, tmp_path: Path
) -> None:
    path = tmp_path / "catalogue.csv"
    total = 3_000
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for index, recording in enumerate(synthetic_recordings(total, performers=800, seed=7)):
            for row in _good_rows(recording):
                handle.write(row.decode() + "\n")
            if index % 300 == 150:
                handle.write(f'ESBAD24{index:05d},"Unterminated,,,,,,,,,,\n')
    clean = import_catalogue(database, OPERATOR, path, cmo_id=cmo, chunk_size=CHUNK)
    assert clean.imported == total and len(clean.errors) == 10
    expected = _state(database)
    _empty(database)

    child = _child(database, path, cmo, chunk=CHUNK)
    deadline = time.monotonic() + 120
    while _count(database, Recording) == 0:
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the first chunk was never committed"
        time.sleep(0.01)
    assert child.poll() is None, "the import ended before it could be killed"
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    committed = _count(database, Recording)
    assert 0 < committed < total
    assert committed % CHUNK == 0  # whole chunks only

    rerun = import_catalogue(database, OPERATOR, path, cmo_id=cmo, chunk_size=CHUNK)
    assert (rerun.imported, rerun.unchanged) == (total - committed, committed)
    assert [error.line for error in rerun.errors] == [error.line for error in clean.errors]
    assert _state(database) == expected

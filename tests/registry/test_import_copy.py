"""The PostgreSQL import path: rows go by ``COPY`` with ids drawn from the sequences.

A chunk the database refuses leaves nothing of itself (recordings, contributions, performers,
audit event); the ids it drew are skipped, never reused; every stored contribution points at
the recording and performer its row names, whatever the chunk size.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from sostenuto.auth import OPERATOR
from sostenuto.registry import add_cmo, import_catalogue, list_audit
from sostenuto.registry.synthetic import synthetic_recordings, write_csv_catalogue
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Contribution, Performer, Recording

REFUSED_ISRC = "ESS0S0000004"


def _postgres(database: Database) -> Database:
    if database.is_sqlite:
        pytest.skip("the COPY path is PostgreSQL's (SQLite: test_import.py)")
    return database


def _cmo(database: Database) -> int:
    with database.transaction() as session:
        return add_cmo(session, OPERATOR, code="AIE", name="AIE", country="ES").id


def _stored(database: Database) -> list[tuple[str, str, bool, str, str | None, str]]:
    """Each contribution by the natural keys of its recording and performer."""
    with database.reader() as session:
        rows = session.execute(
            select(
                Recording.isrc,
                Performer.name,
                Contribution.featured,
                Contribution.kind,
                Contribution.instrument,
                Contribution.weight,
            )
            .join(Contribution, Contribution.recording_id == Recording.id)
            .join(Performer, Performer.id == Contribution.performer_id)
        )
        return sorted((a, b, c, d, e, str(f)) for a, b, c, d, e, f in rows)


def _expected(path: Path) -> list[tuple[str, str, bool, str, str | None, str]]:
    """What the file says, read without Sostenuto's reader."""
    import csv

    with path.open(encoding="utf-8") as handle:
        return sorted(
            (
                row["isrc"],
                row["performer_name"],
                row["featured"] == "true",
                row["kind"],
                row["instrument"] or None,
                f"{float(row['weight']):.6f}",
            )
            for row in csv.DictReader(handle)
        )


def test_a_chunk_the_database_refuses_leaves_nothing_of_itself(
    database: Database, tmp_path: Path
) -> None:
    database = _postgres(database)
    cmo = _cmo(database)
    with database.transaction() as session:
        # The database refuses the fifth recording, as a full disk or a crash would; COPY
        # fires row triggers like any insert.
        session.execute(
            text(
                "CREATE FUNCTION refuse_recording() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN IF NEW.isrc = '{REFUSED_ISRC}' THEN "
                "RAISE EXCEPTION 'simulated failure'; END IF; RETURN NEW; END $$"
            )
        )
        session.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON recording "
                "FOR EACH ROW EXECUTE FUNCTION refuse_recording()"
            )
        )
    path = tmp_path / "cat.csv"
    write_csv_catalogue(path, synthetic_recordings(9, performers=30, seed=5))
    try:
        with pytest.raises(DBAPIError, match="simulated failure"):
            import_catalogue(database, OPERATOR, path, cmo_id=cmo, chunk_size=2)
        with database.reader() as session:
            stored = list(session.scalars(select(Recording.isrc).order_by(Recording.isrc)))
            parts = session.scalar(select(func.count()).select_from(Contribution))
            performers = set(session.scalars(select(Performer.id)))
            events = list_audit(session, OPERATOR, entity_type="catalogue")
        assert stored == ["ESS0S0000000", "ESS0S0000001", "ESS0S0000002", "ESS0S0000003"]
        assert parts == 8  # two whole chunks, nothing of the third
        audited = {p for e in events for p in e.after["performers_created"]}  # type: ignore[index]
        assert performers == audited
    finally:
        with database.transaction() as session:
            session.execute(text("DROP TRIGGER refuse ON recording"))
            session.execute(text("DROP FUNCTION refuse_recording()"))
    report = import_catalogue(database, OPERATOR, path, cmo_id=cmo, chunk_size=2)
    assert (report.imported, report.unchanged, report.errors) == (5, 4, [])
    assert _stored(database) == _expected(path)
    with database.reader() as session:
        ids = list(session.scalars(select(Recording.id).order_by(Recording.isrc)))
    # The refused chunk's ids were drawn and are skipped; the later ones follow them.
    assert ids[:4] == sorted(ids[:4]) and min(ids[4:]) > max(ids[:4]) + 1


@given(
    recordings=st.integers(min_value=1, max_value=40),
    chunk=st.integers(min_value=1, max_value=15),
    seed=st.integers(min_value=1, max_value=10_000),
)
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_every_contribution_points_at_its_own_recording_and_performer(
    database: Database,
    tmp_path_factory: pytest.TempPathFactory,
    recordings: int,
    chunk: int,
    seed: int,
) -> None:
    database = _postgres(database)
    with database.transaction() as session:
        session.execute(
            text("TRUNCATE audit_event, contribution, recording, performer, cmo CASCADE")
        )
    cmo = _cmo(database)
    path = tmp_path_factory.mktemp("copy") / "cat.csv"
    write_csv_catalogue(path, synthetic_recordings(recordings, performers=12, seed=seed))
    report = import_catalogue(database, OPERATOR, path, cmo_id=cmo, chunk_size=chunk)
    assert (report.imported, report.errors) == (recordings, [])
    assert _stored(database) == _expected(path)
    again = import_catalogue(database, OPERATOR, path, cmo_id=cmo, chunk_size=chunk)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, recordings)

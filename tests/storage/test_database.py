"""The schema migrates on both backends and a failed transaction leaves nothing behind."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select

from sostenuto.storage import Base, Database, normalise_url
from sostenuto.storage.models.registry import Cmo


def test_every_table_exists_after_migration(database: Database) -> None:
    present = set(inspect(database.engine).get_table_names())
    missing = {table.name for table in Base.metadata.sorted_tables} - present
    assert not missing, f"tables without a migration: {sorted(missing)}"


def test_failed_transaction_rolls_back(database: Database) -> None:
    with pytest.raises(RuntimeError), database.transaction() as session:
        session.add(Cmo(code="AAA", name="A", country="ES", identifiers={}))
        session.flush()
        raise RuntimeError("crash mid-write")
    with database.reader() as session:
        assert session.scalar(select(func.count()).select_from(Cmo)) == 0


def test_postgres_urls_use_psycopg3() -> None:
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"

"""Shared fixtures: a migrated database on SQLite and on the local PostgreSQL server.

Each backend is migrated once per test session; every test then starts from empty tables
(SQLite: a copy of the migrated template file; PostgreSQL: TRUNCATE in a private schema).
Set ``SOSTENUTO_TEST_POSTGRES_URL`` to point at another server; set it to ``skip`` to run on
SQLite alone.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sostenuto.settings import Settings
from sostenuto.storage import Base, Database

POSTGRES_URL = os.environ.get(
    "SOSTENUTO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    database.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    if POSTGRES_URL == "skip":
        pytest.skip("PostgreSQL tests disabled by SOSTENUTO_TEST_POSTGRES_URL=skip")
    schema = f"sostenuto_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = Database(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    database.migrate()
    database.dispose()
    yield schema
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _fresh_sqlite(template: Path, tmp_path: Path) -> Database:
    path = tmp_path / "sostenuto.sqlite3"
    shutil.copyfile(template, path)
    return Database(f"sqlite:///{path}")


def _fresh_postgres(schema: str) -> Database:
    database = Database(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        db = _fresh_sqlite(request.getfixturevalue("sqlite_template"), tmp_path)
    else:
        db = _fresh_postgres(request.getfixturevalue("postgres_schema"))
    yield db
    db.dispose()


@pytest.fixture
def sqlite_database(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty SQLite database, for tests that need no second backend."""
    db = _fresh_sqlite(sqlite_template, tmp_path)
    yield db
    db.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


# The day the consent services take for "today" in tests that build a registry's history:
# rules, licences and mandates take effect from today on, so a history that starts in 2025
# is recorded as if it were 2024 (a test of "nothing retroactive" uses the real clock).
HISTORY_TODAY = dt.date(2024, 1, 1)


@pytest.fixture
def history_clock(monkeypatch: pytest.MonkeyPatch) -> dt.date:
    from sostenuto.consent import _rules
    from sostenuto.registry import _licensing, _performers

    for module in (_rules, _licensing, _performers):
        monkeypatch.setattr(module, "_today", lambda: HISTORY_TODAY)
    return HISTORY_TODAY

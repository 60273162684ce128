"""Alembic, driven from code so that an installed package can migrate its own database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from sostenuto.storage.database import Database

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    config.attributes["engine"] = database.engine
    return config


def upgrade(database: Database, revision: str = "heads") -> None:
    """Apply every pending migration. Each capability's branch has its own head."""
    command.upgrade(alembic_config(database), revision)

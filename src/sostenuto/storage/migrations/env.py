"""Alembic environment: uses the engine handed over by ``sostenuto.storage.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine

import sostenuto.storage.models  # noqa: F401  (registers every table on the metadata)
from sostenuto.storage.base import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()

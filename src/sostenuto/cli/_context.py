"""What every command needs: the settings, the migrated database and the acting principal."""

from __future__ import annotations

import os
from functools import lru_cache

from sostenuto.auth import OPERATOR, Principal, authenticate
from sostenuto.settings import get_settings
from sostenuto.storage import Database


@lru_cache(maxsize=1)
def database() -> Database:
    """The configured database, migrated on first use."""
    db = Database.from_settings(get_settings())
    db.migrate()
    return db


def principal() -> Principal:
    """``SOSTENUTO_TOKEN`` makes the CLI act as that token's holder; else the local operator."""
    token = os.environ.get("SOSTENUTO_TOKEN")
    if not token:
        return OPERATOR
    with database().reader() as session:
        return authenticate(session, token)

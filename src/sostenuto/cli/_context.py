"""What every command needs: how it was asked to run (here or against a server, JSON or text),
the settings, the migrated database and the acting principal."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from sostenuto.errors import InvalidInput

if TYPE_CHECKING:
    from sostenuto.auth import Principal
    from sostenuto.cli._remote import Remote
    from sostenuto.settings import Settings
    from sostenuto.storage import Database


@dataclass
class Invocation:
    """The options every command takes (``--json``, ``--server``, ``--token``)."""

    json: bool = False
    server: str | None = None
    token: str | None = None


INVOCATION = Invocation()


def configure(*, json: bool, server: str | None, token: str | None) -> None:
    INVOCATION.json, INVOCATION.server, INVOCATION.token = json, server or None, token or None
    remote.cache_clear()


def json_output() -> bool:
    return INVOCATION.json


@lru_cache(maxsize=1)
def remote() -> Remote | None:
    """The server this command runs against, or ``None`` to run here on the local database."""
    if not INVOCATION.server:
        return None
    from sostenuto.cli._remote import Remote

    return Remote(INVOCATION.server, INVOCATION.token)


def local_only(command: str, why: str) -> None:
    """Refuse ``--server`` for a command that acts on this machine's own files."""
    if INVOCATION.server:
        raise InvalidInput(
            f"`sostenuto {command}` runs only on the server's own machine ({why}); "
            "run it there without --server",
            details={"server": INVOCATION.server},
        )


def database() -> Database:
    """The configured database, migrated on first use. Never under ``--server``: a command
    without a remote form must say so rather than act on this machine's database."""
    if INVOCATION.server:
        raise InvalidInput(
            "this command has no remote form: run it on the server's machine, without --server",
            details={"server": INVOCATION.server},
        )
    return _local_database()


def settings() -> Settings:
    """The settings (environment, ``.env``), read on first use."""
    from sostenuto.settings import get_settings

    return get_settings()


@lru_cache(maxsize=1)
def _local_database() -> Database:
    from sostenuto.storage import Database

    db = Database.from_settings(settings())
    db.migrate()
    return db


database.cache_clear = _local_database.cache_clear  # type: ignore[attr-defined]


def principal() -> Principal:
    """``--token`` (or ``SOSTENUTO_TOKEN``) makes the CLI act as that token's holder; else the
    local operator."""
    from sostenuto.auth import OPERATOR, authenticate

    token = INVOCATION.token or os.environ.get("SOSTENUTO_TOKEN")
    if not token:
        return OPERATOR
    with database().reader() as session:
        return authenticate(session, token)

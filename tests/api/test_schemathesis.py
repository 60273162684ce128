"""Schemathesis against the in-process app: no 5xx, and answers that match the document.

The OpenAPI document the app serves drives the requests: schemathesis generates valid and
invalid requests for every operation, sends them to the ASGI app (no network), over a database
seeded with the demo registry, as an anonymous caller or with the token of a CMO admin, a
licensee or an auditor. Every answer must be a success or a 4xx (``not_a_server_error``), with
the status, media type, headers and body its operation documents.

Budget: about a minute per backend on two cores. ``EXAMPLES`` (60) bounds the requests hypothesis
generates per operation in the fuzzing phase; the coverage phase adds its boundary cases (some
40 per operation) and the checks a few probes, so an operation that takes input gets a couple
of hundred requests. Measured on two cores: 100 took 85 s for 90 operations (2026-12-03, quiet
machine), 200 took 486 s over both backends. Operations that take an upload get
``UPLOAD_EXAMPLES`` (each request decodes and fingerprints the file). The default suite keeps
to 60 so that it stays well under 15 minutes; before a release run it deeper with
``SOSTENUTO_SCHEMATHESIS_EXAMPLES=500`` (docs/api.md, "Testing the contract").

Left out: ``positive_data_acceptance`` (a valid request may break a rule the schema cannot
state) and ``negative_data_rejection`` (pydantic's lax mode takes ``0`` for a date and ``"1"``
for an integer).
"""

from __future__ import annotations

import os
import shutil
import uuid
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from sqlalchemy import create_engine, text

from sostenuto.api import create_app
from sostenuto.registry.demo import load_demo
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("SOSTENUTO_SCHEMATHESIS_EXAMPLES", "60"))
UPLOAD_EXAMPLES = max(3, EXAMPLES // 20)
# Operations whose request body is an audio (or catalogue) upload.
UPLOADS = (
    r"^POST /api/v1/(label|label/inspect|identify/check-output|voice/screenings"
    r"|voice/performers/\{performer_id\}/voiceprints|registry/imports)$"
)

ROLES = ("anonymous", "cmo-admin:AIE", "licensee:Aurora Audio Labs", "auditor")

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20260601,
        "generation": {
            "mode": "all",
            "max-examples": EXAMPLES,
            "with-security-parameters": False,
            "allow-x00": True,
        },
        "phases": {"stateful": {"enabled": False}},
        "checks": {
            # Valid requests may still break a rule the schema cannot say (an unknown id, a
            # mandate that overlaps): a 4xx is then the right answer, not a failure.
            "positive_data_acceptance": {"enabled": False},
            # Pydantic's lax mode takes some values the document does not describe (a number of
            # seconds for a date, "1" for an integer): accepted, not a failure of the service.
            "negative_data_rejection": {"enabled": False},
        },
        "operations": [
            {
                "include-name-regex": UPLOADS,
                "generation": {"max-examples": UPLOAD_EXAMPLES},
            }
        ],
    }
)


@pytest.fixture(scope="module")
def seeded(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[tuple[Database, Settings, dict[str, str]]]:
    """One database for the module, seeded with the demo registry: PostgreSQL where the
    suite has it (stricter: it enforces lengths and integer ranges), else SQLite."""
    folder = tmp_path_factory.mktemp("schemathesis")
    with ExitStack() as stack:
        if POSTGRES_URL == "skip":
            shutil.copyfile(sqlite_template, folder / "db.sqlite3")
            database = Database(f"sqlite:///{folder / 'db.sqlite3'}")
        else:
            database = stack.enter_context(_private_postgres_schema())
        with database.transaction() as session:
            tokens = load_demo(session)
        yield database, Settings(data_dir=folder / "data"), tokens
        database.dispose()


@contextmanager
def _private_postgres_schema() -> Iterator[Database]:
    """A migrated schema of its own: the module's writes stay out of the other tests' way."""
    schema = f"sostenuto_st_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        database = Database(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
        database.migrate()
        yield database
        database.dispose()
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def app(seeded: tuple[Database, Settings, dict[str, str]]) -> FastAPI:
    database, app_settings, _ = seeded
    return create_app(app_settings, database)


@pytest.fixture(scope="module")
def headers(seeded: tuple[Database, Settings, dict[str, str]]) -> dict[str, dict[str, str]]:
    _, _, tokens = seeded
    out: dict[str, dict[str, str]] = {"anonymous": {}}
    for role in ROLES[1:]:
        out[role] = {"Authorization": f"Bearer {tokens[role]}"}
    return out


@pytest.fixture(scope="module")
def api_schema(app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """Schemathesis 4 renames the test node through ``node._nodeid``, which pytest 9 no longer
    has (``nodeid`` is read from ``node._id``): give it the attribute to read and write."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


def _role(case: Any) -> str:
    """The caller of a case: a fixed function of the request, so a failure replays as it was."""
    seen = repr((case.path_parameters, case.query, case.body)).encode("utf-8", "replace")
    return ROLES[zlib.crc32(seen) % len(ROLES)]


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
def test_api(case: Any, headers: dict[str, dict[str, str]]) -> None:
    role = _role(case)
    case.call_and_validate(headers=headers[role])

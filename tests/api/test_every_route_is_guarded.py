"""Every write endpoint refuses anonymous callers, whatever capability added it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from sostenuto.api import create_app
from sostenuto.settings import Settings
from sostenuto.storage import Database

# Writes the public may make on purpose: they change nothing stored.
PUBLIC_WRITES = {
    ("POST", "/api/v1/label/inspect"),
    ("POST", "/api/v1/log/verify"),
    # C2SP tlog-witness: the log's signature on the checkpoint is the authentication.
    ("POST", "/witness/add-checkpoint"),
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def test_anonymous_writes_are_refused(settings: Settings, sqlite_database: Database) -> None:
    app = create_app(settings, sqlite_database)
    client = TestClient(app)
    checked = 0
    open_writes = []
    for path, operations in app.openapi()["paths"].items():
        for method in set(operations) & WRITE_METHODS:
            if (method.upper(), path) in PUBLIC_WRITES:
                continue
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            response = client.request(method.upper(), concrete, json={})
            if response.status_code != 401:
                open_writes.append(f"{method.upper()} {path} -> {response.status_code}")
            checked += 1
    assert not open_writes, "writes open to anonymous callers:\n" + "\n".join(open_writes)
    assert checked > 20

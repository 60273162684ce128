"""What the PostgreSQL and served benchmarks share: a private schema, and a started
``sostenuto serve`` awaited until it answers."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def schema_url(url: str, schema: str) -> str:
    """Create ``schema`` and return ``url`` with it as the search path (for this process and
    a server it starts)."""
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return (
        make_url(url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


def drop_schema(url: str, schema: str) -> None:
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def wait_until_served(server: subprocess.Popen[bytes], base: str, log: Path) -> None:
    """Return once ``base`` answers its health check; exit with the log if it never does."""
    deadline = time.monotonic() + 180
    while True:
        if server.poll() is not None:
            raise SystemExit(f"serve exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/api/v1/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("serve did not answer within 180 s")
        time.sleep(0.5)

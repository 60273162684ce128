"""A live server for the client: uvicorn on a loopback port over the demo registry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from sostenuto_client import Client, RetryPolicy
from starlette.types import ASGIApp, Receive, Scope, Send

from sostenuto.api import create_app
from sostenuto.consent import forget_snapshots
from sostenuto.registry.demo import load_demo
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.serving import served_app

AURORA = "licensee:Aurora Audio Labs"
CADENZA = "licensee:Cadenza Stream"
FAST_RETRY = RetryPolicy(attempts=4, backoff_s=0.01, max_backoff_s=0.05)


@dataclass
class Flaky:
    """An ASGI wrapper that answers the first ``failures`` requests to ``path`` with
    ``status`` (no body reaches the app), and notes every request's headers."""

    app: ASGIApp
    path: str = ""
    failures: int = 0
    status: int = 503
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.path:
            headers = {k.decode(): v.decode() for k, v in scope["headers"]}
            self.seen.append((scope["method"], scope["path"], headers))
            if self.failures > 0:
                self.failures -= 1
                await send(
                    {
                        "type": "http.response.start",
                        "status": self.status,
                        "headers": [(b"content-type", b"text/plain"), (b"retry-after", b"0")],
                    }
                )
                await send({"type": "http.response.body", "body": b"try again"})
                return
        await self.app(scope, receive, send)


@dataclass
class Live:
    url: str
    tokens: dict[str, str]
    flaky: Flaky
    database: Database

    def client(self, who: str | None = AURORA, **options: object) -> Client:
        token = self.tokens.get(who, who) if who is not None else None
        options.setdefault("retry", FAST_RETRY)
        return Client(self.url, token, **options)  # type: ignore[arg-type]


def _serve(database: Database, settings: Settings) -> Iterator[Live]:
    forget_snapshots()
    with database.transaction() as session:
        tokens = load_demo(session)
    flaky = Flaky(create_app(settings, database))
    with served_app(flaky) as url:  # type: ignore[arg-type]
        yield Live(url, tokens, flaky, database)
    forget_snapshots()


@pytest.fixture
def live(sqlite_database: Database, settings: Settings) -> Iterator[Live]:
    """The demo registry served on SQLite."""
    yield from _serve(sqlite_database, settings)


@pytest.fixture
def live_both(database: Database, settings: Settings) -> Iterator[Live]:
    """The demo registry served on SQLite and on PostgreSQL."""
    yield from _serve(database, settings)


ClientFactory = Callable[..., Client]

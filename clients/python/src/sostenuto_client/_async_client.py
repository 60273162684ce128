"""The asyncio client: the same operations, awaited. Imported on first use, so that a sync
user's ``import sostenuto_client`` does not load the async tree."""

from __future__ import annotations

from types import TracebackType

import httpx

from sostenuto_client._changes_async import AsyncChanges
from sostenuto_client._generated_async import AsyncRootApi
from sostenuto_client._transport import AsyncTransport, RetryPolicy


class AsyncClient(AsyncRootApi):
    """The same operations for asyncio (``await client.consent.decide(...)``)."""

    changes: AsyncChanges

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        http: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.transport = AsyncTransport(
            base_url, token, timeout_s=timeout_s, retry=retry, http=http
        )
        super().__init__(self.transport)
        self.changes = AsyncChanges(self.transport)

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

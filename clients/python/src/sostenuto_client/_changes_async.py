"""``await client.changes.since(checkpoint)``: the revocation feed for the asyncio client."""

from __future__ import annotations

from sostenuto_client._changes import MAX_PAGES, Revocations, _check
from sostenuto_client._generated_async import AsyncChangesApi


class AsyncChanges(AsyncChangesApi):
    """``changes.*`` operations, awaited, and :meth:`since` over every page."""

    async def since(
        self, checkpoint: int = 0, *, licensee_id: int | None = None, page_size: int = 100
    ) -> Revocations:
        """As :meth:`Changes.since`."""
        _check(checkpoint, page_size)
        found = Revocations(checkpoint, checkpoint)
        for _ in range(MAX_PAGES):
            page = await self.list(since=found.checkpoint, licensee_id=licensee_id, limit=page_size)
            found._add(page)
            if not page.get("more"):
                break
        return found

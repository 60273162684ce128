"""The clients: the generated operation tree, plus what only a client can add."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import httpx

from sostenuto_client._changes import Changes
from sostenuto_client._filter import ConsentFilter
from sostenuto_client._generated import ConsentApi, RootApi
from sostenuto_client._items import ItemLike
from sostenuto_client._transport import RetryPolicy, Transport

if TYPE_CHECKING:
    from sostenuto_client._outputs import Outputs


class Consent(ConsentApi):
    """``consent.*`` operations, and :meth:`filter` for whole corpora."""

    def filter(
        self,
        items: Iterable[ItemLike],
        *,
        licensee_id: int,
        use: str,
        territory: str,
        model_id: int | None = None,
        on_date: dt.date | None = None,
        checkpoint: str | Path | None = None,
        chunk_size: int = 10_000,
    ) -> ConsentFilter:
        """The permitted items of ``items`` (ISRCs, recording ids or ``CorpusItem`` s), asked
        ``chunk_size`` at a time through ``consent.decide-batch``; see :class:`ConsentFilter`."""
        return ConsentFilter(
            self,
            items,
            licensee_id=licensee_id,
            use=use,
            territory=territory,
            model_id=model_id,
            on_date=on_date,
            checkpoint=checkpoint,
            chunk_size=chunk_size,
        )


class Client(RootApi):
    """Synchronous client. ``base_url`` defaults to ``SOSTENUTO_SERVER`` (else
    ``http://127.0.0.1:8000``), ``token`` to ``SOSTENUTO_TOKEN`` (else anonymous)."""

    consent: Consent
    changes: Changes

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        http: httpx.BaseTransport | None = None,
    ) -> None:
        self.transport = Transport(base_url, token, timeout_s=timeout_s, retry=retry, http=http)
        super().__init__(self.transport)
        self.consent = Consent(self.transport)
        self.changes = Changes(self.transport)
        self._outputs: Outputs | None = None

    @property
    def outputs(self) -> Outputs:
        """Label generated outputs and declare them (``label_and_declare``, and
        ``label_and_declare_many`` for generation services); loaded on first use."""
        if self._outputs is None:
            from sostenuto_client._outputs import Outputs

            self._outputs = Outputs(self)
        return self._outputs

    def close(self) -> None:
        if self._outputs is not None:
            self._outputs.close()
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

"""Sostenuto's Python client: every API operation, typed (sync and async), and consent at
corpus scale (``client.consent.filter``) with dataset manifests declared to the log."""

from typing import TYPE_CHECKING, Any

from sostenuto_client import webhooks
from sostenuto_client._changes import ManifestRevocations, Revocations, RevokedFile
from sostenuto_client._client import Client, Consent
from sostenuto_client._csv import file_sha256, read_csv, write_csv
from sostenuto_client._errors import (
    Conflict,
    ConnectionFailed,
    DependencyMissing,
    Forbidden,
    IntegrityFailure,
    InvalidInput,
    NotFound,
    ProblemError,
    RateLimited,
    ServerError,
    SostenutoClientError,
    Unauthenticated,
    UnsupportedFormat,
    UsageError,
)
from sostenuto_client._filter import ConsentFilter
from sostenuto_client._items import STATUSES, CorpusItem, Outcome, Status, normalise_isrc
from sostenuto_client._manifest import Declared, declare_manifest
from sostenuto_client._transport import RetryPolicy

__version__ = "0.1.0"

if TYPE_CHECKING:
    from sostenuto_client._async_client import AsyncClient
    from sostenuto_client._outputs import LabelledOutput, OutputBatch


def __getattr__(name: str) -> Any:
    # The async client loads on first use: sync users do not pay for its import.
    if name == "AsyncClient":
        from sostenuto_client._async_client import AsyncClient

        return AsyncClient
    if name in ("LabelledOutput", "OutputBatch"):
        # Output labelling loads with client.outputs, not with the package.
        from sostenuto_client import _outputs

        return getattr(_outputs, name)
    raise AttributeError(f"module 'sostenuto_client' has no attribute {name!r}")


__all__ = [
    "STATUSES",
    "AsyncClient",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "Consent",
    "ConsentFilter",
    "CorpusItem",
    "Declared",
    "DependencyMissing",
    "Forbidden",
    "IntegrityFailure",
    "InvalidInput",
    "LabelledOutput",
    "ManifestRevocations",
    "NotFound",
    "Outcome",
    "OutputBatch",
    "ProblemError",
    "RateLimited",
    "RetryPolicy",
    "Revocations",
    "RevokedFile",
    "ServerError",
    "SostenutoClientError",
    "Status",
    "Unauthenticated",
    "UnsupportedFormat",
    "UsageError",
    "__version__",
    "declare_manifest",
    "file_sha256",
    "normalise_isrc",
    "read_csv",
    "webhooks",
    "write_csv",
]

"""``client.changes.since(checkpoint)``: the revocation feed, every page, as one answer.

The server answers the consent changes appended to its log after a checkpoint (a log size)
and, per dataset manifest the licensee declared, the files they put out of use and from
which date. :meth:`Changes.since` follows the pages and merges them; keep
:attr:`Revocations.checkpoint` and pass it next time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sostenuto_client._errors import UsageError
from sostenuto_client._generated import ChangesApi

MAX_PAGES = 100_000  # a guard against a server that never says ``more: false``


@dataclass(frozen=True)
class RevokedFile:
    """A declared file that may no longer be used from ``from_date``, and why."""

    sha256: str
    decision_id: str
    recording_id: int | None
    isrc: str | None
    use: str
    territory: str
    from_date: dt.date
    change_index: int
    rule_id: int | None
    reason: str

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> RevokedFile:
        return cls(
            sha256=item["sha256"],
            decision_id=item["decision_id"],
            recording_id=item.get("recording_id"),
            isrc=item.get("isrc"),
            use=item["use"],
            territory=item["territory"],
            from_date=dt.date.fromisoformat(item["from"]),
            change_index=int(item["change_index"]),
            rule_id=item.get("rule_id"),
            reason=item.get("reason", ""),
        )


@dataclass
class ManifestRevocations:
    """One declared dataset manifest and its files put out of use."""

    index: int
    entry_id: str
    name: str
    model_id: int | None
    revoked: list[RevokedFile] = field(default_factory=list)


@dataclass
class Revocations:
    """What changed since a checkpoint: the consent changes, the revoked files per manifest,
    and the checkpoint to pass next time."""

    since: int
    checkpoint: int
    changes: list[dict[str, Any]] = field(default_factory=list)
    manifests: list[ManifestRevocations] = field(default_factory=list)

    def __iter__(self) -> Iterator[ManifestRevocations]:
        return iter(self.manifests)

    @property
    def files(self) -> list[RevokedFile]:
        """Every revoked file, all manifests together."""
        return [item for manifest in self.manifests for item in manifest.revoked]

    def _add(self, page: dict[str, Any]) -> None:
        self.changes.extend(page.get("changes", []))
        self.checkpoint = int(page["checkpoint"])
        known = {manifest.index: manifest for manifest in self.manifests}
        for entry in page.get("manifests", []):
            manifest = known.get(entry["index"])
            if manifest is None:
                manifest = ManifestRevocations(
                    entry["index"], entry["entry_id"], entry["name"], entry.get("model_id")
                )
                self.manifests.append(manifest)
                known[manifest.index] = manifest
            already = {item.sha256 for item in manifest.revoked}
            for item in entry.get("revoked", []):
                # A file revoked on an earlier page keeps its first (earliest) revocation.
                if item["sha256"] not in already:
                    manifest.revoked.append(RevokedFile.from_json(item))
                    already.add(item["sha256"])


def _check(checkpoint: int, page_size: int) -> None:
    if checkpoint < 0:
        raise UsageError(f"checkpoint {checkpoint} is not a log size (0 or more)")
    if not 1 <= page_size <= 1000:
        raise UsageError(f"page_size {page_size}: 1 to 1000 changes a page")


class Changes(ChangesApi):
    """``changes.*`` operations, and :meth:`since` over every page."""

    def since(
        self, checkpoint: int = 0, *, licensee_id: int | None = None, page_size: int = 100
    ) -> Revocations:
        """The revocations since ``checkpoint`` (0: since the log began), all pages."""
        _check(checkpoint, page_size)
        found = Revocations(checkpoint, checkpoint)
        for _ in range(MAX_PAGES):
            page = self.list(since=found.checkpoint, licensee_id=licensee_id, limit=page_size)
            found._add(page)
            if not page.get("more"):
                break
        return found

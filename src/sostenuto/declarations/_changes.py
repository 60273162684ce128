"""The revocation feed: which declared files a licensee may no longer use, and from when.

The log's ``consent-change`` entries after a checkpoint (a log size) are read in log order;
every consent decision cited by the licensee's own dataset manifests is decided again, with
the same consent engine and the decision's own terms (use, territory, model), as of each
change's effective date. A file whose decision no longer permits, because of that change, is
listed under its manifest with the date and the change that caused it. The next checkpoint
is the log size to pass as ``since`` next time. Nothing is stored, and only the licensee's
own manifests are ever read.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto import consent
from sostenuto.auth import OPERATOR, Principal, authorize
from sostenuto.declarations._cited import _subject, _terms, decide_again
from sostenuto.errors import InvalidInput
from sostenuto.storage import Database
from sostenuto.storage.models.transparency import LogEntry, LogState
from sostenuto.storage.paging import DEFAULT_LIMIT, check_limit
from sostenuto.vocabulary import WORLDWIDE, covers_territory, use_ancestry

# Changes that can only widen what is permitted: they revoke nothing.
_WIDENING = frozenset({"grant", "opt-in"})


@dataclass(frozen=True)
class Change:
    """A ``consent-change`` entry: where it sits in the log and what it says."""

    index: int
    entry_id: str
    payload: dict[str, Any]

    @property
    def effective_on(self) -> dt.date:
        return dt.date.fromisoformat(self.payload["effective_on"])

    @property
    def rule_id(self) -> int | None:
        rule_id = self.payload.get("rule_id")
        return int(rule_id) if rule_id is not None else None

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "entry_id": self.entry_id, **self.payload}


@dataclass(frozen=True)
class DeclaredFile:
    """One file of a manifest that cites a consent decision, as the manifest declared it."""

    sha256: str
    decision_id: str
    recording_id: int | None
    isrc: str | None


@dataclass(frozen=True, eq=False)  # hashed by identity: a manifest holds many files
class Manifest:
    index: int
    entry_id: str
    name: str
    model_id: int | None
    files: tuple[DeclaredFile, ...]


@dataclass(frozen=True)
class Revoked:
    """A declared file that may no longer be used from ``from_date``, and why."""

    file: DeclaredFile
    use: str
    territory: str
    from_date: dt.date
    change: Change
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {
            "sha256": self.file.sha256,
            "recording_id": self.file.recording_id,
            "isrc": self.file.isrc,
            "decision_id": self.file.decision_id,
            "use": self.use,
            "territory": self.territory,
            "from": self.from_date.isoformat(),
            "change_index": self.change.index,
            "rule_id": self.change.rule_id,
            "reason": self.reason,
        }


@dataclass
class Feed:
    """One page of a licensee's revocation feed."""

    licensee_id: int
    since: int
    checkpoint: int
    more: bool
    changes: list[Change]
    revoked: dict[Manifest, list[Revoked]] = field(default_factory=dict)

    @property
    def touched(self) -> bool:
        return any(self.revoked.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "licensee_id": self.licensee_id,
            "since": self.since,
            "checkpoint": self.checkpoint,
            "more": self.more,
            "changes": [change.as_json() for change in self.changes],
            "manifests": [
                {
                    "index": manifest.index,
                    "entry_id": manifest.entry_id,
                    "name": manifest.name,
                    "model_id": manifest.model_id,
                    "revoked": [item.as_json() for item in items],
                }
                for manifest, items in sorted(self.revoked.items(), key=lambda kv: kv[0].index)
                if items
            ],
        }


def _log_size(session: Session) -> int:
    size = session.scalar(select(LogState.size).where(LogState.id == 1))
    return int(size or 0)


def _changes(session: Session, start: int, stop: int, limit: int) -> list[Change]:
    rows = session.execute(
        select(LogEntry.idx, LogEntry.leaf_hash, LogEntry.body)
        .where(
            LogEntry.entry_type == "consent-change",
            LogEntry.idx >= start,
            LogEntry.idx < stop,
        )
        .order_by(LogEntry.idx)
        .limit(limit)
    ).all()
    return [
        Change(int(idx), bytes(leaf).hex(), orjson.loads(bytes(body))["payload"])
        for idx, leaf, body in rows
    ]


def _manifests(session: Session, licensee_id: int) -> list[Manifest]:
    """The licensee's own dataset manifests, with the files that cite a decision."""
    rows = session.execute(
        select(LogEntry.idx, LogEntry.leaf_hash, LogEntry.body)
        .where(LogEntry.entry_type == "dataset-manifest", LogEntry.licensee_id == licensee_id)
        .order_by(LogEntry.idx)
    ).all()
    found = []
    for idx, leaf, body in rows:
        payload = orjson.loads(bytes(body))["payload"]
        files = tuple(
            DeclaredFile(
                item["sha256"], item["decision_id"], item.get("recording_id"), item.get("isrc")
            )
            for item in payload["files"]
            if item.get("decision_id")
        )
        if files:
            found.append(
                Manifest(
                    int(idx), bytes(leaf).hex(), payload["name"], payload.get("model_id"), files
                )
            )
    return found


def _may_reach(change: Change, decision: consent.DecisionResult) -> bool:
    """Whether the change names the decision's use (or a broader one, whose prohibitions
    reach it) and its territory: only then can it be why the decision no longer holds."""
    if decision.use is None or decision.territory is None:
        return False
    uses = set(change.payload.get("uses", ()))
    return bool(uses.intersection(use_ancestry(decision.use))) and covers_territory(
        change.payload.get("territories", (WORLDWIDE,)), decision.territory
    )


def _caused_by(change: Change, cited: consent.DecisionResult, basis: consent.Basis) -> bool:
    """Whether ``change`` is why the cited decision no longer permits (``basis`` is the
    decision taken again on the change's effective date)."""
    if basis.outcome == "permit" or change.payload.get("change") in _WIDENING:
        return False
    rule_id = change.rule_id
    if rule_id is None:
        # Declared by hand, naming no rule: what it covers is all the log says of it.
        recording_id = change.payload.get("recording_id")
        return recording_id is None or recording_id == cited.recording_id
    if change.payload.get("change") == "revoke":
        return rule_id in cited.rule_ids  # the permission the decision relied on was lifted
    return rule_id in basis.rule_ids  # a reservation that now decides against the use


def _revocations(
    session: Session, manifests: Sequence[Manifest], changes: Sequence[Change]
) -> dict[Manifest, list[Revoked]]:
    if not manifests or not changes:
        return {}
    # Each declared file under the decision it cites: a change costs one look per decision.
    citing: dict[str, list[tuple[Manifest, int, DeclaredFile]]] = defaultdict(list)
    for manifest in manifests:
        for position, item in enumerate(manifest.files):
            citing[item.decision_id].append((manifest, position, item))
    cited = consent.get_decisions(session, OPERATOR, set(citing))
    # Per declared file, the earliest date (then the first change) that ends its use.
    first: dict[tuple[int, int], Revoked] = {}
    for change in changes:
        if change.payload.get("change") in _WIDENING:
            continue
        on_date = change.effective_on
        reached = {key: found for key, found in cited.items() if _may_reach(change, found)}
        if not reached:
            continue
        again = decide_again(session, reached.values(), on_date)
        for decision_id, decision in reached.items():
            terms = _terms(decision)
            basis = again[(terms, *_subject(decision))]
            if not _caused_by(change, decision, basis):
                continue
            for manifest, position, item in citing[decision_id]:
                key = (manifest.index, position)
                known = first.get(key)
                if known is None or on_date < known.from_date:
                    first[key] = Revoked(item, terms[1], terms[2], on_date, change, basis.reason)
    found: dict[Manifest, list[Revoked]] = {}
    by_index = {manifest.index: manifest for manifest in manifests}
    for (index, _), revoked in sorted(first.items(), key=lambda pair: pair[0]):
        found.setdefault(by_index[index], []).append(revoked)
    return found


def feed_window(session: Session, licensee_id: int, start: int, stop: int, limit: int) -> Feed:
    """The feed of the consent changes at log positions ``start`` to ``stop - 1`` (at most
    ``limit`` of them) for one licensee; no authorisation here (see :func:`changes_since`)."""
    found = _changes(session, start, stop, limit + 1)
    more = len(found) > limit
    changes = found[:limit]
    checkpoint = changes[-1].index + 1 if more else stop
    revoked = _revocations(session, _manifests(session, licensee_id), changes)
    return Feed(licensee_id, start, checkpoint, more, changes, revoked)


def changes_since(
    database: Database,
    principal: Principal,
    *,
    since: int = 0,
    licensee_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Feed:
    """A licensee's revocation feed from the log size ``since`` (the last ``checkpoint``).

    A licensee reads its own (``licensee_id`` defaults to the caller's); an auditor names
    the licensee. ``limit`` bounds the consent changes a page covers; ``more`` says whether
    another page follows from ``checkpoint``.
    """
    check_limit(limit)
    if licensee_id is None:
        licensee_id = principal.licensee_id
    if licensee_id is None:
        raise InvalidInput(
            "name the licensee_id whose revocation feed to read",
            details={"field": "licensee_id"},
        )
    authorize(principal, "changes.read", licensee_id=licensee_id)
    if since < 0:
        raise InvalidInput(f"invalid since {since}: a log size, 0 or more")
    with database.reader() as session:
        # The size first: a change appended meanwhile lies beyond it and waits for next time.
        size = _log_size(session)
        if since > size:
            raise InvalidInput(
                f"since {since} is beyond the log's size {size}: pass a checkpoint this log gave",
                details={"field": "since", "value": since, "log_size": size},
            )
        return feed_window(session, licensee_id, since, size, limit)

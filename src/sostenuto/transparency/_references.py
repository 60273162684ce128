"""What entries point at must exist: licensees, models, recordings, manifests.

Consent decisions that manifests cite are not looked up here: the log knows nothing of
consent. :func:`citations` lists them, and ``sostenuto.declarations`` checks them with the
consent service before appending (``declare`` refuses an entry that cites any).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.errors import InvalidInput, NotFound
from sostenuto.storage.models.registry import AiModel, Cmo, Licensee, Performer, Recording
from sostenuto.storage.models.transparency import LogEntry
from sostenuto.transparency._entries import (
    ConsentChange,
    DatasetManifest,
    OutputDeclaration,
    RemunerationStatement,
    TrainingRun,
    VoiceMatch,
    _Schema,
)


@dataclass(frozen=True)
class Citation:
    """A consent decision that an entry cites, for ``sostenuto.declarations`` to check.

    ``entry`` is the entry's position in its batch, ``file`` the file's in the manifest;
    ``recording_id`` is the file's recording (given, or found by its ISRC), ``model_id`` the
    model the manifest names.
    """

    entry: int
    file: int
    decision_id: str
    licensee_id: int
    model_id: int | None
    recording_id: int | None


class KnownIds:
    """Ids already seen to exist in this batch, so a batch of 10 000 entries costs a few
    queries rather than one per entry."""

    def __init__(self) -> None:
        self.seen: dict[str, set[int]] = {}
        # Strong references: the session's identity map alone would let rows be collected.
        self.rows: dict[tuple[str, int], object] = {}
        self.isrcs: dict[str, int] = {}  # registered ISRC -> recording id

    def get(
        self, session: Session, table: type[Licensee] | type[Cmo] | type[AiModel], key: int
    ) -> object:
        slot = (table.__tablename__, key)
        if slot not in self.rows:
            self.rows[slot] = session.get(table, key)
        return self.rows[slot]

    def missing(
        self, session: Session, table: type[Recording] | type[Performer], ids: Iterable[int]
    ) -> list[int]:
        known = self.seen.setdefault(table.__tablename__, set())
        wanted = sorted(set(ids) - known)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            known.update(session.scalars(select(table.id).where(table.id.in_(chunk))))
        return [i for i in wanted if i not in known]


def _need(
    session: Session, table: type[Licensee] | type[Cmo], key: int | None, known: KnownIds
) -> None:
    if key is not None and known.get(session, table, key) is None:
        raise NotFound(f"{table.__tablename__} {key} does not exist")


def _need_model(
    session: Session, model_id: int | None, licensee_id: int | None, known: KnownIds
) -> None:
    if model_id is None:
        return
    model = known.get(session, AiModel, model_id)
    if not isinstance(model, AiModel):
        raise NotFound(f"model {model_id} does not exist")
    if licensee_id is not None and model.licensee_id != licensee_id:
        raise InvalidInput(f"model {model_id} belongs to licensee {model.licensee_id}")


def _need_all(
    session: Session,
    table: type[Recording] | type[Performer],
    ids: Iterable[int],
    known: KnownIds | None = None,
) -> None:
    missing = (known or KnownIds()).missing(session, table, ids)
    if missing:
        raise NotFound(
            f"{len(missing)} {table.__tablename__} id(s) do not exist: {missing[:10]}",
            details={"missing": missing[:100]},
        )


def _check_manifest(session: Session, entry: DatasetManifest, known: KnownIds) -> None:
    _need(session, Licensee, entry.licensee_id, known)
    _need_model(session, entry.model_id, entry.licensee_id, known)
    _need_all(session, Recording, [f.recording_id for f in entry.files if f.recording_id], known)
    isrcs = sorted({f.isrc for f in entry.files if f.isrc} - known.isrcs.keys())
    for start in range(0, len(isrcs), 500):
        chunk = isrcs[start : start + 500]
        rows = session.execute(
            select(Recording.isrc, Recording.id).where(Recording.isrc.in_(chunk))
        )
        known.isrcs.update((isrc, recording_id) for isrc, recording_id in rows)
    unknown = [i for i in isrcs if i not in known.isrcs]
    if unknown:
        raise NotFound(f"no recording has ISRC {unknown[0]}", details={"isrcs": unknown})
    for position, item in enumerate(entry.files):
        if item.isrc and item.recording_id and known.isrcs[item.isrc] != item.recording_id:
            raise InvalidInput(
                f"file {position}: ISRC {item.isrc} is recording {known.isrcs[item.isrc]},"
                f" not {item.recording_id}",
                details={"file": position},
            )


def citations(entry_index: int, entry: _Schema, known: KnownIds) -> list[Citation]:
    """The consent decisions ``entry`` cites (after :func:`check_references` passed)."""
    if not isinstance(entry, DatasetManifest):
        return []
    return [
        Citation(
            entry=entry_index,
            file=position,
            decision_id=item.decision_id,
            licensee_id=entry.licensee_id,
            model_id=entry.model_id,
            recording_id=item.recording_id or (known.isrcs[item.isrc] if item.isrc else None),
        )
        for position, item in enumerate(entry.files)
        if item.decision_id
    ]


def _check_run(session: Session, entry: TrainingRun, known: KnownIds) -> None:
    _need(session, Licensee, entry.licensee_id, known)
    _need_model(session, entry.model_id, entry.licensee_id, known)
    hashes = [bytes.fromhex(h) for h in entry.manifests]
    rows = {
        bytes(h): (t, lic, model)
        for h, t, lic, model in session.execute(
            select(
                LogEntry.leaf_hash, LogEntry.entry_type, LogEntry.licensee_id, LogEntry.model_id
            ).where(LogEntry.leaf_hash.in_(hashes))
        )
    }
    for text, digest in zip(entry.manifests, hashes, strict=True):
        found = rows.get(digest)
        if found is None:
            raise NotFound(f"manifest entry {text} is not in the log")
        entry_type, licensee_id, model_id = found
        if entry_type != "dataset-manifest":
            raise InvalidInput(f"entry {text} is a {entry_type}, not a dataset-manifest")
        if licensee_id != entry.licensee_id:
            raise InvalidInput(f"manifest {text} was declared by another licensee")
        # A manifest for one model cites decisions taken for that model (its licences); one
        # naming no model cites only decisions that hold for every model.
        if model_id is not None and model_id != entry.model_id:
            raise InvalidInput(
                f"manifest {text} was declared for model {model_id}, not model {entry.model_id}:"
                " a training run uses only manifests for its own model (or for no model)",
                details={"manifest": text, "manifest_model": model_id, "model": entry.model_id},
            )


def prefetch(session: Session, entries: Iterable[_Schema], known: KnownIds) -> None:
    """Look up at once every recording and performer a batch of entries cites."""
    recordings: set[int] = set()
    performers: set[int] = set()
    for entry in entries:
        if isinstance(entry, DatasetManifest):
            recordings.update(f.recording_id for f in entry.files if f.recording_id)
        elif isinstance(entry, OutputDeclaration):
            recordings.update(r.recording_id for r in entry.resemblances if r.recording_id)
            performers.update(r.performer_id for r in entry.resemblances if r.performer_id)
        elif isinstance(entry, (ConsentChange, VoiceMatch)):
            performers.update([entry.performer_id] if entry.performer_id else [])
            if isinstance(entry, ConsentChange) and entry.recording_id:
                recordings.add(entry.recording_id)
    known.missing(session, Recording, recordings)
    known.missing(session, Performer, performers)


def check_references(session: Session, entry: _Schema, known: KnownIds | None = None) -> None:
    """Raise :class:`NotFound` / :class:`InvalidInput` for any dangling reference."""
    known = known or KnownIds()
    if isinstance(entry, DatasetManifest):
        _check_manifest(session, entry, known)
    elif isinstance(entry, TrainingRun):
        _check_run(session, entry, known)
    elif isinstance(entry, OutputDeclaration):
        _need(session, Licensee, entry.licensee_id, known)
        _need_model(session, entry.model_id, entry.licensee_id, known)
        _need_all(
            session,
            Recording,
            [r.recording_id for r in entry.resemblances if r.recording_id],
            known,
        )
        _need_all(
            session,
            Performer,
            [r.performer_id for r in entry.resemblances if r.performer_id],
            known,
        )
    elif isinstance(entry, ConsentChange):
        _need(session, Cmo, entry.cmo_id, known)
        _need_all(session, Recording, [entry.recording_id] if entry.recording_id else [], known)
        _need_all(session, Performer, [entry.performer_id] if entry.performer_id else [], known)
    elif isinstance(entry, RemunerationStatement):
        _need(session, Cmo, entry.cmo_id, known)
        _need(session, Licensee, entry.licensee_id, known)
    elif isinstance(entry, VoiceMatch):
        _need(session, Licensee, entry.licensee_id, known)
        _need(session, Cmo, entry.cmo_id, known)
        _need_all(session, Performer, [entry.performer_id], known)
        _need_model(session, entry.model_id, entry.licensee_id, known)

"""What entries point at must exist: licensees, models, recordings, decisions, manifests."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.errors import InvalidInput, NotFound
from sostenuto.storage.models.registry import AiModel, Cmo, Licensee, Performer, Recording
from sostenuto.storage.models.transparency import LogEntry
from sostenuto.transparency._decisions import CitedDecision, cited_decision
from sostenuto.transparency._entries import (
    ConsentChange,
    DatasetManifest,
    OutputDeclaration,
    RemunerationStatement,
    TrainingRun,
    VoiceMatch,
    _Schema,
)


class KnownIds:
    """Ids already seen to exist in this batch, so a batch of 10 000 entries costs a few
    queries rather than one per entry."""

    def __init__(self) -> None:
        self.seen: dict[str, set[int]] = {}
        # Strong references: the session's identity map alone would let rows be collected.
        self.rows: dict[tuple[str, int], object] = {}

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
    isrcs = sorted({f.isrc for f in entry.files if f.isrc})
    if isrcs:
        registered = set(session.scalars(select(Recording.isrc).where(Recording.isrc.in_(isrcs))))
        unknown = [i for i in isrcs if i not in registered]
        if unknown:
            raise NotFound(f"no recording has ISRC {unknown[0]}", details={"isrcs": unknown})
    seen: dict[str, CitedDecision] = {}
    for position, item in enumerate(entry.files):
        if not item.decision_id:
            continue
        decision = seen.get(item.decision_id)
        if decision is None:
            decision = cited_decision(session, item.decision_id)
            if decision is None:
                raise NotFound(
                    f"file {position}: consent decision {item.decision_id!r} does not exist",
                    details={"file": position, "decision_id": item.decision_id},
                )
            seen[item.decision_id] = decision
        if decision.licensee_id is not None and decision.licensee_id != entry.licensee_id:
            raise InvalidInput(
                f"file {position}: decision {decision.id} was taken for licensee "
                f"{decision.licensee_id}, not {entry.licensee_id}"
            )
        if (
            item.recording_id is not None
            and decision.recording_id is not None
            and decision.recording_id != item.recording_id
        ):
            raise InvalidInput(
                f"file {position}: decision {decision.id} is about recording "
                f"{decision.recording_id}, not {item.recording_id}"
            )
        if decision.outcome != "permit":
            raise InvalidInput(
                f"file {position}: decision {decision.id} did not permit this use "
                f"(outcome {decision.outcome})",
                details={"file": position, "decision_id": decision.id},
            )


def _check_run(session: Session, entry: TrainingRun, known: KnownIds) -> None:
    _need(session, Licensee, entry.licensee_id, known)
    _need_model(session, entry.model_id, entry.licensee_id, known)
    hashes = [bytes.fromhex(h) for h in entry.manifests]
    rows = {
        bytes(h): (t, lic)
        for h, t, lic in session.execute(
            select(LogEntry.leaf_hash, LogEntry.entry_type, LogEntry.licensee_id).where(
                LogEntry.leaf_hash.in_(hashes)
            )
        )
    }
    for text, digest in zip(entry.manifests, hashes, strict=True):
        found = rows.get(digest)
        if found is None:
            raise NotFound(f"manifest entry {text} is not in the log")
        if found[0] != "dataset-manifest":
            raise InvalidInput(f"entry {text} is a {found[0]}, not a dataset-manifest")
        if found[1] != entry.licensee_id:
            raise InvalidInput(f"manifest {text} was declared by another licensee")


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

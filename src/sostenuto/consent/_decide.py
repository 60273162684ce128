"""Decide, store and look up consent decisions (single, batch, per performer)."""

from __future__ import annotations

import datetime as dt
import secrets
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
from sqlalchemy.orm import Session

from sostenuto.auth import Principal
from sostenuto.consent._engine import Context, context
from sostenuto.consent._snapshot import Snapshot, current_snapshot
from sostenuto.consent._types import Basis, BatchResult, DecisionResult, result_from_basis
from sostenuto.errors import Forbidden, InvalidInput, NotFound
from sostenuto.storage.models.consent import Decision, DecisionBatch
from sostenuto.vocabulary import check_territory, check_use

MAX_BATCH = 1_000_000
PAYLOAD_FORMAT = 1


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _prepare(
    session: Session,
    principal: Principal,
    licensee_id: int,
    use: str,
    territory: str,
    on_date: dt.date | None,
) -> tuple[Snapshot, Context, str, dt.date]:
    """Check the caller and the terms, then find the context; nothing is written here."""
    principal.require("licensee", "cmo-admin", "auditor")
    principal.require_licensee(licensee_id)
    check_use(use)
    territory = check_territory(territory, allow_worldwide=False)
    when = on_date or _today()
    snapshot = current_snapshot(session)
    if licensee_id not in snapshot.licensees:
        raise NotFound(f"no licensee with id {licensee_id}", details={"licensee_id": licensee_id})
    return (
        snapshot,
        context(snapshot, licensee_id, use, territory, when.toordinal()),
        territory,
        when,
    )


def decide(
    session: Session,
    principal: Principal,
    *,
    licensee_id: int,
    recording_id: int,
    use: str,
    territory: str,
    on_date: dt.date | None = None,
) -> DecisionResult:
    """Decide whether ``licensee_id`` may use ``recording_id`` for ``use`` in ``territory``
    on ``on_date`` (today by default), and store the decision in the session."""
    snapshot, ctx, territory, when = _prepare(
        session, principal, licensee_id, use, territory, on_date
    )
    if not snapshot.has_recording(recording_id):
        raise NotFound(
            f"no recording with id {recording_id}", details={"recording_id": recording_id}
        )
    with ctx.lock:
        basis = ctx.bases[ctx.decide_recording(recording_id)]
    decision_id = _new_id("dec")
    session.add(
        Decision(
            id=decision_id,
            decided_at=dt.datetime.now(dt.UTC),
            licensee_id=licensee_id,
            recording_id=recording_id,
            use=use,
            territory=territory,
            on_date=when,
            outcome=basis.outcome,
            basis=basis.as_json(),
        )
    )
    session.flush()
    return result_from_basis(
        decision_id,
        basis,
        recording_id=recording_id,
        licensee_id=licensee_id,
        use=use,
        territory=territory,
        on_date=when,
    )


def _recording_array(snapshot: Snapshot, recording_ids: Sequence[int]) -> np.ndarray[Any, Any]:
    if len(recording_ids) == 0:
        raise InvalidInput("a batch needs at least one recording id")
    if len(recording_ids) > MAX_BATCH:
        raise InvalidInput(
            f"a batch holds at most {MAX_BATCH} recordings; got {len(recording_ids)}"
        )
    try:
        recordings = np.asarray(recording_ids, dtype=np.int64)
    except (TypeError, ValueError, OverflowError) as error:
        raise InvalidInput(f"recording ids must be integers: {error}") from None
    if recordings.ndim != 1:
        raise InvalidInput("recording ids must be a flat list of integers")
    inside = (recordings >= 0) & (recordings < len(snapshot.rec_known))
    known = np.zeros(len(recordings), dtype=np.bool_)
    known[inside] = snapshot.rec_known[recordings[inside]]
    if not known.all():
        missing = recordings[~known]
        raise NotFound(
            f"{len(missing)} recording id(s) are not registered, e.g. {missing[:10].tolist()}",
            details={"unknown_recording_ids": missing[:100].tolist()},
        )
    return recordings


def decide_batch(
    session: Session,
    principal: Principal,
    *,
    licensee_id: int,
    recording_ids: Sequence[int],
    use: str,
    territory: str,
    on_date: dt.date | None = None,
) -> BatchResult:
    """Decide many recordings at once; the batch is stored as one compressed row."""
    snapshot, ctx, territory, when = _prepare(
        session, principal, licensee_id, use, territory, on_date
    )
    recordings = _recording_array(snapshot, recording_ids)
    with ctx.lock:
        per_recording = ctx.decide_many(recordings)
        used, inverse = np.unique(per_recording, return_inverse=True)
        bases = [ctx.bases[index] for index in used.tolist()]
    inverse = inverse.reshape(-1)
    permits = np.array([basis.outcome == "permit" for basis in bases], dtype=np.bool_)
    permitted = int(permits[inverse].sum())
    batch = BatchResult(
        batch_id=_new_id("bat"),
        licensee_id=licensee_id,
        use=use,
        territory=territory,
        on_date=when,
        recording_ids=recordings.tolist(),
        bases=bases,
        basis_index=inverse.tolist(),
    )
    _store_batch(
        session,
        batch.batch_id,
        licensee_id=licensee_id,
        use=use,
        territory=territory,
        on_date=when,
        size=len(recordings),
        permitted=permitted,
        payload={
            "format": PAYLOAD_FORMAT,
            "kind": "recordings",
            "recording_ids": batch.recording_ids,
            "bases": [basis.as_json() for basis in bases],
            "basis_index": batch.basis_index,
        },
    )
    return batch


def _store_batch(
    session: Session,
    batch_id: str,
    *,
    licensee_id: int,
    use: str,
    territory: str,
    on_date: dt.date,
    size: int,
    permitted: int,
    payload: dict[str, Any],
) -> None:
    session.add(
        DecisionBatch(
            id=batch_id,
            decided_at=dt.datetime.now(dt.UTC),
            licensee_id=licensee_id,
            use=use,
            territory=territory,
            on_date=on_date,
            size=size,
            permitted=permitted,
            payload=zlib.compress(orjson.dumps(payload), 6),
        )
    )
    session.flush()


def decide_performer(
    session: Session,
    principal: Principal,
    *,
    licensee_id: int,
    performer_id: int,
    use: str,
    territory: str,
    on_date: dt.date | None = None,
) -> DecisionResult:
    """Whether the performer's consent covers this use here and then, whatever the recording.

    For uses of a person rather than a recording (a voice model): the performer's own rules,
    their CMO's rules and licences, or an extended licence. Stored as a one-entry batch.
    """
    snapshot, ctx, territory, when = _prepare(
        session, principal, licensee_id, use, territory, on_date
    )
    if not snapshot.has_performer(performer_id):
        raise NotFound(
            f"no performer with id {performer_id}", details={"performer_id": performer_id}
        )
    basis = ctx.decide_performer(performer_id)
    batch_id = _new_id("bat")
    _store_batch(
        session,
        batch_id,
        licensee_id=licensee_id,
        use=use,
        territory=territory,
        on_date=when,
        size=1,
        permitted=int(basis.outcome == "permit"),
        payload={
            "format": PAYLOAD_FORMAT,
            "kind": "performer",
            "performer_id": performer_id,
            "bases": [basis.as_json()],
            "basis_index": [0],
        },
    )
    return result_from_basis(
        f"{batch_id}.0",
        basis,
        performer_id=performer_id,
        licensee_id=licensee_id,
        use=use,
        territory=territory,
        on_date=when,
    )


def _visible(principal: Principal, licensee_id: int, decision_id: str) -> None:
    if principal.operator:
        return
    if principal.role == "public":
        raise Forbidden("the public cannot see decisions")
    if principal.role == "licensee" and principal.licensee_id != licensee_id:
        # Another licensee's decision is not merely forbidden: it does not exist for them.
        raise NotFound(f"no decision {decision_id!r}")


def get_decision(session: Session, principal: Principal, decision_id: str) -> DecisionResult:
    """A stored decision, exactly as it was taken; a licensee sees only its own."""
    principal.require("licensee", "cmo-admin", "auditor")
    if "." in decision_id:
        batch_id, _, position = decision_id.partition(".")
        batch = session.get(DecisionBatch, batch_id)
        if batch is None or not position.isdigit() or int(position) >= batch.size:
            raise NotFound(f"no decision {decision_id!r}")
        _visible(principal, batch.licensee_id, decision_id)
        payload = orjson.loads(zlib.decompress(batch.payload))
        index = int(position)
        basis = Basis.from_json(payload["bases"][payload["basis_index"][index]])
        return result_from_basis(
            decision_id,
            basis,
            recording_id=payload["recording_ids"][index] if "recording_ids" in payload else None,
            performer_id=payload.get("performer_id"),
            licensee_id=batch.licensee_id,
            use=batch.use,
            territory=batch.territory,
            on_date=batch.on_date,
        )
    row = session.get(Decision, decision_id)
    if row is None:
        raise NotFound(f"no decision {decision_id!r}")
    _visible(principal, row.licensee_id, decision_id)
    return result_from_basis(
        decision_id,
        Basis.from_json(row.basis),
        recording_id=row.recording_id,
        licensee_id=row.licensee_id,
        use=row.use,
        territory=row.territory,
        on_date=row.on_date,
    )

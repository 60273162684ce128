"""Decide, store and look up consent decisions (single, batch, per performer)."""

from __future__ import annotations

import datetime as dt
import secrets
import zlib
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sostenuto.auth import Principal
from sostenuto.consent._engine import Context, context
from sostenuto.consent._identifiers import (
    isrcs_of,
    normalised_isrcs,
    one_performer,
    one_recording,
    recording_ids_for,
)
from sostenuto.consent._snapshot import BoolArray, Snapshot, current_snapshot
from sostenuto.consent._types import Basis, BatchResult, DecisionResult, result_from_basis
from sostenuto.errors import Forbidden, InvalidInput, NotFound
from sostenuto.storage.models.consent import Decision, DecisionBatch
from sostenuto.storage.models.registry import AiModel, Contribution, Mandate
from sostenuto.vocabulary import check_territory, check_use

MAX_BATCH = 1_000_000
PAYLOAD_FORMAT = 1


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


PREVIEW_ID = "preview"


def _stores(principal: Principal, store: bool) -> bool:
    """Only a licensee's own question (or the operator's) is stored in its name; what a CMO
    admin or an auditor asks is a preview of what the licensee would get."""
    if not store:
        return False
    return principal.operator or principal.role == "licensee"


def _prepare(
    session: Session,
    principal: Principal,
    licensee_id: int,
    use: str,
    territory: str,
    on_date: dt.date | None,
    model_id: int | None = None,
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
    if model_id is not None:
        model = session.get(AiModel, model_id)
        if model is None or model.licensee_id != licensee_id:
            raise NotFound(
                f"licensee {licensee_id} has no model with id {model_id}",
                details={"licensee_id": licensee_id, "model_id": model_id},
            )
    return (
        snapshot,
        context(snapshot, licensee_id, use, territory, when.toordinal(), model_id),
        territory,
        when,
    )


def _repertoire_mask(snapshot: Snapshot, cmo_id: int | None, day: int) -> BoolArray:
    """Per performer id: whether ``cmo_id`` holds an active mandate of them valid on ``day``."""
    represented = np.zeros(len(snapshot.perf_known), dtype=np.bool_)
    if cmo_id is not None and len(snapshot.m_perf):
        valid = (snapshot.m_cmo == cmo_id) & (snapshot.m_start <= day) & (snapshot.m_end >= day)
        represented[snapshot.m_perf[valid]] = True
    return represented


def _preview_scope(
    principal: Principal,
    snapshot: Snapshot,
    when: dt.date,
    *,
    recordings: npt.NDArray[np.int64] | None = None,
    performer_id: int | None = None,
) -> None:
    """A CMO admin previews only decisions on its own repertoire: another CMO's licences and
    rules for a licensee are none of its business."""
    if principal.operator or principal.role != "cmo-admin":
        return
    represented = _repertoire_mask(snapshot, principal.cmo_id, when.toordinal())
    if performer_id is not None:
        if not represented[performer_id]:
            raise Forbidden(
                f"CMO {principal.cmo_id} does not represent performer {performer_id} on {when};"
                " a CMO previews decisions on its own repertoire only",
                details={"performer_id": performer_id},
            )
        return
    assert recordings is not None
    starts = snapshot.rec_ptr[recordings]
    ends = snapshot.rec_ptr[recordings + 1]
    outside = [
        int(recording)
        for recording, start, end in zip(recordings.tolist(), starts, ends, strict=True)
        if not represented[snapshot.contrib_perf[start:end]].any()
    ]
    if outside:
        raise Forbidden(
            f"CMO {principal.cmo_id} represents no contributor of {len(outside)} recording(s)"
            f" on {when}, e.g. {outside[:10]}; a CMO previews decisions on its own repertoire",
            details={"outside_repertoire": outside[:100]},
        )


def decide(
    session: Session,
    principal: Principal,
    *,
    licensee_id: int,
    recording_id: int | None = None,
    use: str,
    territory: str,
    on_date: dt.date | None = None,
    model_id: int | None = None,
    store: bool = True,
    isrc: str | None = None,
) -> DecisionResult:
    """Decide whether ``licensee_id`` may use ``recording_id`` for ``use`` in ``territory``
    on ``on_date`` (today by default), for model version ``model_id`` if given (a licence
    for one model version counts only for it), and store the decision in the session —
    unless it is a preview (``store=False``, or asked by a CMO admin or an auditor)."""
    snapshot, ctx, territory, when = _prepare(
        session, principal, licensee_id, use, territory, on_date, model_id
    )
    recording_id = one_recording(session, recording_id, isrc)
    if not snapshot.has_recording(recording_id):
        raise NotFound(
            f"no recording with id {recording_id}", details={"recording_id": recording_id}
        )
    _preview_scope(principal, snapshot, when, recordings=np.array([recording_id]))
    with ctx.lock:
        basis = ctx.bases[ctx.decide_recording(recording_id)]
    stored = _stores(principal, store)
    decision_id = _new_id("dec") if stored else PREVIEW_ID
    if stored:
        session.add(
            Decision(
                id=decision_id,
                decided_at=dt.datetime.now(dt.UTC),
                licensee_id=licensee_id,
                recording_id=recording_id,
                model_id=model_id,
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
        model_id=model_id,
        stored=stored,
        isrc=isrcs_of(session, [recording_id])[0],
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
    recording_ids: Sequence[int] | None = None,
    use: str,
    territory: str,
    on_date: dt.date | None = None,
    model_id: int | None = None,
    store: bool = True,
    isrcs: Sequence[str] | None = None,
) -> BatchResult:
    """Decide many recordings at once; the batch is stored as one compressed row (unless a
    preview, as for :func:`decide`)."""
    snapshot, ctx, territory, when = _prepare(
        session, principal, licensee_id, use, territory, on_date, model_id
    )
    stored = _stores(principal, store)
    if (recording_ids is None) == (isrcs is None):
        raise InvalidInput("name the recordings by recording_ids or by isrcs, not both or neither")
    if isrcs is not None:
        if len(isrcs) > MAX_BATCH:
            raise InvalidInput(f"a batch holds at most {MAX_BATCH} recordings; got {len(isrcs)}")
        recording_ids = recording_ids_for(session, isrcs)
    assert recording_ids is not None
    recordings = _recording_array(snapshot, recording_ids)
    _preview_scope(principal, snapshot, when, recordings=recordings)
    with ctx.lock:
        per_recording = ctx.decide_many(recordings)
        used, inverse = np.unique(per_recording, return_inverse=True)
        bases = [ctx.bases[index] for index in used.tolist()]
    inverse = inverse.reshape(-1)
    permits = np.array([basis.outcome == "permit" for basis in bases], dtype=np.bool_)
    permitted = int(permits[inverse].sum())
    batch = BatchResult(
        batch_id=_new_id("bat") if stored else PREVIEW_ID,
        licensee_id=licensee_id,
        use=use,
        territory=territory,
        on_date=when,
        recording_ids=recordings.tolist(),
        bases=bases,
        basis_index=inverse.tolist(),
        model_id=model_id,
        stored=stored,
        isrcs=normalised_isrcs(isrcs) if isrcs is not None else None,
    )
    if not stored:
        return batch
    _store_batch(
        session,
        batch.batch_id,
        licensee_id=licensee_id,
        model_id=model_id,
        use=use,
        territory=territory,
        on_date=when,
        size=len(recordings),
        permitted=permitted,
        payload={
            "format": PAYLOAD_FORMAT,
            "kind": "recordings",
            "recording_ids": batch.recording_ids,
            **({"isrcs": batch.isrcs} if batch.isrcs is not None else {}),
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
    model_id: int | None,
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
            model_id=model_id,
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
    performer_id: int | None = None,
    use: str,
    territory: str,
    on_date: dt.date | None = None,
    model_id: int | None = None,
    store: bool = True,
    isni: str | None = None,
    ipn: str | None = None,
) -> DecisionResult:
    """Whether the performer's consent covers this use here and then, whatever the recording.

    For uses of a person rather than a recording (a voice model): the performer's own rules,
    their CMO's rules and licences, or an extended licence. Stored as a one-entry batch
    (unless a preview, as for :func:`decide`).
    """
    snapshot, ctx, territory, when = _prepare(
        session, principal, licensee_id, use, territory, on_date, model_id
    )
    performer_id = one_performer(session, performer_id, isni, ipn)
    if not snapshot.has_performer(performer_id):
        raise NotFound(
            f"no performer with id {performer_id}", details={"performer_id": performer_id}
        )
    _preview_scope(principal, snapshot, when, performer_id=performer_id)
    basis = ctx.decide_performer(performer_id)
    stored = _stores(principal, store)
    if not stored:
        return result_from_basis(
            PREVIEW_ID,
            basis,
            performer_id=performer_id,
            licensee_id=licensee_id,
            use=use,
            territory=territory,
            on_date=when,
            model_id=model_id,
            stored=False,
        )
    batch_id = _new_id("bat")
    _store_batch(
        session,
        batch_id,
        licensee_id=licensee_id,
        model_id=model_id,
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
        model_id=model_id,
    )


def _represents(
    session: Session, cmo_id: int | None, performers: Sequence[int], on: dt.date
) -> bool:
    """Whether ``cmo_id`` held an active mandate of one of ``performers`` on ``on``."""
    if cmo_id is None or not performers:
        return False
    found = session.scalar(
        select(Mandate.id)
        .where(
            Mandate.cmo_id == cmo_id,
            Mandate.performer_id.in_(list(performers)),
            Mandate.status == "active",
            Mandate.valid_from <= on,
            or_(Mandate.valid_to.is_(None), Mandate.valid_to >= on),
        )
        .limit(1)
    )
    return found is not None


def _visible(
    session: Session,
    principal: Principal,
    decision_id: str,
    *,
    licensee_id: int,
    on_date: dt.date,
    recording_id: int | None,
    performer_id: int | None,
) -> None:
    """A licensee sees its own decisions, a CMO admin those on its repertoire (a recording
    with a contributor it represented that day, or its member), an auditor all. Anyone else
    is told the decision does not exist, so ids cannot be probed."""
    if principal.operator or principal.role == "auditor":
        return
    if principal.role == "licensee" and principal.licensee_id == licensee_id:
        return
    if principal.role == "cmo-admin":
        if performer_id is not None:
            performers: list[int] = [performer_id]
        elif recording_id is not None:
            performers = list(
                session.scalars(
                    select(Contribution.performer_id).where(
                        Contribution.recording_id == recording_id
                    )
                )
            )
        else:
            performers = []
        if _represents(session, principal.cmo_id, performers, on_date):
            return
    if principal.role == "performer" and principal.performer_id is not None:
        # A performer sees the decisions on itself and on the recordings it contributed to.
        if performer_id is not None:
            concerned = performer_id == principal.performer_id
        elif recording_id is not None:
            concerned = (
                session.scalar(
                    select(Contribution.performer_id).where(
                        Contribution.recording_id == recording_id,
                        Contribution.performer_id == principal.performer_id,
                    )
                )
                is not None
            )
        else:
            concerned = False
        if concerned:
            return
    raise NotFound(f"no decision {decision_id!r}")


def get_decision(session: Session, principal: Principal, decision_id: str) -> DecisionResult:
    """A stored decision, exactly as it was taken; a licensee sees only its own, a CMO admin
    those on its repertoire."""
    principal.require("licensee", "cmo-admin", "auditor", "performer")
    if "." in decision_id:
        found = get_decisions(session, principal, [decision_id]).get(decision_id)
        if found is None:
            raise NotFound(f"no decision {decision_id!r}")
        return found
    row = session.get(Decision, decision_id)
    if row is None:
        raise NotFound(f"no decision {decision_id!r}")
    _visible(
        session,
        principal,
        decision_id,
        licensee_id=row.licensee_id,
        on_date=row.on_date,
        recording_id=row.recording_id,
        performer_id=None,
    )
    return result_from_basis(
        decision_id,
        Basis.from_json(row.basis),
        recording_id=row.recording_id,
        isrc=isrcs_of(session, [row.recording_id])[0],
        licensee_id=row.licensee_id,
        use=row.use,
        territory=row.territory,
        on_date=row.on_date,
        model_id=row.model_id,
    )


def get_decisions(
    session: Session, principal: Principal, decision_ids: Collection[str]
) -> dict[str, DecisionResult]:
    """Many stored decisions at once (the ones that exist and the caller may see): each
    batch's payload is decoded once, so citing 10^5 decisions of one batch stays linear."""
    principal.require("licensee", "cmo-admin", "auditor", "performer")
    wanted = set(decision_ids)
    by_batch: dict[str, list[tuple[str, int]]] = {}
    singles: list[str] = []
    for decision_id in wanted:
        if "." in decision_id:
            batch_id, _, position = decision_id.partition(".")
            if position.isdigit():
                by_batch.setdefault(batch_id, []).append((decision_id, int(position)))
        else:
            singles.append(decision_id)
    found: dict[str, DecisionResult] = {}
    for batch_id, items in by_batch.items():
        batch = session.get(DecisionBatch, batch_id)
        if batch is None:
            continue
        payload = orjson.loads(zlib.decompress(batch.payload))
        bases = [Basis.from_json(item) for item in payload["bases"]]
        for decision_id, index in items:
            if index >= batch.size:
                continue
            recording_id = payload["recording_ids"][index] if "recording_ids" in payload else None
            try:
                _visible(
                    session,
                    principal,
                    decision_id,
                    licensee_id=batch.licensee_id,
                    on_date=batch.on_date,
                    recording_id=recording_id,
                    performer_id=payload.get("performer_id"),
                )
            except NotFound:
                continue
            found[decision_id] = result_from_basis(
                decision_id,
                bases[payload["basis_index"][index]],
                recording_id=recording_id,
                isrc=payload["isrcs"][index] if "isrcs" in payload else None,
                performer_id=payload.get("performer_id"),
                licensee_id=batch.licensee_id,
                use=batch.use,
                territory=batch.territory,
                on_date=batch.on_date,
                model_id=batch.model_id,
            )
    for decision_id in singles:
        try:
            found[decision_id] = get_decision(session, principal, decision_id)
        except NotFound:
            continue
    return found

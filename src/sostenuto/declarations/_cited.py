"""The consent decisions a declaration cites, checked with the consent service.

A dataset manifest may cite a decision only if it was taken for the declaring licensee, about
the file's recording, for the manifest's model or for no model, permitted the use, and still
holds today: each cited decision is decided again for today with the same licensee,
recording, use, territory and model (a preview: nothing is stored), one batch per distinct
(licensee, use, territory, model). Earlier entries are never touched.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from sostenuto import consent
from sostenuto.auth import OPERATOR
from sostenuto.errors import IntegrityFailure, InvalidInput, NotFound, SostenutoError
from sostenuto.transparency import Citation, DecisionFacts

# The terms a decision was taken on, less the recording: one re-decision batch per key.
Terms = tuple[int, str, str, int | None]  # licensee, use, territory, model


class _Located:
    """Builds errors that name the file (and, in a batch of entries, the entry)."""

    def __init__(self, several: bool) -> None:
        self.several = several

    def __call__(
        self,
        error: type[SostenutoError],
        citation: Citation,
        message: str,
        **details: Any,
    ) -> SostenutoError:
        where = f"file {citation.file}: "
        place: dict[str, Any] = {"file": citation.file, "decision_id": citation.decision_id}
        if self.several:
            where = f"entry {citation.entry}: {where}"
            place = {"entry": citation.entry, **place}
        return error(where + message, details={**place, **details})


def _look_up(
    session: Session, citations: Sequence[Citation], located: _Located
) -> dict[str, consent.DecisionResult]:
    """Each cited decision as it was taken (each batch decoded once)."""
    found = consent.get_decisions(session, OPERATOR, {c.decision_id for c in citations})
    for citation in citations:
        if citation.decision_id not in found:
            raise located(
                NotFound, citation, f"consent decision {citation.decision_id!r} does not exist"
            )
    return found


def _terms(decision: consent.DecisionResult) -> Terms:
    if decision.licensee_id is None or decision.use is None or decision.territory is None:
        raise IntegrityFailure(f"stored decision {decision.id} lacks its terms")
    return (decision.licensee_id, decision.use, decision.territory, decision.model_id)


def _check_as_taken(
    citation: Citation, decision: consent.DecisionResult, located: _Located
) -> None:
    """What the decision said when it was taken must fit the citing file."""
    if decision.licensee_id != citation.licensee_id:
        raise located(
            InvalidInput,
            citation,
            f"decision {decision.id} was not taken for licensee {citation.licensee_id}",
        )
    if (
        citation.recording_id is not None
        and decision.recording_id is not None
        and decision.recording_id != citation.recording_id
    ):
        raise located(
            InvalidInput,
            citation,
            f"decision {decision.id} is about recording {decision.recording_id},"
            f" not {citation.recording_id}",
        )
    if decision.model_id is not None and decision.model_id != citation.model_id:
        cited_for = (
            f"model {citation.model_id}"
            if citation.model_id is not None
            else "a manifest naming no model (which any model could use)"
        )
        raise located(
            InvalidInput,
            citation,
            f"decision {decision.id} was taken for model {decision.model_id}, not for"
            f" {cited_for}: a permit under one model's licence covers that model alone; cite"
            f" decisions taken for model {decision.model_id} in a manifest naming it, or"
            " decisions taken for no model",
            decision_model=decision.model_id,
            manifest_model=citation.model_id,
        )
    if not decision.permitted:
        raise located(
            InvalidInput,
            citation,
            f"decision {decision.id} did not permit this use (outcome {decision.outcome})",
        )


def _subject(decision: consent.DecisionResult) -> tuple[str, int]:
    if decision.recording_id is not None:
        return ("recording", decision.recording_id)
    if decision.performer_id is not None:
        return ("performer", decision.performer_id)
    raise IntegrityFailure(f"stored decision {decision.id} names no recording or performer")


def decide_again(
    session: Session,
    decisions: Iterable[consent.DecisionResult],
    on_date: dt.date,
) -> dict[tuple[Terms, str, int], consent.Basis]:
    """Each decision decided again as of ``on_date``, keyed by its terms and subject
    (the batch engine for recordings, one call per performer)."""
    wanted: dict[tuple[Terms, str], set[int]] = defaultdict(set)
    for decision in decisions:
        kind, subject = _subject(decision)
        wanted[(_terms(decision), kind)].add(subject)
    now: dict[tuple[Terms, str, int], consent.Basis] = {}
    for (terms, kind), subjects in wanted.items():
        licensee_id, use, territory, model_id = terms
        if kind == "recording":
            batch = consent.decide_batch(
                session,
                OPERATOR,
                licensee_id=licensee_id,
                recording_ids=sorted(subjects),
                use=use,
                territory=territory,
                on_date=on_date,
                model_id=model_id,
                store=False,
            )
            for recording_id, index in zip(batch.recording_ids, batch.basis_index, strict=True):
                now[(terms, kind, recording_id)] = batch.bases[index]
            continue
        for performer_id in sorted(subjects):
            result = consent.decide_performer(
                session,
                OPERATOR,
                licensee_id=licensee_id,
                performer_id=performer_id,
                use=use,
                territory=territory,
                on_date=on_date,
                model_id=model_id,
                store=False,
            )
            now[(terms, kind, performer_id)] = consent.Basis(
                result.outcome,
                result.reason,
                tuple(result.rule_ids),
                tuple(result.licence_ids),
                tuple(result.conditions),
            )
    return now


def _decide_today(
    session: Session, found: dict[str, consent.DecisionResult]
) -> tuple[dt.date, dict[tuple[Terms, str, int], consent.Basis]]:
    """Every cited decision decided again for today, keyed by its terms and subject."""
    today = dt.datetime.now(dt.UTC).date()
    return today, decide_again(session, found.values(), today)


def check_citations(session: Session, citations: Sequence[Citation], *, several: bool) -> None:
    """Refuse the first citation whose decision does not exist, does not fit the citing file
    or its model, did not permit, or no longer holds today (:class:`NotFound` or
    :class:`InvalidInput` naming the file, and the entry when ``several``)."""
    if not citations:
        return
    located = _Located(several)
    found = _look_up(session, citations, located)
    for citation in citations:
        _check_as_taken(citation, found[citation.decision_id], located)
    today, now = _decide_today(session, found)
    for citation in citations:
        decision = found[citation.decision_id]
        basis = now[(_terms(decision), *_subject(decision))]
        if basis.outcome != "permit":
            raise located(
                InvalidInput,
                citation,
                f"decision {decision.id} no longer holds on {today}: {basis.reason}",
                on_date=today.isoformat(),
                reason=basis.reason,
                rule_ids=list(basis.rule_ids),
            )


def decision_facts(session: Session, decision_ids: Collection[str]) -> dict[str, DecisionFacts]:
    """The use and outcome of each cited decision that exists (for the summary's annex)."""
    return {
        decision_id: DecisionFacts(use=decision.use, outcome=decision.outcome)
        for decision_id, decision in consent.get_decisions(session, OPERATOR, decision_ids).items()
    }

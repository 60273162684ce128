"""Read what a period's distribution needs from the registry: licence terms and routes."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.remuneration._engine import Coverage, LicenceTerms, RegistrySnapshot, Route
from sostenuto.remuneration._period import Period
from sostenuto.remuneration._tariffs import bands_of, tariff_for
from sostenuto.storage.models.registry import (
    AiModel,
    Contribution,
    Licence,
    Mandate,
    ReciprocalAgreement,
    Recording,
)
from sostenuto.storage.models.remuneration import DistributionRule, RevenueReport
from sostenuto.vocabulary import USES, WORLDWIDE, use_ancestry

MICRO = 10**6


def counted_window(licence: Licence, period: Period) -> tuple[dt.date, dt.date] | None:
    """The first and last day of ``period`` on which ``licence`` counts, or ``None``.

    A licence counts on day D when ``valid_from <= D <= valid_to`` and it was not suspended
    from D or earlier (``suspended_from``: it stops counting on and after that day; earlier
    days are untouched, so a suspension never changes what is owed for use before it). A
    licence that is not active and carries no day (suspended before days were recorded)
    counts on none.
    """
    if licence.suspended_from is None and licence.status != "active":
        return None
    first = max(licence.valid_from, period.start)
    last = period.end if licence.valid_to is None else min(licence.valid_to, period.end)
    if licence.suspended_from is not None:
        last = min(last, licence.suspended_from - dt.timedelta(days=1))
    return (first, last) if first <= last else None


def _models_by_licensee(session: Session) -> dict[int, list[int]]:
    models: dict[int, list[int]] = defaultdict(list)
    for model_id, licensee_id in session.execute(
        select(AiModel.id, AiModel.licensee_id).order_by(AiModel.id)
    ):
        models[licensee_id].append(model_id)
    return models


def _counted(session: Session, period: Period) -> list[tuple[Licence, Coverage]]:
    """Every licence that counts on some day of ``period``, with what it covers: the model
    version it names, else every model of its licensee, on the days it counts."""
    models = _models_by_licensee(session)
    found: list[tuple[Licence, Coverage]] = []
    for licence in session.scalars(select(Licence).order_by(Licence.id)):
        window = counted_window(licence, period)
        if window is None:
            continue
        own = models.get(licence.licensee_id, [])
        covered = tuple(m for m in own if licence.model_id in (None, m))
        first, last = window
        found.append(
            (
                licence,
                Coverage(
                    licence_id=licence.id,
                    licensee_id=licence.licensee_id,
                    cmo_id=licence.cmo_id,
                    models=covered,
                    counts_from=first if first > period.start else None,
                    counts_until=last if last < period.end else None,
                ),
            )
        )
    return found


def coverage(session: Session, period: Period) -> list[Coverage]:
    """What each licence counting in ``period`` covers (with a tariff or not)."""
    return [cover for _, cover in _counted(session, period)]


def licence_terms(session: Session, period: Period) -> list[LicenceTerms]:
    """Every licence that counts on some day of ``period`` and has a tariff in force during
    it, with its report."""
    terms: list[LicenceTerms] = []
    for licence, cover in _counted(session, period):
        tariff = tariff_for(session, licence.id, period)
        if tariff is None:
            continue
        report = session.scalar(
            select(RevenueReport).where(
                RevenueReport.licence_id == licence.id, RevenueReport.period == period.label
            )
        )
        terms.append(
            LicenceTerms(
                licence_id=licence.id,
                licensee_id=licence.licensee_id,
                cmo_id=licence.cmo_id,
                currency=tariff.currency,
                extended=licence.extended,
                models=cover.models,
                training_fee_minor=tariff.training_fee_minor,
                training_bands=bands_of(tariff),
                revenue_share_bp=tariff.revenue_share_bp,
                revenue_minimum_minor=tariff.revenue_minimum_minor,
                per_output_minor=tariff.per_output_minor,
                reported_revenue_minor=None if report is None else report.revenue_minor,
                model_id=licence.model_id,
                counts_from=cover.counts_from,
                counts_until=cover.counts_until,
            )
        )
    return terms


def _uses_cover(granted: Iterable[str], wanted: Iterable[str]) -> bool:
    """A grant of a broad use (``train-ai``) covers the narrower ones beneath it."""
    granted = set(granted)
    return any(granted.intersection(use_ancestry(use) if use in USES else (use,)) for use in wanted)


def _territories_meet(a: Iterable[str], b: Iterable[str]) -> bool:
    a, b = set(a), set(b)
    return WORLDWIDE in a or WORLDWIDE in b or bool(a & b)


def snapshot(session: Session, period: Period, terms: list[LicenceTerms]) -> RegistrySnapshot:
    """The registry as arrays, and each licence's route for every contributing performer."""
    recording_ids = np.asarray(sorted(session.scalars(select(Recording.id))), dtype=np.int64)
    rows = session.execute(
        select(
            Contribution.recording_id,
            Contribution.performer_id,
            Contribution.featured,
            Contribution.weight,
        ).order_by(Contribution.recording_id, Contribution.performer_id)
    ).all()
    c_recording = np.asarray([r[0] for r in rows], dtype=np.int64)
    c_performer = np.asarray([r[1] for r in rows], dtype=np.int64)
    c_featured = np.asarray([bool(r[2]) for r in rows], dtype=bool)
    c_weight = np.asarray([int(r[3] * MICRO) for r in rows], dtype=np.int64)
    performer_ids = np.unique(c_performer)
    class_weights = {
        rule.cmo_id: (rule.featured_weight, rule.non_featured_weight)
        for rule in session.scalars(select(DistributionRule))
    }
    mandates: dict[int, list[Mandate]] = defaultdict(list)
    active = select(Mandate).where(Mandate.status == "active")
    for mandate in session.scalars(active.order_by(Mandate.cmo_id, Mandate.id)):
        if period.overlaps(mandate.valid_from, mandate.valid_to):
            mandates[mandate.performer_id].append(mandate)
    agreements = [
        a
        for a in session.scalars(select(ReciprocalAgreement).order_by(ReciprocalAgreement.id))
        if period.overlaps(a.valid_from, a.valid_to)
    ]
    licences = {t.licence_id: session.get(Licence, t.licence_id) for t in terms}
    routes: dict[int, Route] = {}
    for licence_terms in terms:
        licence = licences[licence_terms.licence_id]
        assert licence is not None
        bridges = {
            a.partner_cmo_id: a
            for a in reversed(agreements)  # the oldest agreement wins when several apply
            if a.cmo_id == licence.cmo_id
            and _uses_cover(a.uses, licence.uses)
            and _territories_meet(a.territories, licence.territories)
        }
        payee = np.full(len(performer_ids), -1, dtype=np.int64)
        agreement = np.full(len(performer_ids), -1, dtype=np.int64)
        fee_bp = np.zeros(len(performer_ids), dtype=np.int64)
        for index, performer in enumerate(performer_ids.tolist()):
            covering = [
                m
                for m in mandates.get(performer, ())
                if _uses_cover(m.uses, licence.uses)
                and _territories_meet(m.territories, licence.territories)
            ]
            direct = [m for m in covering if m.cmo_id == licence.cmo_id]
            if direct:
                payee[index] = licence.cmo_id
                continue
            for mandate in covering:  # sorted by CMO id: deterministic
                bridge = bridges.get(mandate.cmo_id)
                if bridge is not None:
                    payee[index] = mandate.cmo_id
                    agreement[index] = bridge.id
                    fee_bp[index] = int(bridge.admin_fee * 10_000)
                    break
        routes[licence_terms.licence_id] = Route(payee, agreement, fee_bp)
    return RegistrySnapshot(
        recording_ids=recording_ids,
        c_recording=c_recording,
        c_performer=c_performer,
        c_featured=c_featured,
        c_weight_micro=c_weight,
        performer_ids=performer_ids,
        class_weights=class_weights,
        routes=routes,
        model_licensee={
            model: licensee
            for licensee, models in _models_by_licensee(session).items()
            for model in models
        },
    )

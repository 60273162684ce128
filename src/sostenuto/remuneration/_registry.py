"""Read what a period's distribution needs from the registry: licence terms and routes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.remuneration._engine import LicenceTerms, RegistrySnapshot, Route
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


def licence_terms(session: Session, period: Period) -> list[LicenceTerms]:
    """Every active licence with a tariff in force during ``period``, with its report."""
    terms: list[LicenceTerms] = []
    licences = session.scalars(
        select(Licence).where(Licence.status == "active").order_by(Licence.id)
    )
    for licence in licences:
        if not period.overlaps(licence.valid_from, licence.valid_to):
            continue
        tariff = tariff_for(session, licence.id, period)
        if tariff is None:
            continue
        report = session.scalar(
            select(RevenueReport).where(
                RevenueReport.licence_id == licence.id, RevenueReport.period == period.label
            )
        )
        models = session.scalars(
            select(AiModel.id).where(AiModel.licensee_id == licence.licensee_id)
        )
        terms.append(
            LicenceTerms(
                licence_id=licence.id,
                licensee_id=licence.licensee_id,
                cmo_id=licence.cmo_id,
                currency=tariff.currency,
                extended=licence.extended,
                models=tuple(sorted(models)),
                training_fee_minor=tariff.training_fee_minor,
                training_bands=bands_of(tariff),
                revenue_share_bp=tariff.revenue_share_bp,
                revenue_minimum_minor=tariff.revenue_minimum_minor,
                per_output_minor=tariff.per_output_minor,
                reported_revenue_minor=None if report is None else report.revenue_minor,
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
    for mandate in session.scalars(select(Mandate).order_by(Mandate.cmo_id, Mandate.id)):
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
    )

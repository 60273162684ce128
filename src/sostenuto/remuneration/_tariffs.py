"""Tariffs, distribution rules and revenue reports: the money side's inputs, as data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.audit import record_change, record_creation, snapshot
from sostenuto.auth import Principal
from sostenuto.errors import Conflict, InvalidInput, NotFound
from sostenuto.remuneration._engine import Band
from sostenuto.remuneration._money import check_amount, check_currency
from sostenuto.remuneration._period import Period, parse_period
from sostenuto.storage.models.registry import Cmo, Licence
from sostenuto.storage.models.remuneration import DistributionRule, RevenueReport, Tariff

MAX_BASIS_POINTS = 10_000


@dataclass(frozen=True)
class TariffSpec:
    """A tariff to add to a licence. Amounts in minor units of ``currency``."""

    licence_id: int
    currency: str
    valid_from: dt.date
    valid_to: dt.date | None = None
    training_fee_minor: int = 0
    training_bands: tuple[Band, ...] = ()
    revenue_share_bp: int = 0
    revenue_minimum_minor: int = 0
    per_output_minor: int = 0


def _licence(session: Session, licence_id: int) -> Licence:
    licence = session.get(Licence, licence_id)
    if licence is None:
        raise NotFound(f"no licence with id {licence_id}", details={"licence": licence_id})
    return licence


def _check_bands(bands: Sequence[Band]) -> list[dict[str, int | None]]:
    rows: list[dict[str, int | None]] = []
    for number, band in enumerate(bands, start=1):
        check_amount(band.fee_minor, f"fee of training band {number}")
        for limit in (band.max_recordings, band.max_revenue_minor):
            if limit is not None:
                check_amount(limit, f"limit of training band {number}")
        rows.append(
            {
                "fee_minor": band.fee_minor,
                "max_recordings": band.max_recordings,
                "max_revenue_minor": band.max_revenue_minor,
            }
        )
    return rows


def bands_of(tariff: Tariff) -> tuple[Band, ...]:
    return tuple(
        Band(
            fee_minor=int(row["fee_minor"]),
            max_recordings=row.get("max_recordings"),
            max_revenue_minor=row.get("max_revenue_minor"),
        )
        for row in tariff.training_bands
    )


def tariff_json(tariff: Tariff) -> dict[str, Any]:
    """A tariff as the API answers it (amounts in minor units, dates as ISO 8601)."""
    return {
        "id": tariff.id,
        "licence_id": tariff.licence_id,
        "currency": tariff.currency,
        "training_fee_minor": tariff.training_fee_minor,
        "training_bands": tariff.training_bands,
        "revenue_share_bp": tariff.revenue_share_bp,
        "revenue_minimum_minor": tariff.revenue_minimum_minor,
        "per_output_minor": tariff.per_output_minor,
        "valid_from": tariff.valid_from.isoformat(),
        "valid_to": tariff.valid_to.isoformat() if tariff.valid_to else None,
    }


def add_tariff(session: Session, principal: Principal, spec: TariffSpec) -> Tariff:
    """Attach a tariff to a licence; only the licensing CMO may, and periods may not overlap."""
    licence = _licence(session, spec.licence_id)
    principal.require_cmo(licence.cmo_id)
    currency = check_currency(spec.currency)
    for value, what in (
        (spec.training_fee_minor, "training_fee_minor"),
        (spec.revenue_minimum_minor, "revenue_minimum_minor"),
        (spec.per_output_minor, "per_output_minor"),
        (spec.revenue_share_bp, "revenue_share_bp"),
    ):
        check_amount(value, what)
    if spec.revenue_share_bp > MAX_BASIS_POINTS:
        raise InvalidInput(f"revenue share {spec.revenue_share_bp} bp is above 100 %")
    if spec.valid_to is not None and spec.valid_to < spec.valid_from:
        raise InvalidInput("the tariff ends before it starts")
    bands = _check_bands(spec.training_bands)
    for other in session.scalars(select(Tariff).where(Tariff.licence_id == licence.id)):
        ends_after = spec.valid_to is None or spec.valid_to >= other.valid_from
        starts_before = other.valid_to is None or spec.valid_from <= other.valid_to
        if ends_after and starts_before:
            raise Conflict(
                f"licence {licence.id} already has tariff {other.id} for part of this period",
                details={"tariff": other.id},
            )
    tariff = Tariff(
        licence_id=licence.id,
        currency=currency,
        training_fee_minor=spec.training_fee_minor,
        training_bands=bands,
        revenue_share_bp=spec.revenue_share_bp,
        revenue_minimum_minor=spec.revenue_minimum_minor,
        per_output_minor=spec.per_output_minor,
        valid_from=spec.valid_from,
        valid_to=spec.valid_to,
    )
    record_creation(session, principal, tariff, "tariff")
    return tariff


def list_tariffs(
    session: Session, principal: Principal, *, licence_id: int | None = None
) -> list[Tariff]:
    """Tariffs are public, as CMOs publish theirs; optionally those of one licence."""
    query = select(Tariff).order_by(Tariff.id)
    if licence_id is not None:
        query = query.where(Tariff.licence_id == licence_id)
    return list(session.scalars(query))


def tariff_for(session: Session, licence_id: int, period: Period) -> Tariff | None:
    """The tariff of a licence in force during ``period`` (at most one, by construction)."""
    for tariff in session.scalars(select(Tariff).where(Tariff.licence_id == licence_id)):
        if period.overlaps(tariff.valid_from, tariff.valid_to):
            return tariff
    return None


def set_distribution_rule(
    session: Session, principal: Principal, *, cmo_id: int, featured: int, non_featured: int
) -> DistributionRule:
    """A CMO's featured / non-featured weights (e.g. 2 and 1: a featured part counts double)."""
    if session.get(Cmo, cmo_id) is None:
        raise NotFound(f"no CMO with id {cmo_id}")
    principal.require_cmo(cmo_id)
    for value, what in ((featured, "featured weight"), (non_featured, "non-featured weight")):
        check_amount(value, what)
    if featured == 0 and non_featured == 0:
        raise InvalidInput("featured and non-featured weights cannot both be zero")
    rule = session.get(DistributionRule, cmo_id)
    before = snapshot(rule) if rule else None
    if rule is None:
        rule = DistributionRule(
            cmo_id=cmo_id, featured_weight=featured, non_featured_weight=non_featured
        )
        session.add(rule)
    else:
        rule.featured_weight, rule.non_featured_weight = featured, non_featured
    session.flush()
    record_change(
        session,
        principal,
        action="update" if before else "create",
        entity_type="distribution-rule",
        entity_id=cmo_id,
        before=before,
        after=snapshot(rule),
    )
    return rule


def report_revenue(
    session: Session,
    principal: Principal,
    *,
    licence_id: int,
    period: str,
    currency: str,
    revenue_minor: int,
) -> RevenueReport:
    """A licensee (or its licensing CMO) reports revenue under a licence for a period.

    Refused: an unknown licence, a negative or fractional amount, a currency other than the
    tariff's, a period with no tariff, and a second report for the same period.
    """
    licence = _licence(session, licence_id)
    principal.require("licensee", "cmo-admin")
    if principal.role == "licensee":
        principal.require_licensee(licence.licensee_id)
    elif principal.role == "cmo-admin":
        principal.require_cmo(licence.cmo_id)
    parsed = parse_period(period)
    code = check_currency(currency)
    check_amount(revenue_minor, "revenue_minor")
    tariff = tariff_for(session, licence.id, parsed)
    if tariff is None:
        raise InvalidInput(
            f"licence {licence.id} has no tariff in force during {parsed.label}",
            details={"licence": licence.id, "period": parsed.label},
        )
    if tariff.currency != code:
        raise InvalidInput(
            f"currency mismatch: licence {licence.id} is invoiced in {tariff.currency}, "
            f"the report is in {code}",
            details={"expected": tariff.currency, "got": code},
        )
    exists = session.scalar(
        select(RevenueReport).where(
            RevenueReport.licence_id == licence.id, RevenueReport.period == parsed.label
        )
    )
    if exists is not None:
        raise Conflict(
            f"licence {licence.id} already reported revenue for {parsed.label} (report {exists.id})"
        )
    report = RevenueReport(
        licence_id=licence.id,
        period=parsed.label,
        currency=code,
        revenue_minor=revenue_minor,
        reported_by=principal.name,
        reported_at=dt.datetime.now(dt.UTC),
    )
    record_creation(session, principal, report, "revenue-report")
    return report

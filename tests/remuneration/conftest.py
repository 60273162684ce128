"""The worked example of docs/remuneration.md, as registry rows, tariffs and usage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from sostenuto.auth import OPERATOR, Principal
from sostenuto.remuneration import (
    OutputUse,
    Resemblance,
    TariffSpec,
    TrainingUse,
    Usage,
    add_tariff,
    report_revenue,
    set_distribution_rule,
)
from sostenuto.storage import Database
from sostenuto.storage.models.registry import (
    AiModel,
    Cmo,
    Contribution,
    Licence,
    Licensee,
    Mandate,
    Performer,
    ReciprocalAgreement,
    Recording,
)

Q3 = dt.date(2026, 7, 1)
IN_Q3 = dt.date(2026, 8, 14)


@dataclass
class Example:
    sami: int
    aie: int
    licensee: int
    model: int
    licence: int
    agreement: int
    r1: int
    r2: int
    r3: int
    anna: int
    bruno: int
    carla: int
    dmitri: int


def build_registry(session: Session) -> Example:
    """Two CMOs (SAMI collects; AIE's members through a 10 % reciprocal agreement), one
    licensee with one model under an extended licence, three recordings, four performers."""
    sami = Cmo(code="SAMI", name="SAMI", country="SE", identifiers={})
    aie = Cmo(code="AIE", name="AIE", country="ES", identifiers={})
    session.add_all([sami, aie])
    session.flush()
    licensee = Licensee(name="Melodia AI", kind="developer", country="SE")
    session.add(licensee)
    session.flush()
    model = AiModel(licensee_id=licensee.id, name="melodia", version="1", purpose="music")
    licence = Licence(
        cmo_id=sami.id,
        licensee_id=licensee.id,
        uses=["train-genai"],
        territories=["SE"],
        valid_from=Q3,
        valid_to=None,
        status="active",
        extended=True,
        conditions=[],
    )
    agreement = ReciprocalAgreement(
        cmo_id=sami.id,
        partner_cmo_id=aie.id,
        territories=["SE"],
        uses=["train-ai"],
        admin_fee=Decimal("0.1000"),
        valid_from=dt.date(2020, 1, 1),
        valid_to=None,
    )
    session.add_all([model, licence, agreement])
    r1, r2, r3 = (
        Recording(isrc=f"SEXYZ260000{i}", title=f"Song {i}", duration_ms=180_000) for i in (1, 2, 3)
    )
    anna, bruno, carla, dmitri = (
        Performer(name=n) for n in ("Anna Berg", "Bruno Díaz", "Carla Nin", "Dmitri Ek")
    )
    session.add_all([r1, r2, r3, anna, bruno, carla, dmitri])
    session.flush()
    for performer, cmo in ((anna, sami), (bruno, aie), (dmitri, sami)):
        session.add(
            Mandate(
                performer_id=performer.id,
                cmo_id=cmo.id,
                territories=["WW"],
                uses=["train-ai"],
                valid_from=dt.date(2020, 1, 1),
                valid_to=None,
            )
        )
    for recording, performer, featured in (
        (r1, anna, True),
        (r1, bruno, False),
        (r2, carla, True),
        (r3, anna, True),
        (r3, bruno, False),
        (r3, dmitri, False),
    ):
        session.add(
            Contribution(
                recording_id=recording.id,
                performer_id=performer.id,
                featured=featured,
                kind="instrument",
                weight=Decimal(1),
            )
        )
    session.flush()
    return Example(
        sami.id,
        aie.id,
        licensee.id,
        model.id,
        licence.id,
        agreement.id,
        r1.id,
        r2.id,
        r3.id,
        anna.id,
        bruno.id,
        carla.id,
        dmitri.id,
    )


def add_terms(session: Session, ex: Example) -> None:
    """SEK tariff: 10 000 per model, 5 % of revenue (minimum 2 000), 0.25 per output;
    SAMI weighs featured parts 2, non-featured 1; revenue 123 456.78 SEK in 2026-Q3."""
    add_tariff(
        session,
        OPERATOR,
        TariffSpec(
            licence_id=ex.licence,
            currency="SEK",
            valid_from=Q3,
            training_fee_minor=1_000_000,
            revenue_share_bp=500,
            revenue_minimum_minor=200_000,
            per_output_minor=25,
        ),
    )
    set_distribution_rule(session, OPERATOR, cmo_id=ex.sami, featured=2, non_featured=1)
    report_revenue(
        session,
        OPERATOR,
        licence_id=ex.licence,
        period="2026-Q3",
        currency="SEK",
        revenue_minor=12_345_678,
    )


def example_usage(ex: Example) -> Usage:
    """The model trained on R1 twice (two manifests), R2 and R3 once; four outputs, the
    first found to regurgitate R3, the other three with no evidence (fallback)."""
    training = [
        TrainingUse(ex.model, ex.r1, IN_Q3, 1, ("run-1", "manifest-a", "decision-1")),
        TrainingUse(ex.model, ex.r1, IN_Q3, 1, ("run-1", "manifest-b", "decision-1")),
        TrainingUse(ex.model, ex.r2, IN_Q3, 1, ("run-1", "manifest-a", "decision-2")),
        TrainingUse(ex.model, ex.r3, IN_Q3, 1, ("run-1", "manifest-a", "decision-3")),
    ]
    outputs = [
        OutputUse(
            "out-1",
            ex.model,
            IN_Q3,
            (Resemblance(ex.r3, "segment", 1_000_000, ("match-1",)),),
            ("out-1",),
        ),
        *(OutputUse(f"out-{i}", ex.model, IN_Q3, (), (f"out-{i}",)) for i in (2, 3, 4)),
    ]
    return Usage(training=training, outputs=outputs)


@pytest.fixture
def example(database: Database) -> Example:
    with database.transaction() as session:
        ex = build_registry(session)
        add_terms(session, ex)
    return ex


def suspend_from(database: Database, licence_id: int, day: dt.date) -> None:
    """The licence stops counting from ``day`` on: status and day as a suspension records
    them, set on the row, so that a suspension made on a past day can be modelled."""
    with database.transaction() as session:
        licence = session.get(Licence, licence_id)
        assert licence is not None
        licence.status = "suspended"
        licence.suspended_from = day


def suspend_today(database: Database, cmo_id: int, licence_id: int) -> dt.date:
    """The licensing CMO's admin suspends the licence from today on (the registry service)."""
    from sostenuto.registry import suspend_licence

    today = dt.date.today()
    admin = Principal("cmo", "cmo-admin", cmo_id=cmo_id)
    with database.transaction() as session:
        suspend_licence(session, admin, licence_id, effective_from=today)
    return today

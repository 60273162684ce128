"""Property: no act dated today changes any amount for an earlier date.

Hypothesis draws a registry (CMOs, performers and their mandates, recordings, licensees with
one or two model versions, licences for every model or one version, some already suspended
on a past day) and usage over a quarter that ended before today; the quarter is run. Then
acts dated today are applied: a licence suspended from today, a consent rule revoked from
today, a new licence granted from today (for every model or one version), a mandate ended
from today. Re-running the quarter gives the same result to the minor unit: the run is
returned as stored (no conflict, nothing written), and every pool, recording line and
payment recomputed from the changed registry is identical.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from sostenuto.auth import OPERATOR, Principal
from sostenuto.consent import revoke_rule
from sostenuto.errors import InvalidInput
from sostenuto.registry import end_mandate, grant_licence
from sostenuto.remuneration import (
    OutputUse,
    Period,
    Resemblance,
    TariffSpec,
    TrainingUse,
    Usage,
    add_tariff,
    compute,
    parse_period,
    report_revenue,
    run_period,
)
from sostenuto.settings import Settings
from sostenuto.storage import Base, Database
from sostenuto.storage.models.consent import ConsentRule
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
from sostenuto.storage.models.remuneration import Payment, RecordingShare, Statement
from tests.remuneration.conftest import suspend_today

TODAY = dt.date.today()


def _quarters_before(day: dt.date, count: int) -> list[Period]:
    """The ``count`` quarters that ended before ``day``'s quarter, newest first."""
    year, quarter = day.year, (day.month - 1) // 3 + 1
    found = []
    for _ in range(count):
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
        found.append(parse_period(f"{year}-Q{quarter}"))
    return found


PAST = _quarters_before(TODAY, 6)
N_CMOS, N_LICENSEES = 2, 2
MODELS = ((0, "v1"), (0, "v2"), (1, "v1"))  # (licensee, version)


@dataclass
class LicenceSpec:
    cmo: int
    licensee: int
    model: int | None  # index into MODELS, of that licensee
    starts: int  # days from the period's start (negative: before it)
    length: int | None  # days; None: open-ended
    suspended: int | None  # days from its start, a past suspension (before today)
    training_fee: int
    per_output: int
    revenue_share_bp: int


@dataclass
class World:
    period: Period
    recordings: int
    performers: int
    contributions: list[tuple[int, int, bool]]
    members: list[int | None]  # each performer's CMO
    agreement: bool
    licences: list[LicenceSpec]
    training: list[tuple[int, int, int]]  # model, recording, day offset
    outputs: list[tuple[int, int, int | None]]  # model, day offset, resembled recording
    acts: list[str]
    suspend: int  # which active licence (modulo how many) the suspension hits
    grant: tuple[int, int, bool]  # new licence: CMO, licensee, for its first model only
    ids: dict[str, list[int]] = field(default_factory=dict)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    period = draw(st.sampled_from(PAST))
    days = (period.end - period.start).days
    recordings = draw(st.integers(1, 4))
    performers = draw(st.integers(1, 3))
    contributions = draw(
        st.lists(
            st.tuples(
                st.integers(0, recordings - 1), st.integers(0, performers - 1), st.booleans()
            ),
            max_size=6,
            unique_by=lambda c: (c[0], c[1]),
        )
    )
    members = draw(
        st.lists(
            st.one_of(st.none(), st.integers(0, N_CMOS - 1)),
            min_size=performers,
            max_size=performers,
        )
    )
    licences = []
    for _ in range(draw(st.integers(1, 3))):
        licensee = draw(st.integers(0, N_LICENSEES - 1))
        own = [i for i, (owner, _) in enumerate(MODELS) if owner == licensee]
        starts = draw(st.integers(-60, days))
        length = draw(st.one_of(st.none(), st.integers(0, 120)))
        latest = (TODAY - period.start).days - starts - 1  # a past suspension: before today
        suspended = draw(st.one_of(st.none(), st.integers(0, min(latest, 150))))
        share = draw(st.sampled_from((0, 0, 500)))
        licences.append(
            LicenceSpec(
                cmo=draw(st.integers(0, N_CMOS - 1)),
                licensee=licensee,
                model=draw(st.one_of(st.none(), st.sampled_from(own))),
                starts=starts,
                length=length,
                suspended=suspended,
                training_fee=draw(st.sampled_from((0, 1_000, 1_000_000))),
                per_output=draw(st.sampled_from((0, 7, 25))),
                revenue_share_bp=share,
            )
        )
    training = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(MODELS) - 1),
                st.integers(0, recordings - 1),
                st.integers(-45, days),
            ),
            max_size=8,
        )
    )
    outputs = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(MODELS) - 1),
                st.integers(0, days),
                st.one_of(st.none(), st.integers(0, recordings - 1)),
            ),
            max_size=6,
        )
    )
    acts = draw(
        st.lists(
            st.sampled_from(("suspend", "revoke", "grant", "end-mandate")),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    return World(
        period=period,
        recordings=recordings,
        performers=performers,
        contributions=contributions,
        members=members,
        agreement=draw(st.booleans()),
        licences=licences,
        training=training,
        outputs=outputs,
        acts=acts,
        suspend=draw(st.integers(0, 2)),
        grant=(
            draw(st.integers(0, N_CMOS - 1)),
            draw(st.integers(0, N_LICENSEES - 1)),
            draw(st.booleans()),
        ),
    )


def _empty(database: Database) -> None:
    with database.transaction() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


def _build(database: Database, w: World) -> Usage:
    """The world's rows, a consent rule to revoke later, and its usage."""
    start = w.period.start
    with database.transaction() as session:
        cmos = [Cmo(code=f"C{i}", name=f"CMO {i}", country="SE", identifiers={}) for i in range(2)]
        licensees = [
            Licensee(name=f"Licensee {i}", kind="developer", country="SE")
            for i in range(N_LICENSEES)
        ]
        recordings = [
            Recording(isrc=f"SEXYZ26{i:05d}", title=f"Song {i}", duration_ms=1)
            for i in range(w.recordings)
        ]
        performers = [Performer(name=f"Performer {i}") for i in range(w.performers)]
        session.add_all([*cmos, *licensees, *recordings, *performers])
        session.flush()
        models = [
            AiModel(licensee_id=licensees[owner].id, name="M", version=version, purpose="music")
            for owner, version in MODELS
        ]
        session.add_all(models)
        for rec, perf, featured in w.contributions:
            session.add(
                Contribution(
                    recording_id=recordings[rec].id,
                    performer_id=performers[perf].id,
                    featured=featured,
                    kind="instrument",
                    weight=Decimal(1),
                )
            )
        for performer, cmo in zip(performers, w.members, strict=True):
            if cmo is not None:
                session.add(
                    Mandate(
                        performer_id=performer.id,
                        cmo_id=cmos[cmo].id,
                        territories=["WW"],
                        uses=["train-ai"],
                        valid_from=dt.date(2020, 1, 1),
                    )
                )
        if w.agreement:
            session.add(
                ReciprocalAgreement(
                    cmo_id=cmos[0].id,
                    partner_cmo_id=cmos[1].id,
                    territories=["WW"],
                    uses=["train-ai"],
                    admin_fee=Decimal("0.0750"),
                    valid_from=dt.date(2020, 1, 1),
                )
            )
        session.flush()
        licence_ids = []
        for spec in w.licences:
            valid_from = start + dt.timedelta(days=spec.starts)
            suspended = (
                None if spec.suspended is None else valid_from + dt.timedelta(days=spec.suspended)
            )
            licence = Licence(
                cmo_id=cmos[spec.cmo].id,
                licensee_id=licensees[spec.licensee].id,
                model_id=None if spec.model is None else models[spec.model].id,
                uses=["train-genai"],
                territories=["SE"],
                valid_from=valid_from,
                valid_to=None
                if spec.length is None
                else valid_from + dt.timedelta(days=spec.length),
                status="active" if suspended is None else "suspended",
                suspended_from=suspended,
                extended=False,
                conditions=[],
            )
            session.add(licence)
            session.flush()
            licence_ids.append(licence.id)
            add_tariff(
                session,
                OPERATOR,
                TariffSpec(
                    licence_id=licence.id,
                    currency="SEK",
                    valid_from=dt.date(2020, 1, 1),
                    training_fee_minor=spec.training_fee,
                    revenue_share_bp=spec.revenue_share_bp,
                    revenue_minimum_minor=10_000 if spec.revenue_share_bp else 0,
                    per_output_minor=spec.per_output,
                ),
            )
            if spec.revenue_share_bp:
                report_revenue(
                    session,
                    OPERATOR,
                    licence_id=licence.id,
                    period=w.period.label,
                    currency="SEK",
                    revenue_minor=1_234_567,
                )
        # A rule recorded back then (a new rule can no longer start in the past).
        rule = ConsentRule(
            effect="permit",
            scope_kind="recording",
            scope_id=recordings[0].id,
            uses=["train-genai"],
            territories=["WW"],
            valid_from=dt.date(2020, 1, 1),
            conditions=[],
            source="cmo",
            created_by="operator",
        )
        session.add(rule)
        session.flush()
        w.ids = {
            "cmos": [c.id for c in cmos],
            "licensees": [licensee.id for licensee in licensees],
            "licences": licence_ids,
            "rule": [rule.id],
            "models": [m.id for m in models],
        }
        model_ids = w.ids["models"]
        recording_ids = [r.id for r in recordings]

    def day(offset: int) -> dt.date:
        return start + dt.timedelta(days=offset)

    return Usage(
        training=[
            TrainingUse(model_ids[m], recording_ids[r], day(d), 1, (f"run-{m}",))
            for m, r, d in w.training
        ],
        outputs=[
            OutputUse(
                f"out-{i}",
                model_ids[m],
                day(d),
                () if r is None else (Resemblance(recording_ids[r], "segment", 1),),
            )
            for i, (m, d, r) in enumerate(w.outputs)
        ],
    )


def _act_today(database: Database, w: World) -> None:
    """Acts dated today: a suspension, a revocation, a new licence, a mandate's end."""
    if "suspend" in w.acts:
        with database.reader() as session:
            active = [
                (licence.cmo_id, licence.id)
                for licence in session.scalars(
                    select(Licence).where(Licence.id.in_(w.ids["licences"])).order_by(Licence.id)
                )
                if licence.suspended_from is None
            ]
        if active:
            cmo_id, licence_id = active[w.suspend % len(active)]
            suspend_today(database, cmo_id, licence_id)
    if "revoke" in w.acts:
        with database.transaction() as session:  # the operator recorded it: only it revokes
            revoke_rule(session, OPERATOR, w.ids["rule"][0], effective_from=TODAY)
    if "end-mandate" in w.acts:
        with database.reader() as session:
            mandate = session.scalars(select(Mandate).order_by(Mandate.id)).first()
            ending = None if mandate is None else (mandate.cmo_id, mandate.id)
        if ending is not None:  # its last day is yesterday: it no longer counts from today
            admin = Principal("cmo", "cmo-admin", cmo_id=ending[0])
            with database.transaction() as session:
                end_mandate(session, admin, ending[1], on=TODAY - dt.timedelta(days=1))
    if "grant" in w.acts:
        cmo, licensee, one_model = w.grant
        first = next(i for i, (owner, _) in enumerate(MODELS) if owner == licensee)
        admin = Principal("cmo", "cmo-admin", cmo_id=w.ids["cmos"][cmo])
        with database.transaction() as session:
            granted = grant_licence(
                session,
                admin,
                cmo_id=w.ids["cmos"][cmo],
                licensee_id=w.ids["licensees"][licensee],
                model_id=w.ids["models"][first] if one_model else None,
                uses=["train-genai"],
                territories=["SE"],
                valid_from=TODAY,
            )
            add_tariff(
                session,
                admin,
                TariffSpec(
                    licence_id=granted.id,
                    currency="SEK",
                    valid_from=TODAY,
                    training_fee_minor=999_999,
                    per_output_minor=99,
                ),
            )


def _money(database: Database, period: Period, usage: Usage) -> dict[str, Any]:
    """Every amount of the period, recomputed from the registry as it is now."""
    with database.reader() as session:
        dist, _, _ = compute(session, period, usage)
    return {
        "licences": [t.licence_id for t in dist.terms],
        "pools": list(
            zip(
                dist.pool_licence.tolist(),
                dist.pool_source.tolist(),
                dist.pool_model.tolist(),
                dist.pool_amount.tolist(),
                strict=True,
            )
        ),
        "recordings": list(
            zip(
                dist.s_licence.tolist(),
                dist.s_source.tolist(),
                dist.s_recording.tolist(),
                dist.s_amount.tolist(),
                strict=True,
            )
        ),
        "payments": list(
            zip(
                dist.p_licence.tolist(),
                dist.p_recording.tolist(),
                dist.p_performer.tolist(),
                dist.p_gross.tolist(),
                dist.p_fee.tolist(),
                dist.p_net.tolist(),
                dist.p_payee.tolist(),
                dist.p_status.tolist(),
                strict=True,
            )
        ),
        "unlicensed": dist.unlicensed,
    }


def _stored(database: Database) -> list[Any]:
    with database.reader() as session:
        return [
            [
                (s.licence_id, s.source, s.recording_id, s.amount_minor)
                for s in session.scalars(select(RecordingShare).order_by(RecordingShare.id))
            ],
            [
                (p.licence_id, p.performer_id, p.gross_minor, p.net_minor, p.status)
                for p in session.scalars(select(Payment).order_by(Payment.id))
            ],
            [
                (s.party_kind, s.party_id, s.totals, s.sha256)
                for s in session.scalars(select(Statement).order_by(Statement.id))
            ],
        ]


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_no_act_dated_today_changes_an_earlier_amount(
    database: Database, settings: Settings, world: World
) -> None:
    _empty(database)
    usage = _build(database, world)
    try:
        first = run_period(
            database, settings, OPERATOR, world.period.label, usage=usage, declare=False
        )
    except InvalidInput:
        reject()  # e.g. a revenue share owed with nothing to attribute it to
    money = _money(database, world.period, usage)
    stored = _stored(database)

    _act_today(database, world)

    again = run_period(database, settings, OPERATOR, world.period.label, usage=usage, declare=False)
    assert not again.created and again.run_id == first.run_id
    assert again.result_sha256 == first.result_sha256
    assert again.summary == first.summary
    assert _money(database, world.period, usage) == money
    assert _stored(database) == stored

"""Scenarios of the "consent integrity" issue, remuneration's half.

* A licence suspended after use: the period of the use stays paid as it was, per performer,
  and re-running it is not a conflict; within a period, use before the suspension day is
  billed and use from that day on is reported as unlicensed.
* A licence for one model version (as STIM licenses per version): usage of another version
  is never billed under it; it is reported as unlicensed, and statements show amounts per
  version.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import select

from sostenuto.auth import OPERATOR, Principal
from sostenuto.registry import grant_licence
from sostenuto.remuneration import (
    OutputUse,
    Resemblance,
    TariffSpec,
    TrainingUse,
    Usage,
    add_tariff,
    get_run,
    get_statement,
    parse_period,
    run_period,
    statement_view,
)
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import AiModel, Licence, Licensee
from sostenuto.storage.models.remuneration import Payment, RecordingShare, Statement
from tests.remuneration.conftest import (
    IN_Q3,
    Example,
    build_registry,
    example_usage,
    suspend_from,
    suspend_today,
)

# The worked example's figures (docs/remuneration.md), per performer, in öre.
PAID_IN_Q3 = {"anna": 747_733, "bruno": 336_479, "carla": 365_759, "dmitri": 130_026}


def _performer_totals(database: Database, ex: Example, period: str = "2026-Q3") -> dict[str, int]:
    ids = {"anna": ex.anna, "bruno": ex.bruno, "carla": ex.carla, "dmitri": ex.dmitri}
    with database.reader() as session:
        return {
            name: get_statement(
                session, OPERATOR, period=period, party_kind="performer", party_id=pid
            ).totals["SEK"]
            for name, pid in ids.items()
        }


def _stored(database: Database) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with database.reader() as session:
        payments = [
            (p.licence_id, p.recording_id, p.performer_id, p.gross_minor, p.net_minor, p.status)
            for p in session.scalars(select(Payment).order_by(Payment.id))
        ]
        statements = [
            (s.party_kind, s.party_id, s.totals, s.sha256)
            for s in session.scalars(select(Statement).order_by(Statement.id))
        ]
    return payments, statements


def test_a_suspension_after_use_leaves_the_earlier_period_paid(
    database: Database, settings: Settings, example: Example
) -> None:
    """Melodia AI uses the recordings in 2026-Q3 under SAMI's licence; SAMI suspends the
    licence today (a later quarter). The Q3 run still pays every performer the same, and
    re-running Q3 returns the stored run: no conflict, nothing rewritten."""
    today = dt.date.today()
    assert today > parse_period("2026-Q3").end  # the suspension comes after the period
    first = run_period(database, settings, OPERATOR, "2026-Q3", usage=example_usage(example))
    assert _performer_totals(database, example) == PAID_IN_Q3
    before = _stored(database)

    suspend_today(database, example.sami, example.licence)

    again = run_period(database, settings, OPERATOR, "2026-Q3", usage=example_usage(example))
    assert not again.created and again.run_id == first.run_id
    assert again.result_sha256 == first.result_sha256
    assert _stored(database) == before
    assert _performer_totals(database, example) == PAID_IN_Q3
    # A deliberate correction recomputes from scratch and still finds the same money.
    corrected = run_period(
        database, settings, OPERATOR, "2026-Q3", usage=example_usage(example), replace=True
    )
    assert corrected.result_sha256 == first.result_sha256
    assert _performer_totals(database, example) == PAID_IN_Q3


def test_within_a_period_use_before_the_suspension_day_is_billed(
    database: Database, settings: Settings, example: Example
) -> None:
    """SAMI suspended the licence from 2026-08-20. The worked example's use (14 August) is
    billed in full; two outputs of 1 September are not billed but reported unlicensed."""
    suspend_from(database, example.licence, dt.date(2026, 8, 20))
    usage = example_usage(example)
    late = dt.date(2026, 9, 1)
    usage.outputs.extend(
        OutputUse(f"late-{i}", example.model, late, (Resemblance(example.r2, "segment", 1),))
        for i in (1, 2)
    )
    result = run_period(database, settings, OPERATOR, "2026-Q3", usage=usage, declare=False)
    assert result.summary["currencies"]["SEK"]["collected_minor"] == 1_617_384
    assert _performer_totals(database, example) == PAID_IN_Q3
    assert result.summary["unlicensed"] == [
        {
            "licensee_id": example.licensee,
            "model_id": example.model,
            "training_uses": 0,
            "model": "melodia 1",
            "outputs": 2,
            "first_on": "2026-09-01",
            "last_on": "2026-09-01",
            "cmos": [example.sami],
        }
    ]
    with database.reader() as session:
        owed = get_statement(
            session, OPERATOR, period="2026-Q3", party_kind="licensee", party_id=example.licensee
        )
        assert owed.totals == {"SEK": 1_617_384}
        assert owed.document["unlicensed"] == result.summary["unlicensed"]
        assert owed.document["outputs"] == {str(example.licence): 4}


@dataclasses.dataclass
class Versions:
    ex: Example
    v1: int
    v2: int


def _two_versions(database: Database) -> Versions:
    """The worked example's registry, but Melodia AI runs two versions of model "M" and
    SAMI's licence names version v1 only: 10 000.00 SEK per model trained, 0.25 per output."""
    with database.transaction() as session:
        ex = build_registry(session)
        model = session.get(AiModel, ex.model)
        assert model is not None
        model.name, model.version = "M", "v1"
        v2 = AiModel(licensee_id=ex.licensee, name="M", version="v2", purpose="music")
        session.add(v2)
        session.flush()
        licence = session.get(Licence, ex.licence)
        assert licence is not None
        licence.model_id = ex.model
        add_tariff(
            session,
            OPERATOR,
            TariffSpec(
                licence_id=ex.licence,
                currency="SEK",
                valid_from=IN_Q3.replace(day=1, month=7),
                training_fee_minor=1_000_000,
                per_output_minor=25,
            ),
        )
        from sostenuto.remuneration import set_distribution_rule

        set_distribution_rule(session, OPERATOR, cmo_id=ex.sami, featured=2, non_featured=1)
        return Versions(ex, ex.model, v2.id)


def _versions_usage(v: Versions) -> Usage:
    """v1 trained on R1 (twice), R2, R3; v2 on R1 and R3. Each version made two outputs:
    one found to regurgitate a recording, one without evidence (its training set)."""
    ex = v.ex
    return Usage(
        training=[
            *(TrainingUse(v.v1, r, IN_Q3, 1, ("run-v1",)) for r in (ex.r1, ex.r1, ex.r2, ex.r3)),
            *(TrainingUse(v.v2, r, IN_Q3, 1, ("run-v2",)) for r in (ex.r1, ex.r3)),
        ],
        outputs=[
            OutputUse("v1-out-1", v.v1, IN_Q3, (Resemblance(ex.r3, "segment", 1),)),
            OutputUse("v1-out-2", v.v1, IN_Q3),
            OutputUse("v2-out-1", v.v2, IN_Q3, (Resemblance(ex.r1, "segment", 1),)),
            OutputUse("v2-out-2", v.v2, IN_Q3),
        ],
    )


def _licensee_lines(database: Database, ex: Example) -> tuple[dict[str, int], dict[str, Any]]:
    with database.reader() as session:
        statement = get_statement(
            session, OPERATOR, period="2026-Q3", party_kind="licensee", party_id=ex.licensee
        )
        return statement.totals, statement.document


def test_a_licence_for_one_model_version_never_bills_another(
    database: Database, settings: Settings
) -> None:
    """STIM-style: SAMI licenses "M v1" only. v2's training and outputs are not billed under
    v1's licence; they are reported unlicensed. Billed: v1's training fee 1 000 000 öre over
    R1 : R2 : R3 = 2 : 1 : 1, and v1's two outputs at 25 öre."""
    v = _two_versions(database)
    ex = v.ex
    result = run_period(database, settings, OPERATOR, "2026-Q3", usage=_versions_usage(v))
    assert result.summary["currencies"]["SEK"]["collected_minor"] == 1_000_050
    totals, document = _licensee_lines(database, ex)
    assert totals == {"SEK": 1_000_050}
    assert [
        (ln["licence_id"], ln["source"], ln["model_id"], ln["model"], ln["amount_minor"])
        for ln in document["lines"]
    ] == [
        (ex.licence, "training-fee", v.v1, "M v1", 1_000_000),
        (ex.licence, "output-fee", v.v1, "M v1", 50),
    ]
    assert document["unlicensed"] == [
        {
            "licensee_id": ex.licensee,
            "model_id": v.v2,
            "model": "M v2",
            "training_uses": 2,
            "outputs": 2,
            "first_on": "2026-08-14",
            "last_on": "2026-08-14",
            "cmos": [ex.sami],
        }
    ]
    # The page and the CLI's HTML show it too.
    from sostenuto.web import templates

    page = templates.get_template("remuneration_statement.html").render(
        v=statement_view(document), links=None
    )
    assert "Unlicensed usage" in page and "M v2" in page
    with database.reader() as session:
        r2 = session.scalars(
            select(RecordingShare.amount_minor).where(RecordingShare.recording_id == ex.r2)
        )
        # R2 is in v1's training set only: 250 000 of the training fee, 6 of v1-out-2's fee.
        assert sum(r2) == 250_006

    # SAMI then licenses v2 on its own terms, for Q3 too (a licence starting in the past is
    # the operator's audited correction): each version is billed under its own licence.
    with database.transaction() as session:
        v2_licence = grant_licence(
            session,
            OPERATOR,
            cmo_id=ex.sami,
            licensee_id=ex.licensee,
            model_id=v.v2,
            uses=["train-genai"],
            territories=["SE"],
            valid_from=dt.date(2026, 7, 1),
        ).id
        add_tariff(
            session,
            OPERATOR,
            TariffSpec(
                licence_id=v2_licence,
                currency="SEK",
                valid_from=dt.date(2026, 7, 1),
                training_fee_minor=500_000,
                per_output_minor=10,
            ),
        )
    run_period(database, settings, OPERATOR, "2026-Q3", usage=_versions_usage(v), replace=True)
    totals, document = _licensee_lines(database, ex)
    assert totals == {"SEK": 1_500_070}
    assert [
        (ln["licence_id"], ln["source"], ln["model"], ln["amount_minor"])
        for ln in document["lines"]
    ] == [
        (ex.licence, "training-fee", "M v1", 1_000_000),
        (ex.licence, "output-fee", "M v1", 50),
        (v2_licence, "training-fee", "M v2", 500_000),
        (v2_licence, "output-fee", "M v2", 20),
    ]
    assert "unlicensed" not in document
    with database.reader() as session:
        collected = get_statement(
            session, OPERATOR, period="2026-Q3", party_kind="cmo", party_id=ex.sami
        ).document["lines"]
    assert [
        (ln["licence_id"], ln["model"], ln["net_minor"])
        for ln in collected
        if ln["section"] == "collected"
    ] == [
        (ex.licence, "M v1", 1_000_000),
        (ex.licence, "M v1", 50),
        (v2_licence, "M v2", 500_000),
        (v2_licence, "M v2", 20),
    ]
    with database.reader() as session:
        run = get_run(session, OPERATOR, "2026-Q3")
        assert run.summary["unlicensed"] == []


def test_a_licensee_without_a_licence_owes_nothing_and_is_reported(
    database: Database, settings: Settings, example: Example
) -> None:
    """Rogue AI holds no licence; its model's outputs resemble R1. Nothing is billed to it or
    to anyone else; its statement lists the usage as unlicensed and declares no amount."""
    with database.transaction() as session:
        rogue = Licensee(name="Rogue AI", kind="developer", country="SE")
        session.add(rogue)
        session.flush()
        model = AiModel(licensee_id=rogue.id, name="rogue", version="0.1", purpose="music")
        session.add(model)
        session.flush()
        rogue_id, model_id = rogue.id, model.id
    usage = example_usage(example)
    usage.outputs.append(
        OutputUse("rogue-1", model_id, IN_Q3, (Resemblance(example.r1, "segment", 1),))
    )
    result = run_period(database, settings, OPERATOR, "2026-Q3", usage=usage)
    assert result.summary["currencies"]["SEK"]["collected_minor"] == 1_617_384
    assert _performer_totals(database, example) == PAID_IN_Q3
    gap = {
        "licensee_id": rogue_id,
        "model_id": model_id,
        "model": "rogue 0.1",
        "training_uses": 0,
        "outputs": 1,
        "first_on": "2026-08-14",
        "last_on": "2026-08-14",
        "cmos": [],
    }
    assert result.summary["unlicensed"] == [gap]
    with database.reader() as session:
        statement = get_statement(
            session, OPERATOR, period="2026-Q3", party_kind="licensee", party_id=rogue_id
        )
        assert statement.totals == {} and statement.document["unlicensed"] == [gap]
        assert statement.log_entries == []  # no amount, nothing declared
        sami = get_statement(
            session, OPERATOR, period="2026-Q3", party_kind="cmo", party_id=example.sami
        )
        assert "unlicensed" not in sami.document
        owner = Principal("rogue", "licensee", licensee_id=rogue_id)
        assert get_run(session, owner, "2026-Q3").summary == {
            "scope": {"licensee_id": rogue_id},
            "currencies": {},
            "unlicensed": [gap],
        }
        admin = Principal("sami", "cmo-admin", cmo_id=example.sami)
        assert get_run(session, admin, "2026-Q3").summary["unlicensed"] == []

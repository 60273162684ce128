"""Runs on the database: exact statements, idempotence, corrections, refusals, access."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select

from sostenuto.auth import OPERATOR, PUBLIC, Principal
from sostenuto.errors import Conflict, Forbidden, InvalidInput, NotFound
from sostenuto.remuneration import (
    Resemblance,
    TariffSpec,
    add_tariff,
    get_run,
    get_statement,
    list_statements,
    report_revenue,
    run_period,
    settle_claim,
    sources_chart_svg,
    statement_csv,
)
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.audit import AuditEvent
from sostenuto.storage.models.registry import Licence
from sostenuto.storage.models.remuneration import DistributionRun, Payment, Statement
from tests.remuneration.conftest import Example, example_usage


def _count(database: Database, model: type) -> int:
    with database.reader() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _statement(database: Database, kind: str, party: int, who: Principal = OPERATOR) -> Statement:
    with database.reader() as session:
        return get_statement(session, who, period="2026-Q3", party_kind=kind, party_id=party)


def test_the_worked_example_gives_the_documented_statements(
    database: Database, settings: Settings, example: Example
) -> None:
    result = run_period(database, settings, OPERATOR, "2026-Q3", usage=example_usage(example))
    assert result.created and result.statements == 7
    sek = result.summary["currencies"]["SEK"]
    assert sek == {
        "collected_minor": 1_617_384,
        "to_cmos_minor": 1_214_238,
        "admin_fees_minor": 37_387,
        "held_minor": 365_759,
    }
    assert sek["to_cmos_minor"] + sek["admin_fees_minor"] + sek["held_minor"] == 1_617_384
    expected = {
        example.anna: 747_733,
        example.bruno: 336_479,
        example.carla: 365_759,
        example.dmitri: 130_026,
    }
    for performer, total in expected.items():
        assert _statement(database, "performer", performer).totals == {"SEK": total}
    assert _statement(database, "cmo", example.sami).totals == {"SEK": 747_733 + 130_026}
    assert _statement(database, "cmo", example.aie).totals == {"SEK": 336_479}
    licensee = _statement(database, "licensee", example.licensee)
    assert licensee.totals == {"SEK": 1_617_384}
    bruno = _statement(database, "performer", example.bruno).document
    assert [
        (ln["gross_minor"], ln["admin_fee_minor"], ln["net_minor"], ln["status"])
        for ln in bruno["lines"]
    ] == [(243_840, 24_384, 219_456, "reciprocal"), (130_026, 13_003, 117_023, "reciprocal")]
    csv_text = statement_csv(bruno)
    assert csv_text.splitlines()[0].startswith("licence_id,licensee,")
    assert len(csv_text.splitlines()) == 3
    svg = sources_chart_svg(licensee.document)
    assert svg.startswith("<svg") and "training-fee" in svg


def test_re_running_a_period_changes_nothing(
    database: Database, settings: Settings, example: Example
) -> None:
    first = run_period(database, settings, OPERATOR, "2026-Q3", usage=example_usage(example))
    with database.reader() as session:
        before = [(s.id, s.sha256, s.log_entries) for s in session.scalars(select(Statement))]
    audit = _count(database, AuditEvent)
    again = run_period(database, settings, OPERATOR, "2026-Q3", usage=example_usage(example))
    assert not again.created and again.run_id == first.run_id
    assert again.result_sha256 == first.result_sha256
    with database.reader() as session:
        after = [(s.id, s.sha256, s.log_entries) for s in session.scalars(select(Statement))]
    assert after == before and _count(database, AuditEvent) == audit


def test_other_inputs_need_an_explicit_correction(
    database: Database, settings: Settings, example: Example
) -> None:
    run_period(database, settings, OPERATOR, "2026-Q3", usage=example_usage(example), declare=False)
    usage = example_usage(example)
    first = usage.outputs[0]
    usage.outputs[0] = dataclasses.replace(
        first, resemblances=(Resemblance(example.r1, "segment", 1_000_000),)
    )
    with pytest.raises(Conflict, match="replace"):
        run_period(database, settings, OPERATOR, "2026-Q3", usage=usage, declare=False)
    corrected = run_period(
        database, settings, OPERATOR, "2026-Q3", usage=usage, replace=True, declare=False
    )
    assert corrected.created
    assert _count(database, DistributionRun) == 1
    with database.reader() as session:
        assert session.scalar(select(func.sum(Payment.gross_minor))) == 1_617_384
        runs = set(session.scalars(select(Payment.run_id)))
    assert runs == {corrected.run_id}


def test_a_failed_run_leaves_nothing(
    database: Database, settings: Settings, example: Example
) -> None:
    usage = example_usage(example)
    usage.outputs.append(
        dataclasses.replace(
            usage.outputs[0], output_id="ghost", resemblances=(Resemblance(999_999, "segment", 5),)
        )
    )
    with pytest.raises(InvalidInput, match="not in the registry"):
        run_period(database, settings, OPERATOR, "2026-Q3", usage=usage)
    for model in (DistributionRun, Payment, Statement):
        assert _count(database, model) == 0


def test_only_the_operator_runs_a_period_from_a_usage_file(
    database: Database, settings: Settings, example: Example
) -> None:
    """A CMO's admin runs from the log only (``test_run_access.py``), never from a file."""
    admin = Principal("sami", "cmo-admin", cmo_id=example.sami)
    with pytest.raises(Forbidden, match=r"only the local operator may run .* from a usage file"):
        run_period(database, settings, admin, "2026-Q3", usage=example_usage(example))
    assert _count(database, DistributionRun) == 0


def test_bad_revenue_reports_are_refused(database: Database, example: Example) -> None:
    def report(**kwargs: object) -> None:
        values: dict[str, object] = {
            "licence_id": example.licence,
            "period": "2026-Q4",
            "currency": "SEK",
            "revenue_minor": 100,
        } | kwargs
        with database.transaction() as session:
            report_revenue(session, OPERATOR, **values)  # type: ignore[arg-type]

    with pytest.raises(NotFound, match="no licence"):
        report(licence_id=9_999)
    with pytest.raises(InvalidInput, match="negative"):
        report(revenue_minor=-1)
    with pytest.raises(InvalidInput, match="integer"):
        report(revenue_minor=12.5)
    with pytest.raises(InvalidInput, match="currency mismatch"):
        report(currency="EUR")
    with pytest.raises(InvalidInput, match="unknown currency"):
        report(currency="ZZZ")
    with pytest.raises(InvalidInput, match="not a period"):
        report(period="autumn")
    with pytest.raises(Conflict, match="already reported"):
        report(period="2026-Q3")
    other = Principal("other", "licensee", licensee_id=example.licensee + 1)
    with pytest.raises(Forbidden), database.transaction() as session:
        report_revenue(
            session,
            other,
            licence_id=example.licence,
            period="2026-Q4",
            currency="SEK",
            revenue_minor=1,
        )


def test_tariffs_are_checked(database: Database, example: Example) -> None:
    spec = TariffSpec(
        licence_id=example.licence,
        currency="SEK",
        valid_from=dt.date(2026, 1, 1),
        valid_to=dt.date(2026, 12, 31),
        training_fee_minor=1,
    )
    with pytest.raises(Conflict, match="already has tariff"), database.transaction() as session:
        add_tariff(session, OPERATOR, spec)
    later = dataclasses.replace(spec, valid_from=dt.date(2030, 1, 1), valid_to=None)
    for bad, message in (
        (dataclasses.replace(later, currency="EURO"), "currency"),
        (dataclasses.replace(later, training_fee_minor=-5), "negative"),
        (dataclasses.replace(later, revenue_share_bp=10_001), "above 100"),
        (dataclasses.replace(later, licence_id=4_242), "no licence"),
    ):
        with pytest.raises((InvalidInput, NotFound), match=message), database.transaction() as s:
            add_tariff(s, OPERATOR, bad)
    aie = Principal("aie", "cmo-admin", cmo_id=example.aie)
    with pytest.raises(Forbidden), database.transaction() as session:
        add_tariff(session, aie, later)


def test_each_role_sees_only_its_statements(
    database: Database, settings: Settings, example: Example
) -> None:
    run_period(database, settings, OPERATOR, "2026-Q3", usage=example_usage(example), declare=False)
    aie = Principal("aie", "cmo-admin", cmo_id=example.aie)
    sami = Principal("sami", "cmo-admin", cmo_id=example.sami)
    licensee = Principal("melodia", "licensee", licensee_id=example.licensee)
    stranger = Principal("other", "licensee", licensee_id=example.licensee + 7)
    assert _statement(database, "performer", example.bruno, aie).party_id == example.bruno
    with pytest.raises(Forbidden):
        _statement(database, "performer", example.carla, aie)  # held by SAMI, not AIE's member
    with pytest.raises(Forbidden):
        _statement(database, "cmo", example.sami, aie)
    assert _statement(database, "licensee", example.licensee, licensee).totals
    for who in (stranger, PUBLIC):
        with pytest.raises(Forbidden):
            _statement(database, "licensee", example.licensee, who)
    with database.reader() as session:
        seen = {
            (s.party_kind, s.party_id) for s in list_statements(session, sami, period="2026-Q3")
        }
        assert ("cmo", example.aie) not in seen and ("performer", example.carla) in seen
        assert [s.party_kind for s in list_statements(session, licensee, period="2026-Q3")] == [
            "licensee"
        ]
        with pytest.raises(Forbidden):
            list_statements(session, PUBLIC, period="2026-Q3")
    # A performer reads its own statement, and no one else's.
    bruno = Principal("bruno", "performer", performer_id=example.bruno)
    assert _statement(database, "performer", example.bruno, bruno).totals
    with pytest.raises(Forbidden):
        _statement(database, "performer", example.carla, bruno)
    with database.reader() as session:
        assert [
            (s.party_kind, s.party_id) for s in list_statements(session, bruno, period="2026-Q3")
        ] == [("performer", example.bruno)]


def test_held_claims_are_settled_by_the_collecting_cmo(
    database: Database, settings: Settings, example: Example
) -> None:
    run_period(database, settings, OPERATOR, "2026-Q3", usage=example_usage(example), declare=False)
    sami = Principal("sami", "cmo-admin", cmo_id=example.sami)
    aie = Principal("aie", "cmo-admin", cmo_id=example.aie)
    with pytest.raises(Forbidden), database.transaction() as session:
        settle_claim(
            session, aie, period="2026-Q3", performer_id=example.carla, cmo_id=example.sami
        )
    with database.transaction() as session:
        paid = settle_claim(
            session, sami, period="2026-Q3", performer_id=example.carla, cmo_id=example.sami
        )
    assert paid == 365_759
    with pytest.raises(NotFound, match="no open claim"), database.transaction() as session:
        settle_claim(
            session, sami, period="2026-Q3", performer_id=example.carla, cmo_id=example.sami
        )


def test_a_period_without_tariffs_distributes_nothing(
    database: Database, settings: Settings, example: Example
) -> None:
    result = run_period(database, settings, OPERATOR, "2025-Q1", usage=example_usage(example))
    assert result.created and result.statements == 0
    assert result.summary["currencies"] == {}


def test_run_totals_are_shown_to_each_role_for_its_own_money(
    database: Database, settings: Settings, example: Example
) -> None:
    """AIE also licenses Melodia AI (5 000.00 EUR per model trained). A CMO admin sees only
    its own CMO's totals, a licensee only what it owes, auditors everything, the public
    nothing."""
    with database.transaction() as session:
        session.add(
            Licence(
                cmo_id=example.aie,
                licensee_id=example.licensee,
                uses=["train-genai"],
                territories=["ES"],
                valid_from=dt.date(2026, 7, 1),
                status="active",
                extended=False,
                conditions=[],
            )
        )
        session.flush()
        aie_licence = session.scalar(select(func.max(Licence.id)))
        assert aie_licence is not None
        add_tariff(
            session,
            OPERATOR,
            TariffSpec(
                licence_id=aie_licence,
                currency="EUR",
                valid_from=dt.date(2026, 7, 1),
                training_fee_minor=500_000,
            ),
        )
    run_period(database, settings, OPERATOR, "2026-Q3", usage=example_usage(example), declare=False)
    sami = Principal("sami", "cmo-admin", cmo_id=example.sami)
    aie = Principal("aie", "cmo-admin", cmo_id=example.aie)
    melodia = Principal("melodia", "licensee", licensee_id=example.licensee)
    auditor = Principal("audit", "auditor")
    with database.reader() as session:
        full = get_run(session, auditor, "2026-Q3").summary
        assert set(full["currencies"]) == {"SEK", "EUR"}
        assert full["currencies"]["EUR"]["collected_minor"] == 500_000
        assert get_run(session, OPERATOR, "2026-Q3").summary == full

        mine = get_run(session, sami, "2026-Q3").summary
        assert mine["scope"] == {"cmo_id": example.sami}
        # SAMI collected SEK only; AIE's EUR licence is none of its business.
        assert mine["currencies"] == {
            "SEK": {
                "collected_minor": 1_617_384,
                "paid_to_members_minor": 877_759,
                "forwarded_minor": 336_479,
                "admin_fees_minor": 37_387,
                "held_minor": 365_759,
                "received_minor": 0,
            }
        }
        theirs = get_run(session, aie, "2026-Q3").summary
        assert theirs["scope"] == {"cmo_id": example.aie}
        assert theirs["currencies"]["SEK"] == {
            "collected_minor": 0,
            "paid_to_members_minor": 0,
            "forwarded_minor": 0,
            "admin_fees_minor": 0,
            "held_minor": 0,
            "received_minor": 336_479,
        }
        assert theirs["currencies"]["EUR"]["collected_minor"] == 500_000
        assert "licences" not in theirs and "by_cmo" not in theirs

        owed = get_run(session, melodia, "2026-Q3").summary
        assert owed == {
            "scope": {"licensee_id": example.licensee},
            "currencies": {"EUR": {"owed_minor": 500_000}, "SEK": {"owed_minor": 1_617_384}},
            "unlicensed": [],
        }
        other = Principal("other", "licensee", licensee_id=example.licensee + 7)
        assert get_run(session, other, "2026-Q3").summary["currencies"] == {}
        with pytest.raises(Forbidden):
            get_run(session, PUBLIC, "2026-Q3")

"""Engine details: the rare-verdict path of batches, snapshot invalidation, bad input."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import func, select

from sostenuto.auth import OPERATOR, PUBLIC, Principal
from sostenuto.consent import (
    decide,
    decide_batch,
    get_decision,
    opt_out,
    permit,
    prohibit,
    revoke_rule,
)
from sostenuto.consent._engine import context
from sostenuto.consent._snapshot import current_snapshot
from sostenuto.errors import Conflict, Forbidden, InvalidInput, NotFound
from sostenuto.storage import Database
from sostenuto.storage.models.audit import AuditEvent
from sostenuto.storage.models.consent import ConsentRule, Decision, DecisionBatch
from tests.conftest import HISTORY_TODAY
from tests.consent.conftest import DAY, World, admin, licensee_principal

pytestmark = pytest.mark.usefixtures("history_clock")


def counts(database: Database) -> tuple[int, int, int, int]:
    with database.reader() as session:
        return (
            session.scalar(select(func.count()).select_from(Decision)) or 0,
            session.scalar(select(func.count()).select_from(DecisionBatch)) or 0,
            session.scalar(select(func.count()).select_from(ConsentRule)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def test_batches_with_more_than_63_verdicts(sqlite_database: Database) -> None:
    world = World(sqlite_database)
    cmo = world.cmo("A", "ES")
    lab = world.licensee("Lab")
    performers = [world.performer(f"P{n}") for n in range(80)]
    for performer in performers:
        world.mandate(performer, cmo)
    world.licence(cmo, lab)
    recordings = [world.recording(performers[n], performers[(n * 7 + 3) % 80]) for n in range(80)]
    with sqlite_database.transaction() as session:
        # One rule per performer makes one verdict per performer: more than a mask holds.
        for n, performer in enumerate(performers):
            make = prohibit if n % 3 == 0 else permit
            make(
                session,
                OPERATOR,
                scope="performer",
                scope_id=performer,
                uses=["train-genai"],
                valid_from=dt.date(2025, 1, 1),
            )
    with sqlite_database.reader() as session:
        snapshot = current_snapshot(session)
    ctx = context(snapshot, lab, "train-genai", "ES", DAY.toordinal())
    assert len(ctx.verdicts) > 63
    array = np.array(recordings, dtype=np.int64)
    assert [ctx.bases[i] for i in ctx.decide_many(array).tolist()] == [
        ctx.bases[ctx.decide_recording(r)] for r in recordings
    ]


def test_snapshot_follows_committed_changes(database: Database) -> None:
    world = World(database)
    cmo = world.cmo("A", "ES")
    lab = world.licensee("Lab")
    performer = world.performer("Ana")
    world.mandate(performer, cmo)
    recording = world.recording(performer)
    with database.reader() as session:
        first = current_snapshot(session)
    with database.reader() as session:
        assert current_snapshot(session) is first
    world.licence(cmo, lab)
    with database.transaction() as session:
        second = current_snapshot(session)
        result = decide(
            session,
            OPERATOR,
            licensee_id=lab,
            recording_id=recording,
            use="train-genai",
            territory="ES",
            on_date=DAY,
        )
    assert second is not first and result.outcome == "permit"
    # A rule change reloads the small tables only; the large arrays are kept.
    with database.transaction() as session:
        prohibit(
            session,
            OPERATOR,
            scope="performer",
            scope_id=performer,
            uses=["train-ai"],
            valid_from=dt.date(2025, 1, 1),
        )
    with database.transaction() as session:
        third = current_snapshot(session)
        result = decide(
            session,
            OPERATOR,
            licensee_id=lab,
            recording_id=recording,
            use="train-genai",
            territory="ES",
            on_date=DAY,
        )
    assert third.rec_ptr is second.rec_ptr and len(third.rules) == 1
    assert result.outcome == "deny"
    # A new contribution rebuilds them.
    newcomer = world.recording(performer)
    with database.reader() as session:
        fourth = current_snapshot(session)
    assert fourth.rec_ptr is not third.rec_ptr and fourth.has_recording(newcomer)


@pytest.fixture
def setting(database: Database) -> dict[str, int]:
    world = World(database)
    ids = {"A": world.cmo("A", "ES"), "B": world.cmo("B", "FR")}
    ids["L1"], ids["L2"] = world.licensee("Lab one"), world.licensee("Lab two")
    ids["p1"] = world.performer("Ana")
    ids["outsider"] = world.performer("Olga")
    world.mandate(ids["p1"], ids["A"])
    ids["r1"] = world.recording(ids["p1"])
    return ids


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"use": "train-everything"}, InvalidInput),
        ({"territory": "XX"}, InvalidInput),
        ({"territory": "WW"}, InvalidInput),
        ({"recording_id": 9999}, NotFound),
        ({"licensee_id": 9999}, NotFound),
    ],
)
def test_bad_decision_input_writes_nothing(
    database: Database, setting: dict[str, int], changes: dict[str, object], error: type[Exception]
) -> None:
    before = counts(database)
    arguments: dict[str, object] = {
        "licensee_id": setting["L1"],
        "recording_id": setting["r1"],
        "use": "train-genai",
        "territory": "ES",
        "on_date": DAY,
    }
    arguments.update(changes)
    with pytest.raises(error) as raised, database.transaction() as session:
        decide(session, OPERATOR, **arguments)  # type: ignore[arg-type]
    assert str(raised.value)
    assert counts(database) == before


def test_wrong_roles_are_forbidden(database: Database, setting: dict[str, int]) -> None:
    before = counts(database)
    terms = {"use": "train-genai", "territory": "ES", "on_date": DAY}
    with pytest.raises(Forbidden), database.transaction() as session:
        # A licensee asking on behalf of another licensee.
        decide(
            session,
            licensee_principal(setting["L1"]),
            licensee_id=setting["L2"],
            recording_id=setting["r1"],
            **terms,
        )  # type: ignore[arg-type]
    with pytest.raises(Forbidden), database.transaction() as session:
        decide_batch(
            session, PUBLIC, licensee_id=setting["L1"], recording_ids=[setting["r1"]], **terms
        )  # type: ignore[arg-type]
    with pytest.raises(Forbidden), database.transaction() as session:
        # A licensee cannot change consent.
        prohibit(
            session,
            licensee_principal(setting["L1"]),
            scope="cmo",
            scope_id=setting["A"],
            uses=["train-ai"],
        )
    with pytest.raises(Forbidden), database.transaction() as session:
        # The admin of B does not represent A's members.
        prohibit(
            session,
            admin(setting["B"]),
            scope="performer",
            scope_id=setting["p1"],
            uses=["train-ai"],
        )
    with pytest.raises(Forbidden), database.transaction() as session:
        permit(
            session,
            admin(setting["B"]),
            scope="recording",
            scope_id=setting["r1"],
            uses=["train-ai"],
        )
    with pytest.raises(Forbidden), database.transaction() as session:
        permit(
            session,
            Principal(name="auditor", role="auditor"),
            scope="cmo",
            scope_id=setting["A"],
            uses=["train-ai"],
        )
    assert counts(database) == before


def test_rule_input_is_checked_before_anything_is_written(
    database: Database, setting: dict[str, int]
) -> None:
    before = counts(database)
    bad_calls = [
        {"uses": ["sing-along"]},
        {"territories": ["ZZ"]},
        {"uses": []},
        {"scope": "planet"},
        {"scope_id": 9999},
        {"licensee_id": 9999},
        {"valid_from": dt.date(2026, 5, 1), "valid_to": dt.date(2026, 4, 1)},
        {"conditions": ["gratitude"]},
    ]
    for changes in bad_calls:
        arguments: dict[str, object] = {
            "scope": "cmo",
            "scope_id": setting["A"],
            "uses": ["train-ai"],
        }
        arguments.update(changes)
        with pytest.raises((InvalidInput, NotFound)), database.transaction() as session:
            permit(session, admin(setting["A"]), **arguments)  # type: ignore[arg-type]
    assert counts(database) == before


def test_rule_changes_are_audited_and_revocation_is_checked(
    database: Database, setting: dict[str, int]
) -> None:
    with database.transaction() as session:
        rule = prohibit(
            session,
            admin(setting["A"]),
            scope="performer",
            scope_id=setting["p1"],
            uses=["voice-clone"],
        )
        # Any CMO admin may record the opt-out of a performer no CMO represents.
        outsider = opt_out(session, admin(setting["B"]), performer_id=setting["outsider"])
    assert outsider.source == "opt-out"
    today = HISTORY_TODAY  # the history_clock fixture's "today"
    with pytest.raises(InvalidInput), database.transaction() as session:
        revoke_rule(
            session, admin(setting["A"]), rule.id, effective_from=today - dt.timedelta(days=1)
        )
    with pytest.raises(Forbidden), database.transaction() as session:
        revoke_rule(session, admin(setting["B"]), rule.id)
    with database.transaction() as session:
        revoke_rule(session, admin(setting["A"]), rule.id)
    with pytest.raises(Conflict), database.transaction() as session:
        revoke_rule(session, admin(setting["A"]), rule.id)
    with database.reader() as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "consent_rule")
            .order_by(AuditEvent.id)
        ).all()
    assert [e.action for e in events] == ["consent.prohibit", "consent.opt-out", "consent.revoke"]
    assert events[2].before["revoked_from"] is None  # type: ignore[index]
    assert events[2].after["revoked_from"] == today.isoformat()  # type: ignore[index]
    assert events[0].actor == f"admin-of-{setting['A']}"


def test_a_licensee_sees_only_its_own_decisions(
    database: Database, setting: dict[str, int]
) -> None:
    with database.transaction() as session:
        mine = decide(
            session,
            licensee_principal(setting["L1"]),
            licensee_id=setting["L1"],
            recording_id=setting["r1"],
            use="train-genai",
            territory="ES",
        )
        batch = decide_batch(
            session,
            licensee_principal(setting["L1"]),
            licensee_id=setting["L1"],
            recording_ids=[setting["r1"]],
            use="train-genai",
            territory="ES",
        )
    with database.reader() as session:
        assert get_decision(session, licensee_principal(setting["L1"]), mine.id) == mine
        for decision_id in (mine.id, batch.results[0].id):
            with pytest.raises(NotFound):
                get_decision(session, licensee_principal(setting["L2"]), decision_id)
            with pytest.raises(Forbidden):
                get_decision(session, PUBLIC, decision_id)
        for missing in ("dec_nothing", f"{batch.batch_id}.5", f"{batch.batch_id}.x"):
            with pytest.raises(NotFound):
                get_decision(session, OPERATOR, missing)


def test_bad_batches_write_nothing(database: Database, setting: dict[str, int]) -> None:
    before = counts(database)
    for recording_ids, error in (([], InvalidInput), ([setting["r1"], 4242, -1], NotFound)):
        with pytest.raises(error), database.transaction() as session:
            decide_batch(
                session,
                OPERATOR,
                licensee_id=setting["L1"],
                recording_ids=recording_ids,
                use="train-genai",
                territory="ES",
            )
    assert counts(database) == before


def test_cedar_comparison_reports_a_difference(database: Database, setting: dict[str, int]) -> None:
    from sostenuto.consent import disagreements, evaluate_with_cedar

    World(database).licence(setting["A"], setting["L1"])
    with database.reader() as session:
        snapshot = current_snapshot(session)
    cedar = evaluate_with_cedar(
        snapshot,
        licensee_id=setting["L1"],
        use="train-genai",
        territory="ES",
        day=DAY.toordinal(),
        recordings=[setting["r1"]],
    )
    assert cedar.outcomes == ["permit"]
    # An engine that said deny, or named a licence Cedar did not find, would be reported.
    assert disagreements(cedar, ["deny"], [[]], [[]])[0]["problem"] == "outcome"
    assert disagreements(cedar, ["permit"], [[]], [[424242]])[0]["problem"] == "permissions"
    assert disagreements(cedar, ["permit"], [[]], [[1]]) == []

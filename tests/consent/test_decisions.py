"""Each decision path, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from sostenuto.auth import OPERATOR
from sostenuto.consent import (
    DecisionResult,
    decide,
    decide_batch,
    decide_performer,
    get_decision,
    load_jurisdictions,
    opt_out,
    permit,
    prohibit,
    revoke_rule,
)
from sostenuto.errors import Forbidden
from sostenuto.storage import Database
from tests.consent.conftest import DAY, World, admin, licensee_principal

pytestmark = pytest.mark.usefixtures("history_clock")


def ask(
    database: Database,
    licensee: int,
    recording: int,
    *,
    use: str = "train-genai",
    territory: str = "ES",
    on: dt.date = DAY,
) -> DecisionResult:
    with database.transaction() as session:
        return decide(
            session,
            licensee_principal(licensee),
            licensee_id=licensee,
            recording_id=recording,
            use=use,
            territory=territory,
            on_date=on,
        )


@pytest.fixture
def basic(world: World) -> dict[str, int]:
    """CMO A (ES) with members p1 and p2, a licence of A to L1 for train-genai."""
    ids = {
        "A": world.cmo("A", "ES"),
        "B": world.cmo("B", "FR"),
        "L1": world.licensee("Lab one"),
        "L2": world.licensee("Lab two"),
        "p1": world.performer("Ana"),
        "p2": world.performer("Bea"),
    }
    world.mandate(ids["p1"], ids["A"])
    world.mandate(ids["p2"], ids["A"])
    ids["r1"] = world.recording(ids["p1"], ids["p2"], cmo=ids["A"])
    ids["licence"] = world.licence(ids["A"], ids["L1"], conditions=("remuneration",))
    return ids


def test_licence_through_mandate_permits(database: Database, basic: dict[str, int]) -> None:
    result = ask(database, basic["L1"], basic["r1"])
    assert result.outcome == "permit"
    assert result.licence_id == basic["licence"]
    assert result.rule_ids == []
    assert result.conditions == ["remuneration"]
    assert f"licence {basic['licence']} from member CMO {basic['A']}" in result.reason
    # The licence is the licensee's own: another licensee is not covered.
    other = ask(database, basic["L2"], basic["r1"])
    assert other.outcome == "deny"
    assert other.licence_id is None


def test_licence_covers_only_its_use_territory_and_period(
    database: Database, world: World, basic: dict[str, int]
) -> None:
    # A licence for train-genai permits neither the broader train-ai nor voice-clone.
    assert ask(database, basic["L1"], basic["r1"], use="train-ai").outcome == "deny"
    assert ask(database, basic["L1"], basic["r1"], use="voice-clone").outcome == "deny"
    narrow = world.licence(
        basic["A"],
        basic["L2"],
        territories=("FR",),
        valid_from=dt.date(2026, 1, 1),
        valid_to=dt.date(2026, 12, 31),
    )
    assert ask(database, basic["L2"], basic["r1"], territory="FR").licence_id == narrow
    assert ask(database, basic["L2"], basic["r1"], territory="ES").outcome == "deny"
    assert (
        ask(database, basic["L2"], basic["r1"], territory="FR", on=dt.date(2027, 1, 1)).outcome
        == "deny"
    )
    assert (
        ask(database, basic["L2"], basic["r1"], territory="FR", on=dt.date(2025, 12, 31)).outcome
        == "deny"
    )


@pytest.mark.parametrize("status", ["suspended", "expired", "terminated"])
def test_licence_not_active_does_not_count(database: Database, world: World, status: str) -> None:
    cmo = world.cmo("A", "ES")
    lab = world.licensee("Lab")
    performer = world.performer("Ana")
    world.mandate(performer, cmo)
    recording = world.recording(performer)
    world.licence(cmo, lab, status=status)
    result = ask(database, lab, recording)
    assert result.outcome == "deny"
    assert "no permission and no licence" in result.reason


def test_expired_licence_period(database: Database, world: World) -> None:
    cmo = world.cmo("A", "ES")
    lab = world.licensee("Lab")
    performer = world.performer("Ana")
    world.mandate(performer, cmo)
    recording = world.recording(performer)
    world.licence(cmo, lab, valid_to=dt.date(2025, 12, 31))
    assert ask(database, lab, recording, on=dt.date(2025, 12, 31)).outcome == "permit"
    assert ask(database, lab, recording, on=DAY).outcome == "deny"


def test_every_contributor_must_be_covered(
    database: Database, world: World, basic: dict[str, int]
) -> None:
    outsider_cmo = basic["B"]
    p3 = world.performer("Cora")
    world.mandate(p3, outsider_cmo)
    mixed = world.recording(basic["p1"], p3)
    result = ask(database, basic["L1"], mixed)
    assert result.outcome == "deny"
    assert f"member of CMO {outsider_cmo}" in result.reason


def test_prohibition_wins_over_licence_and_permission(
    database: Database, basic: dict[str, int]
) -> None:
    with database.transaction() as session:
        allowed = permit(
            session,
            admin(basic["A"]),
            scope="performer",
            scope_id=basic["p1"],
            uses=["train-genai"],
            valid_from=dt.date(2025, 1, 1),
        )
        # A prohibition of the broader use reaches train-genai.
        banned = prohibit(
            session,
            admin(basic["A"]),
            scope="performer",
            scope_id=basic["p2"],
            uses=["train-ai"],
            territories=["ES"],
            valid_from=dt.date(2025, 1, 1),
        )
    result = ask(database, basic["L1"], basic["r1"])
    assert result.outcome == "deny"
    assert result.rule_ids == [banned.id]
    assert result.licence_id is None
    assert "prohibited by rule" in result.reason
    # Outside the prohibition's territory the licence decides again.
    assert ask(database, basic["L1"], basic["r1"], territory="FR").outcome == "permit"
    assert allowed.id not in result.rule_ids


def test_cmo_scope_prohibition_reaches_members(database: Database, basic: dict[str, int]) -> None:
    with database.transaction() as session:
        rule = prohibit(
            session,
            admin(basic["A"]),
            scope="cmo",
            scope_id=basic["A"],
            uses=["voice-clone"],
            licensee_id=basic["L1"],
            valid_from=dt.date(2025, 1, 1),
        )
    assert ask(database, basic["L1"], basic["r1"], use="voice-clone").rule_ids == [rule.id]
    # Licensee-specific: another licensee is not reached, and a broader use is not either.
    assert ask(database, basic["L2"], basic["r1"], use="voice-clone").rule_ids == []
    assert ask(database, basic["L1"], basic["r1"], use="train-genai").outcome == "permit"


def test_specific_permission_without_licence(database: Database, basic: dict[str, int]) -> None:
    with database.transaction() as session:
        first = permit(
            session,
            admin(basic["A"]),
            scope="performer",
            scope_id=basic["p1"],
            uses=["style-imitation"],
            valid_from=dt.date(2025, 1, 1),
            conditions=["attribution"],
        )
        second = permit(
            session,
            admin(basic["A"]),
            scope="cmo",
            scope_id=basic["A"],
            uses=["style-imitation"],
            valid_from=dt.date(2025, 1, 1),
            conditions=["labelling"],
        )
    result = ask(database, basic["L2"], basic["r1"], use="style-imitation")
    assert result.outcome == "permit"
    assert result.rule_ids == sorted([first.id, second.id])
    assert result.conditions == ["attribution", "labelling"]
    assert result.licence_id is None


def test_recording_scope_permission_needs_a_represented_contributor(
    database: Database, world: World, basic: dict[str, int]
) -> None:
    empty = world.recording(cmo=basic["A"])
    denied = ask(database, basic["L1"], empty)
    assert denied.outcome == "deny"
    assert "no contributors" in denied.reason
    # Registering a recording gives a CMO no authority over it: only a mandate does.
    with database.transaction() as session, pytest.raises(Forbidden, match="no mandate"):
        permit(
            session,
            admin(basic["A"]),
            scope="recording",
            scope_id=empty,
            uses=["train-genai"],
            valid_from=dt.date(2025, 1, 1),
        )
    # The operator's recording permission is unbounded: it covers a recording without
    # registered contributors.
    with database.transaction() as session:
        rule = permit(
            session,
            OPERATOR,
            scope="recording",
            scope_id=empty,
            uses=["train-genai"],
            valid_from=dt.date(2025, 1, 1),
        )
    allowed = ask(database, basic["L1"], empty)
    assert (allowed.outcome, allowed.rule_ids) == ("permit", [rule.id])


def test_reciprocal_agreement_licence(database: Database, world: World) -> None:
    home = world.cmo("HOME", "FR")
    local = world.cmo("LOCAL", "ES")
    lab = world.licensee("Lab")
    performer = world.performer("Dora")
    world.mandate(performer, home)
    recording = world.recording(performer)
    licence = world.licence(local, lab, territories=("ES",))
    assert ask(database, lab, recording).outcome == "deny"
    world.agreement(local, home, territories=("ES",))
    result = ask(database, lab, recording)
    assert (result.outcome, result.licence_id) == ("permit", licence)
    assert f"from CMO {local} representing CMO {home}" in result.reason
    # The agreement covers Spain only.
    world.licence(local, lab, territories=("PT",))
    assert ask(database, lab, recording, territory="PT").outcome == "deny"


def test_extended_licence_for_non_member_and_opt_out(database: Database, world: World) -> None:
    nordic = world.cmo("SAMI", "SE")
    lab = world.licensee("Lab")
    outsider = world.performer("Elin")
    member = world.performer("Frida")
    world.mandate(member, world.cmo("OTHER", "DK"), territories=("DK",))
    recording = world.recording(outsider)
    extended = world.licence(nordic, lab, territories=("SE",), extended=True)
    # No jurisdiction rule loaded yet: an extended licence is just a licence to members.
    assert ask(database, lab, recording, territory="SE").outcome == "deny"
    with database.transaction() as session:
        load_jurisdictions(session, OPERATOR)
    result = ask(database, lab, recording, territory="SE")
    assert (result.outcome, result.licence_id) == ("permit", extended)
    assert "extended collective licence" in result.reason
    # Spain's law gives no ECL, and voice cloning is not among Sweden's ECL uses.
    assert ask(database, lab, recording, territory="ES").outcome == "deny"
    assert ask(database, lab, recording, territory="SE", use="voice-clone").outcome == "deny"
    # A performer represented in Sweden by nobody but represented elsewhere is a non-member
    # in Sweden too.
    assert ask(database, lab, world.recording(member), territory="SE").outcome == "permit"
    with database.transaction() as session:
        reservation = opt_out(
            session, admin(nordic), performer_id=outsider, valid_from=dt.date(2025, 1, 1)
        )
    opted = ask(database, lab, recording, territory="SE")
    assert (opted.outcome, opted.rule_ids) == ("deny", [reservation.id])


def test_default_deny(database: Database, world: World) -> None:
    cmo = world.cmo("A", "ES")
    lab = world.licensee("Lab")
    performer = world.performer("Gala")
    world.mandate(performer, cmo)
    result = ask(database, lab, world.recording(performer))
    assert result.outcome == "deny"
    assert result.rule_ids == [] and result.licence_id is None


def test_revocation_takes_effect_from_its_date(database: Database, world: World) -> None:
    cmo = world.cmo("A", "ES")
    lab = world.licensee("Lab")
    performer = world.performer("Hana")
    world.mandate(performer, cmo)
    recording = world.recording(performer)
    today = dt.datetime.now(dt.UTC).date()
    with database.transaction() as session:
        rule = permit(
            session,
            admin(cmo),
            scope="performer",
            scope_id=performer,
            uses=["train-genai"],
            valid_from=today - dt.timedelta(days=30),
        )
    before = ask(database, lab, recording, on=today)
    assert before.outcome == "permit"
    cutoff = today + dt.timedelta(days=10)
    with database.transaction() as session:
        revoked = revoke_rule(session, admin(cmo), rule.id, effective_from=cutoff)
    assert revoked.revoked_from == cutoff
    assert ask(database, lab, recording, on=cutoff - dt.timedelta(days=1)).outcome == "permit"
    assert ask(database, lab, recording, on=cutoff).outcome == "deny"
    # The stored decision says what it said.
    with database.reader() as session:
        stored = get_decision(session, licensee_principal(lab), before.id)
    assert stored == before


def test_mandate_period_and_use(database: Database, world: World) -> None:
    cmo = world.cmo("A", "ES")
    lab = world.licensee("Lab")
    performer = world.performer("Ines")
    world.mandate(performer, cmo, uses=("search-index",), valid_to=dt.date(2026, 3, 1))
    world.licence(cmo, lab, uses=("search-index", "train-genai"))
    recording = world.recording(performer)
    assert (
        ask(database, lab, recording, use="search-index", on=dt.date(2026, 2, 1)).outcome
        == "permit"
    )
    # After the mandate ends the performer is a non-member: no licence of A reaches them.
    assert ask(database, lab, recording, use="search-index").outcome == "deny"
    # The mandate never entrusted train-genai.
    assert ask(database, lab, recording, on=dt.date(2026, 2, 1)).outcome == "deny"


def test_batch_agrees_with_single_decisions_and_is_stored(
    database: Database, world: World, basic: dict[str, int]
) -> None:
    empty = world.recording()
    p3 = world.performer("Juno")
    solo = world.recording(p3)
    with database.transaction() as session:
        prohibit(
            session,
            admin(basic["A"]),
            scope="recording",
            scope_id=basic["r1"],
            uses=["fine-tune"],
            valid_from=dt.date(2025, 1, 1),
        )
    recordings = [basic["r1"], empty, solo, basic["r1"]]
    with database.transaction() as session:
        batch = decide_batch(
            session,
            licensee_principal(basic["L1"]),
            licensee_id=basic["L1"],
            recording_ids=recordings,
            use="train-genai",
            territory="ES",
            on_date=DAY,
        )
    singles = [ask(database, basic["L1"], recording) for recording in recordings]
    assert [r.outcome for r in batch.results] == [r.outcome for r in singles]
    assert [r.reason for r in batch.results] == [r.reason for r in singles]
    assert batch.permitted == 2
    with database.reader() as session:
        again = [get_decision(session, OPERATOR, f"{batch.batch_id}.{i}") for i in range(4)]
    assert again == batch.results
    assert batch.results[1].id == f"{batch.batch_id}.1"


def test_performer_decision_for_voice(database: Database, basic: dict[str, int]) -> None:
    with database.transaction() as session:
        denied = decide_performer(
            session,
            licensee_principal(basic["L1"]),
            licensee_id=basic["L1"],
            performer_id=basic["p1"],
            use="voice-clone",
            territory="ES",
            on_date=DAY,
        )
        permitted = decide_performer(
            session,
            licensee_principal(basic["L1"]),
            licensee_id=basic["L1"],
            performer_id=basic["p1"],
            use="train-genai",
            territory="ES",
            on_date=DAY,
        )
    assert (denied.outcome, permitted.outcome) == ("deny", "permit")
    with database.reader() as session:
        assert get_decision(session, OPERATOR, permitted.id) == permitted

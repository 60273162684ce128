"""Consent integrity: the findings of a sceptical CMO's review, one regression test each.

These run on the real clock: every act here is dated today or later, as a CMO's would be.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from sostenuto import registry
from sostenuto.auth import OPERATOR, Principal
from sostenuto.consent import (
    DecisionResult,
    decide,
    get_decision,
    load_jurisdictions,
    opt_out,
    permit,
    prohibit,
    revoke_rule,
)
from sostenuto.errors import Forbidden, InvalidInput, NotFound
from sostenuto.storage import Database
from sostenuto.storage.models.consent import ConsentRule, Decision, DecisionBatch
from sostenuto.storage.models.registry import AiModel, Mandate
from tests.consent.conftest import World, admin, licensee_principal

TODAY = dt.datetime.now(dt.UTC).date()
YESTERDAY = TODAY - dt.timedelta(days=1)


def ask(
    database: Database,
    licensee: int,
    recording: int,
    *,
    use: str = "train-genai",
    territory: str = "SE",
    on: dt.date | None = None,
    model: int | None = None,
    principal: Principal | None = None,
) -> DecisionResult:
    with database.transaction() as session:
        return decide(
            session,
            principal or licensee_principal(licensee),
            licensee_id=licensee,
            recording_id=recording,
            use=use,
            territory=territory,
            on_date=on,
            model_id=model,
        )


@pytest.fixture
def two_cmos(world: World) -> dict[str, int]:
    """CMO X (SE) represents Ana in Sweden and Denmark for every use and licenses lab L for
    train-genai; CMO Y (IS) is another CMO."""
    ids = {
        "X": world.cmo("X", "SE"),
        "Y": world.cmo("Y", "IS"),
        "L": world.licensee("Lab"),
        "ana": world.performer("Ana"),
    }
    world.mandate(ids["ana"], ids["X"], territories=("SE", "DK"))
    ids["rec"] = world.recording(ids["ana"])
    ids["licence"] = world.licence(ids["X"], ids["L"], territories=("WW",))
    return ids


# -- 1. a CMO takes rights over another CMO's member ----------------------------------------


def test_a_mandate_for_another_cmos_member_waits_for_confirmation(
    database: Database, two_cmos: dict[str, int]
) -> None:
    with database.transaction() as session:
        pending = registry.add_mandate(
            session,
            admin(two_cmos["Y"]),
            performer_id=two_cmos["ana"],
            cmo_id=two_cmos["Y"],
            territories=["IS"],
            uses=["generate-derivative"],
            valid_from=TODAY,
        )
    assert pending.status == "pending"
    # Y cannot confirm its own take-over; X (which represents Ana) can.
    with pytest.raises(Forbidden), database.transaction() as session:
        registry.confirm_mandate(session, admin(two_cmos["Y"]), pending.id)
    with database.transaction() as session:
        confirmed = registry.confirm_mandate(session, admin(two_cmos["X"]), pending.id)
    assert confirmed.status == "active"


def test_a_cmo_cannot_make_rules_beyond_its_mandate(
    database: Database, world: World, two_cmos: dict[str, int]
) -> None:
    ana, y = two_cmos["ana"], two_cmos["Y"]
    # Y holds an active mandate of Ana for generate-derivative in Iceland only.
    world.mandate(ana, y, territories=("IS",), uses=("generate-derivative",))
    before_voice = ask(database, two_cmos["L"], two_cmos["rec"], use="voice-clone")
    before_train = ask(database, two_cmos["L"], two_cmos["rec"])
    assert (before_voice.outcome, before_train.outcome) == ("deny", "permit")
    with (
        pytest.raises(Forbidden, match="no mandate") as refused,
        database.transaction() as session,
    ):
        permit(
            session,
            admin(y),
            scope="performer",
            scope_id=ana,
            uses=["voice-clone"],
            territories=["SE"],
        )
    assert refused.value.details["missing_mandate"] == ["voice-clone in SE"]
    with pytest.raises(Forbidden, match="no mandate"), database.transaction() as session:
        prohibit(session, admin(y), scope="performer", scope_id=ana, uses=["train-ai"])
    with database.reader() as session:
        assert session.scalar(select(func.count()).select_from(ConsentRule)) == 0
    # Within its mandate Y may act.
    with database.transaction() as session:
        prohibit(
            session,
            admin(y),
            scope="performer",
            scope_id=ana,
            uses=["generate-derivative"],
            territories=["IS"],
        )
    assert ask(database, two_cmos["L"], two_cmos["rec"]).outcome == "permit"
    assert ask(database, two_cmos["L"], two_cmos["rec"], use="voice-clone").outcome == "deny"


def test_a_rule_beyond_its_cmos_mandate_changes_no_decision(
    database: Database, world: World, two_cmos: dict[str, int]
) -> None:
    """Even a rule stored without the check (an old row) counts only within the mandate."""
    ana, y = two_cmos["ana"], two_cmos["Y"]
    world.mandate(ana, y, territories=("IS",), uses=("generate-derivative",))
    with database.transaction() as session:
        session.add(
            ConsentRule(
                effect="prohibit",
                scope_kind="performer",
                scope_id=ana,
                uses=["train-ai"],
                territories=["WW"],
                valid_from=YESTERDAY,
                conditions=[],
                source="cmo",
                created_by="admin-of-y",
                cmo_id=y,
            )
        )
    assert ask(database, two_cmos["L"], two_cmos["rec"]).outcome == "permit"


# -- 2. a CMO cancels another CMO's opt-out ---------------------------------------------------


def test_only_the_recording_cmo_revokes_an_opt_out(database: Database, world: World) -> None:
    with database.transaction() as session:
        load_jurisdictions(session, OPERATOR)
    x, y = world.cmo("X", "SE"), world.cmo("Y", "DK")
    lab = world.licensee("Lab")
    outsider = world.performer("Nobody's member")
    recording = world.recording(outsider)
    world.licence(x, lab, territories=("SE",), extended=True)
    assert ask(database, lab, recording).outcome == "permit"
    with database.transaction() as session:
        reservation = opt_out(session, admin(y), performer_id=outsider)
    assert reservation.cmo_id == y
    assert ask(database, lab, recording).outcome == "deny"
    with pytest.raises(Forbidden, match="recorded by CMO"), database.transaction() as session:
        revoke_rule(session, admin(x), reservation.id)
    assert ask(database, lab, recording).outcome == "deny"
    with database.transaction() as session:
        revoke_rule(session, admin(y), reservation.id)
    assert ask(database, lab, recording).outcome == "permit"


# -- 3. a recording-wide permit covers only its CMO's contributors ----------------------------


def test_a_recording_permit_covers_only_its_cmos_contributors(
    database: Database, world: World
) -> None:
    x, y, z = world.cmo("X", "SE"), world.cmo("Y", "NO"), world.cmo("Z", "FI")
    lab = world.licensee("Lab")
    ana, bo, cy = world.performer("Ana"), world.performer("Bo"), world.performer("Cy")
    world.mandate(ana, x)
    world.mandate(bo, y)
    world.mandate(cy, z)
    recording = world.recording(ana, bo, cy)
    with database.transaction() as session:
        rule = permit(
            session, admin(x), scope="recording", scope_id=recording, uses=["train-genai"]
        )
    partial = ask(database, lab, recording)
    assert partial.outcome == "deny"
    assert f"a member of CMO {y}" in partial.reason and f"a member of CMO {z}" in partial.reason
    world.licence(y, lab)
    world.licence(z, lab)
    covered = ask(database, lab, recording)
    assert covered.outcome == "permit"
    assert covered.rule_ids == [rule.id]
    assert f"recording permission rule {rule.id}" in covered.reason


# -- 4. licences per model version ------------------------------------------------------------


def test_a_licence_for_one_model_version_covers_no_other(database: Database, world: World) -> None:
    x = world.cmo("STIM-like", "SE")
    lab, other_lab = world.licensee("Lab"), world.licensee("Other lab")
    ana = world.performer("Ana")
    world.mandate(ana, x)
    recording = world.recording(ana)
    with database.transaction() as session:
        v1 = registry.add_model(
            session,
            licensee_principal(lab),
            licensee_id=lab,
            name="M",
            version="1",
            purpose="music",
        )
        v2 = registry.add_model(
            session,
            licensee_principal(lab),
            licensee_id=lab,
            name="M",
            version="2",
            purpose="music",
        )
        foreign = registry.add_model(
            session,
            licensee_principal(other_lab),
            licensee_id=other_lab,
            name="N",
            version="1",
            purpose="music",
        )
    with pytest.raises(NotFound, match="no model"), database.transaction() as session:
        registry.grant_licence(
            session,
            admin(x),
            cmo_id=x,
            licensee_id=lab,
            uses=["train-genai"],
            territories=["SE"],
            valid_from=TODAY,
            model_id=foreign.id,
        )
    with database.transaction() as session:
        licence = registry.grant_licence(
            session,
            admin(x),
            cmo_id=x,
            licensee_id=lab,
            uses=["train-genai"],
            territories=["SE"],
            valid_from=TODAY,
            model_id=v1.id,
        )
    assert licence.model_id == v1.id
    first = ask(database, lab, recording, model=v1.id)
    assert (first.outcome, first.licence_ids, first.model_id) == ("permit", [licence.id], v1.id)
    assert ask(database, lab, recording, model=v2.id).outcome == "deny"
    assert ask(database, lab, recording).outcome == "deny"
    with database.reader() as session:
        stored = session.get(Decision, first.id)
        assert stored is not None and stored.model_id == v1.id
        assert session.get(AiModel, foreign.id) is not None
    with pytest.raises(NotFound, match="no model"):
        ask(database, lab, recording, model=foreign.id)


# -- 5. nothing retroactive --------------------------------------------------------------------


def test_suspension_takes_effect_from_today_never_before(
    database: Database, two_cmos: dict[str, int]
) -> None:
    lab, recording = two_cmos["L"], two_cmos["rec"]
    before = ask(database, lab, recording, on=YESTERDAY)
    assert before.outcome == "permit"
    with pytest.raises(InvalidInput, match="past"), database.transaction() as session:
        registry.suspend_licence(
            session, admin(two_cmos["X"]), two_cmos["licence"], effective_from=YESTERDAY
        )
    with database.transaction() as session:
        suspended = registry.suspend_licence(session, admin(two_cmos["X"]), two_cmos["licence"])
    assert suspended.suspended_from == TODAY
    again = ask(database, lab, recording, on=YESTERDAY)
    assert (again.outcome, again.licence_ids) == ("permit", before.licence_ids)
    assert ask(database, lab, recording).outcome == "deny"
    with database.reader() as session:
        assert get_decision(session, OPERATOR, before.id).outcome == "permit"


def test_rules_licences_and_mandates_cannot_be_back_dated(
    database: Database, two_cmos: dict[str, int]
) -> None:
    x = admin(two_cmos["X"])
    with pytest.raises(InvalidInput, match="past"), database.transaction() as session:
        prohibit(
            session,
            x,
            scope="performer",
            scope_id=two_cmos["ana"],
            uses=["train-ai"],
            valid_from=YESTERDAY,
        )
    with pytest.raises(InvalidInput, match="past"), database.transaction() as session:
        registry.grant_licence(
            session,
            x,
            cmo_id=two_cmos["X"],
            licensee_id=two_cmos["L"],
            uses=["train-ai"],
            territories=["SE"],
            valid_from=YESTERDAY,
        )
    with pytest.raises(InvalidInput, match="past"), database.transaction() as session:
        registry.add_mandate(
            session,
            x,
            performer_id=two_cmos["ana"],
            cmo_id=two_cmos["X"],
            territories=["NO"],
            uses=["search-index"],
            valid_from=YESTERDAY,
        )
    # A correction of the past is the operator's explicit, audited act.
    with pytest.raises(Forbidden), database.transaction() as session:
        prohibit(
            session,
            x,
            scope="performer",
            scope_id=two_cmos["ana"],
            uses=["train-ai"],
            valid_from=YESTERDAY,
            correction=True,
        )
    with database.transaction() as session:
        corrected = prohibit(
            session,
            OPERATOR,
            scope="performer",
            scope_id=two_cmos["ana"],
            uses=["voice-clone"],
            valid_from=YESTERDAY,
            correction=True,
        )
    assert corrected.valid_from == YESTERDAY


# -- 6. tenant isolation in decisions -----------------------------------------------------------


def test_a_cmo_previews_decisions_and_sees_only_its_repertoire(
    database: Database, world: World, two_cmos: dict[str, int]
) -> None:
    lab, recording = two_cmos["L"], two_cmos["rec"]
    preview = ask(database, lab, recording, principal=admin(two_cmos["X"]))
    assert (preview.outcome, preview.stored) == ("permit", False)
    with database.reader() as session:
        assert session.scalar(select(func.count()).select_from(Decision)) == 0
        assert session.scalar(select(func.count()).select_from(DecisionBatch)) == 0
    own = ask(database, lab, recording)
    assert own.stored
    with database.reader() as session:
        assert get_decision(session, admin(two_cmos["X"]), own.id).outcome == "permit"
        with pytest.raises(NotFound):
            get_decision(session, admin(two_cmos["Y"]), own.id)
        with pytest.raises(NotFound):
            get_decision(session, licensee_principal(world.licensee("Another lab")), own.id)


# -- 9. rules accepted that do nothing -----------------------------------------------------------


def test_extended_licences_only_where_the_cmos_law_allows_them(
    database: Database, world: World
) -> None:
    with database.transaction() as session:
        load_jurisdictions(session, OPERATOR)
    british, danish = world.cmo("UK", "GB"), world.cmo("DK", "DK")
    lab = world.licensee("Lab")
    for cmo, territory, why in ((british, "GB", "allows no use"), (danish, "SE", "only there")):
        with pytest.raises(InvalidInput, match=why), database.transaction() as session:
            registry.grant_licence(
                session,
                admin(cmo),
                cmo_id=cmo,
                licensee_id=lab,
                uses=["train-ai"],
                territories=[territory],
                valid_from=TODAY,
                extended=True,
            )
    with database.transaction() as session:
        granted = registry.grant_licence(
            session,
            admin(danish),
            cmo_id=danish,
            licensee_id=lab,
            uses=["train-ai"],
            territories=["DK"],
            valid_from=TODAY,
            extended=True,
        )
    assert granted.extended


def test_a_denial_cites_the_cmo_wide_reservation(database: Database, world: World) -> None:
    """SACEM-style: a CMO reserves AI uses for its whole repertoire."""
    french = world.cmo("FR-CMO", "FR")
    lab = world.licensee("Lab")
    member, outsider = world.performer("Member"), world.performer("Outsider")
    world.mandate(member, french, territories=("WW",), uses=("train-ai", "search-index"))
    recording = world.recording(member, outsider)
    with database.transaction() as session:
        reservation = prohibit(
            session,
            admin(french),
            scope="cmo",
            scope_id=french,
            uses=["train-ai", "search-index"],
        )
    for use in ("search-index", "train-genai"):
        denied = ask(database, lab, recording, use=use, territory="FR")
        assert denied.outcome == "deny"
        assert denied.rule_ids == [reservation.id]
        assert f"rule {reservation.id}" in denied.reason


def test_pending_mandates_give_no_authority(database: Database, two_cmos: dict[str, int]) -> None:
    with database.transaction() as session:
        pending = registry.add_mandate(
            session,
            admin(two_cmos["Y"]),
            performer_id=two_cmos["ana"],
            cmo_id=two_cmos["Y"],
            territories=["IS"],
            uses=["generate-derivative"],
            valid_from=TODAY,
        )
    with pytest.raises(Forbidden, match="no mandate"), database.transaction() as session:
        prohibit(
            session,
            admin(two_cmos["Y"]),
            scope="performer",
            scope_id=two_cmos["ana"],
            uses=["generate-derivative"],
            territories=["IS"],
        )
    with database.reader() as session:
        row = session.get(Mandate, pending.id)
        assert row is not None and row.status == "pending"

"""A performer's consent through its CMO: the performer asks, the CMO's admin applies (the
rule is the CMO's act, within its mandate, audited and logged) or declines with a reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sostenuto import consent, declarations
from sostenuto.auth import Principal
from sostenuto.errors import Conflict, Forbidden, InvalidInput, NotFound
from sostenuto.registry.demo import load_demo
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.audit import AuditEvent
from sostenuto.storage.models.registry import Cmo, Licensee, Performer

LUCIA = "Lucía Ferrer"  # an AIE member; AIE's mandate covers five uses, worldwide
VIKTOR = "Viktor Holm"  # a non-member: no CMO represents him


def _world(database: Database) -> dict[str, int]:
    consent.forget_snapshots()
    with database.transaction() as session:
        load_demo(session)
    with database.reader() as session:
        ids = {c.code: c.id for c in session.scalars(select(Cmo))}
        for name in (LUCIA, VIKTOR):
            found = session.scalar(select(Performer.id).where(Performer.name == name))
            assert found is not None
            ids[name] = found
        aurora = session.scalar(select(Licensee.id).where(Licensee.name == "Aurora Audio Labs"))
        assert aurora is not None
        ids["aurora"] = aurora
    return ids


def _recording_of(database: Database, performer: int) -> int:
    from sostenuto.storage.models.registry import Contribution

    with database.reader() as session:
        found = session.scalar(
            select(Contribution.recording_id).where(Contribution.performer_id == performer)
        )
    assert found is not None
    return found


def test_a_request_takes_effect_only_when_the_cmo_applies_it(
    database: Database, settings: Settings
) -> None:
    ids = _world(database)
    lucia = Principal("lucia", "performer", performer_id=ids[LUCIA])
    aie = Principal("aie admin: marta", "cmo-admin", cmo_id=ids["AIE"])
    gvl = Principal("gvl admin", "cmo-admin", cmo_id=ids["GVL"])
    aurora = Principal("aurora", "licensee", licensee_id=ids["aurora"])
    recording = _recording_of(database, ids[LUCIA])

    def asked() -> str:
        consent.forget_snapshots()
        with database.transaction() as session:
            return consent.decide(
                session,
                aurora,
                licensee_id=ids["aurora"],
                recording_id=recording,
                use="fine-tune",
                territory="ES",
            ).outcome

    before = asked()
    with database.transaction() as session:
        request = consent.request_change(
            session, lucia, action="prohibit", uses=["fine-tune"], note="not for fine-tuning"
        )
    assert request.status == "pending" and request.cmo_id == ids["AIE"]
    assert asked() == before  # nothing changes until the CMO acts

    # Another CMO does not see it; a licensee may not decide it.
    with pytest.raises(NotFound), database.transaction() as session:
        consent.apply_request(session, gvl, request.id)
    with pytest.raises(Forbidden), database.transaction() as session:
        consent.apply_request(session, aurora, request.id)
    with database.reader() as session:
        assert consent.get_request(session, aie, request.id) == request
        assert consent.get_request(session, lucia, request.id) == request
        with pytest.raises(NotFound):
            consent.get_request(session, gvl, request.id)
        assert consent.list_requests(session, gvl) == []
        assert [r.id for r in consent.list_requests(session, aie, status="pending")] == [request.id]

    with database.transaction() as session:
        applied, rule = consent.apply_request(session, aie, request.id)
    assert applied.status == "applied" and applied.decided_by == aie.name
    assert rule.cmo_id == ids["AIE"] and rule.scope == "performer" and rule.effect == "prohibit"
    assert applied.result_rule_id == rule.id
    receipt = declarations.publish_rule_change(database, settings, aie, rule)
    assert receipt is not None  # a reservation for every licensee is public record
    assert asked() == "deny"
    with database.reader() as session:
        trail = [
            (e.action, e.actor)
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.entity_type == "consent_request")
            )
        ]
    assert trail == [("create", "lucia"), ("consent-request.applied", aie.name)]
    with pytest.raises(Conflict), database.transaction() as session:
        consent.apply_request(session, aie, request.id)

    # Lifting it again goes the same way: asked by her, applied by the CMO.
    with database.transaction() as session:
        lift = consent.request_change(session, lucia, action="revoke", rule_id=rule.id)
    with database.transaction() as session:
        _, lifted = consent.apply_request(session, aie, lift.id)
    assert lifted.id == rule.id and lifted.revoked_from is not None
    assert asked() == before


def test_the_mandate_bounds_what_the_cmo_may_apply(database: Database) -> None:
    ids = _world(database)
    lucia = Principal("lucia", "performer", performer_id=ids[LUCIA])
    aie = Principal("aie admin", "cmo-admin", cmo_id=ids["AIE"])
    with database.transaction() as session:
        outside = consent.request_change(
            session, lucia, action="permit", uses=["style-imitation"], territories=["ES"]
        )
    with pytest.raises(Forbidden, match="style-imitation"), database.transaction() as session:
        consent.apply_request(session, aie, outside.id)
    with database.transaction() as session:
        declined = consent.decline_request(
            session, aie, outside.id, reason="your mandate does not entrust style-imitation"
        )
    assert declined.status == "declined" and "mandate" in (declined.reason or "")
    with database.reader() as session:
        (mine,) = consent.list_requests(session, lucia)
    assert mine.status == "declined" and mine.reason == declined.reason
    with pytest.raises(InvalidInput, match="says why"), database.transaction() as session:
        consent.decline_request(session, aie, outside.id, reason=" ")


def test_who_may_ask_and_for_what(database: Database) -> None:
    ids = _world(database)
    lucia = Principal("lucia", "performer", performer_id=ids[LUCIA])
    viktor = Principal("viktor", "performer", performer_id=ids[VIKTOR])
    aie = Principal("aie admin", "cmo-admin", cmo_id=ids["AIE"])
    no_cmo = pytest.raises(InvalidInput, match="no CMO holds an active mandate")
    with no_cmo, database.transaction() as session:
        consent.request_change(session, viktor, action="prohibit", uses=["train-ai"])
    with pytest.raises(Forbidden), database.transaction() as session:
        consent.request_change(session, aie, action="prohibit", uses=["train-ai"])
    with pytest.raises(InvalidInput, match="unknown use"), database.transaction() as session:
        consent.request_change(session, lucia, action="prohibit", uses=["sing-along"])
    not_hers = pytest.raises(InvalidInput, match="holds no active mandate")
    with not_hers, database.transaction() as session:
        consent.request_change(
            session, lucia, action="prohibit", uses=["train-ai"], cmo_id=ids["GVL"]
        )
    with pytest.raises(NotFound), database.transaction() as session:
        # A rule about someone else cannot be asked away.
        consent.request_change(session, lucia, action="revoke", rule_id=999_999)
    with database.reader() as session:
        assert consent.list_requests(session, lucia) == []  # nothing half-stored

"""The performer role: a token bound to one performer, issued by its CMO, that reads its own
reservations and the decisions on its recordings, revokes the rules that concern it, and
nothing else."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sostenuto.api import create_app
from sostenuto.auth import Principal, authenticate, issue_token
from sostenuto.consent import decide, forget_snapshots
from sostenuto.errors import Forbidden
from sostenuto.registry.demo import load_demo
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.audit import AuditEvent
from sostenuto.storage.models.consent import ConsentRule
from sostenuto.storage.models.registry import Cmo, Contribution, Licensee, Mandate


@dataclass
class Seeded:
    client: TestClient
    tokens: dict[str, str]
    rule: int  # a reservation of performer "own", made for one licensee
    decision: str  # a decision on a recording "own" contributed to
    own: int
    other: int


def _member(database: Database, code: str) -> tuple[int, int, int]:
    """(cmo id, a performer with an active mandate and a contribution, its recording)."""
    with database.reader() as session:
        cmo_id = session.scalar(select(Cmo.id).where(Cmo.code == code))
        row = session.execute(
            select(Mandate.performer_id, Contribution.recording_id)
            .join(Contribution, Contribution.performer_id == Mandate.performer_id)
            .where(Mandate.cmo_id == cmo_id, Mandate.status == "active")
            .order_by(Mandate.id)
        ).first()
    assert cmo_id is not None and row is not None
    return cmo_id, row[0], row[1]


@pytest.fixture
def seeded(database: Database, settings: Settings) -> Seeded:
    forget_snapshots()
    with database.transaction() as session:
        demo = load_demo(session)
    cmo_x, own, recording = _member(database, "AIE")
    _, other, _ = _member(database, "GVL")
    assert own != other
    with database.transaction() as session:
        licensee = session.scalar(select(Licensee).where(Licensee.name == "Aurora Audio Labs"))
        assert licensee is not None
        licensee_id, territory = licensee.id, "ES"
        rule = ConsentRule(
            effect="prohibit",
            scope_kind="performer",
            scope_id=own,
            licensee_id=licensee_id,
            uses=["voice-clone"],
            territories=["WW"],
            valid_from=dt.date(2025, 1, 1),
            conditions=[],
            source="cmo",
            note="private reservation of the performer",
            created_by="test",
            cmo_id=cmo_x,
        )
        session.add(rule)
        session.flush()
        rule_id = rule.id
        admin = Principal("aie admin", "cmo-admin", cmo_id=cmo_x)
        tokens = {
            "own": issue_token(
                session, role="performer", label="own", performer_id=own, issuer=admin
            ),
            "other": issue_token(session, role="performer", label="other", performer_id=other),
            "licensee": demo["licensee:Aurora Audio Labs"],
        }
    forget_snapshots()
    with database.transaction() as session:
        asker = Principal("aurora", "licensee", licensee_id=licensee_id)
        result = decide(
            session,
            asker,
            licensee_id=licensee_id,
            recording_id=recording,
            use="train-genai",
            territory=territory,
        )
    client = TestClient(create_app(settings, database), raise_server_exceptions=False)
    return Seeded(client, tokens, rule_id, result.id, own, other)


def _as(seeded: Seeded, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {seeded.tokens[who]}"}


def test_a_performer_token_is_bound_to_its_performer(seeded: Seeded, database: Database) -> None:
    with database.reader() as session:
        principal = authenticate(session, seeded.tokens["own"])
    assert principal.role == "performer"
    assert principal.performer_id == seeded.own
    assert principal.cmo_id is None and principal.licensee_id is None


def test_only_a_cmo_holding_the_mandate_issues_a_performer_token(
    seeded: Seeded, database: Database
) -> None:
    with database.transaction() as session:
        gvl = session.scalar(select(Cmo.id).where(Cmo.code == "GVL"))
        rival = Principal("gvl admin", "cmo-admin", cmo_id=gvl)
        with pytest.raises(Forbidden, match="no active mandate"):
            issue_token(session, role="performer", label="x", performer_id=seeded.own, issuer=rival)
        with pytest.raises(Forbidden):
            issue_token(
                session,
                role="performer",
                label="x",
                performer_id=seeded.own,
                issuer=Principal("lic", "licensee", licensee_id=1),
            )
        # A CMO admin issues nothing but performer tokens.
        with pytest.raises(Forbidden, match="local operator"):
            issue_token(session, role="auditor", label="x", issuer=rival)


def test_a_performer_reads_its_own_reservations_only(seeded: Seeded) -> None:
    mine = seeded.client.get("/api/v1/consent/rules", headers=_as(seeded, "own"))
    assert mine.status_code == 200
    assert seeded.rule in [rule["id"] for rule in mine.json()]
    theirs = seeded.client.get("/api/v1/consent/rules", headers=_as(seeded, "other"))
    assert theirs.status_code == 200
    assert seeded.rule not in [rule["id"] for rule in theirs.json()]
    assert all(rule["licensee_id"] is None for rule in theirs.json())


def test_a_performer_reads_decisions_on_its_recordings_only(seeded: Seeded) -> None:
    path = f"/api/v1/consent/decisions/{seeded.decision}"
    assert seeded.client.get(path, headers=_as(seeded, "own")).status_code == 200
    assert seeded.client.get(path, headers=_as(seeded, "other")).status_code == 404
    # The listing: the performer's own recordings' decisions, whichever licensee asked.
    listed = {
        who: seeded.client.get("/api/v1/consent/decisions", headers=_as(seeded, who))
        for who in ("own", "other")
    }
    assert all(answer.status_code == 200 for answer in listed.values())
    assert [d["id"] for d in listed["own"].json()["items"]] == [seeded.decision]
    assert listed["other"].json()["items"] == []


def test_a_performer_revokes_its_own_rule_audited(seeded: Seeded, database: Database) -> None:
    path = f"/api/v1/consent/rules/{seeded.rule}/revoke"
    refused = seeded.client.post(path, json={}, headers=_as(seeded, "other"))
    assert refused.status_code == 403, refused.text
    done = seeded.client.post(path, json={}, headers=_as(seeded, "own"))
    assert done.status_code == 200, done.text
    assert done.json()["revoked_from"] is not None
    with database.reader() as session:
        event = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "consent_rule", AuditEvent.actor_role == "performer")
            .order_by(AuditEvent.id.desc())
        ).first()
    assert event is not None and event.entity_id == str(seeded.rule)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/consent/rules/permit"),
        ("POST", "/api/v1/consent/rules/prohibit"),
        ("POST", "/api/v1/consent/rules/opt-out"),
        ("POST", "/api/v1/consent/decisions"),
        ("POST", "/api/v1/registry/licensees"),
        ("GET", "/api/v1/registry/audit"),
    ],
)
def test_a_performer_writes_nothing_else(seeded: Seeded, method: str, path: str) -> None:
    response = seeded.client.request(method, path, json={}, headers=_as(seeded, "own"))
    assert response.status_code == 403, response.text

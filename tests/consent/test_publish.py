"""Consent rule changes go into the public transparency log, and only public ones do."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from fastapi.testclient import TestClient

from sostenuto import consent, declarations
from sostenuto.api import create_app
from sostenuto.auth import OPERATOR, issue_token
from sostenuto.errors import Forbidden, InvalidInput
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency import declare, read_entries
from tests.consent.conftest import World, admin

pytestmark = pytest.mark.usefixtures("history_clock")


def _payload(database: Database, index: int) -> dict[str, object]:
    body = orjson.loads(read_entries(database, index, 1)[0])
    assert body["type"] == "consent-change"
    payload: dict[str, object] = body["payload"]
    return payload


@pytest.fixture
def cast(world: World) -> dict[str, int]:
    ids = {"A": world.cmo("A", "ES"), "B": world.cmo("B", "FR"), "L": world.licensee("Lab")}
    ids["ana"] = world.performer("Ana")
    world.mandate(ids["ana"], ids["A"])
    ids["song"] = world.recording(ids["ana"], cmo=ids["A"])
    return ids


def test_opt_out_and_its_revocation_are_declared(
    database: Database, settings: Settings, cast: dict[str, int]
) -> None:
    cmo = admin(cast["A"])
    with database.transaction() as session:
        rule = consent.opt_out(session, cmo, performer_id=cast["ana"], uses=["train-genai"])
    made = declarations.publish_rule_change(database, settings, cmo, rule)
    assert made is not None and made.new
    payload = _payload(database, made.index)
    assert payload == {
        "cmo_id": cast["A"],
        "change": "opt-out",
        "scope": "performer",
        "performer_id": cast["ana"],
        "uses": ["train-genai"],
        "territories": ["WW"],
        "effective_on": rule.valid_from.isoformat(),
        "rule_id": rule.id,
    }
    # Publishing the same state again names the same entry: a retry is harmless.
    again = declarations.publish_rule(database, settings, cmo, rule.id)
    assert (again.entry_id, again.new) == (made.entry_id, False)

    later = dt.date.today() + dt.timedelta(days=30)
    with database.transaction() as session:
        revoked = consent.revoke_rule(session, cmo, rule.id, effective_from=later)
    lifted = declarations.publish_rule_change(database, settings, cmo, revoked)
    assert lifted is not None and lifted.index == made.index + 1
    assert _payload(database, lifted.index)["change"] == "opt-in"
    assert _payload(database, lifted.index)["effective_on"] == later.isoformat()


def test_grants_revocations_and_repertoire_rules(
    database: Database, settings: Settings, cast: dict[str, int]
) -> None:
    cmo = admin(cast["A"])
    with database.transaction() as session:
        grant = consent.permit(
            session, cmo, scope="recording", scope_id=cast["song"], uses=["train-genai"]
        )
        whole = consent.prohibit(session, cmo, scope="cmo", scope_id=cast["A"], uses=["train-ai"])
    granted = declarations.publish_rule_change(database, settings, cmo, grant)
    assert granted is not None
    assert _payload(database, granted.index)["change"] == "grant"
    assert _payload(database, granted.index)["recording_id"] == cast["song"]
    reserved = declarations.publish_rule_change(database, settings, cmo, whole)
    assert reserved is not None
    payload = _payload(database, reserved.index)
    assert payload["scope"] == "repertoire" and payload["change"] == "opt-out"
    assert "performer_id" not in payload and "recording_id" not in payload
    with database.transaction() as session:
        ended = consent.revoke_rule(session, cmo, grant.id)
    revoked = declarations.publish_rule_change(database, settings, cmo, ended)
    assert revoked is not None and _payload(database, revoked.index)["change"] == "revoke"


def test_licensee_specific_rules_stay_private(
    database: Database, settings: Settings, cast: dict[str, int]
) -> None:
    cmo = admin(cast["A"])
    with database.transaction() as session:
        private = consent.permit(
            session,
            cmo,
            scope="performer",
            scope_id=cast["ana"],
            uses=["voice-clone"],
            licensee_id=cast["L"],
        )
    assert declarations.publish_rule_change(database, settings, cmo, private) is None
    with pytest.raises(InvalidInput, match="private"):
        declarations.publish_rule(database, settings, cmo, private.id)


def test_only_the_representing_cmo_speaks_for_a_rule(
    database: Database, settings: Settings, cast: dict[str, int]
) -> None:
    with database.transaction() as session:
        rule = consent.opt_out(session, admin(cast["A"]), performer_id=cast["ana"])
    with pytest.raises(Forbidden, match="recorded by CMO"):
        declarations.publish_rule(database, settings, admin(cast["B"]), rule.id)
    # The operator publishes on behalf of the CMO that represents the performer.
    receipt = declarations.publish_rule(database, settings, OPERATOR, rule.id)
    assert _payload(database, receipt.index)["cmo_id"] == cast["A"]


def test_a_change_must_say_what_it_covers(
    database: Database, settings: Settings, cast: dict[str, int]
) -> None:
    base = {"cmo_id": cast["A"], "change": "opt-out", "uses": ["train-ai"]}
    base["effective_on"] = "2026-01-01"
    cmo = admin(cast["A"])
    with pytest.raises(InvalidInput, match="names a performer_id or a recording_id"):
        declare(database, settings, cmo, "consent-change", base)
    with pytest.raises(InvalidInput, match="names no performer"):
        declare(
            database,
            settings,
            cmo,
            "consent-change",
            {**base, "scope": "repertoire", "performer_id": cast["ana"]},
        )
    with pytest.raises(InvalidInput, match="needs a recording_id"):
        declare(
            database,
            settings,
            cmo,
            "consent-change",
            {**base, "scope": "recording", "performer_id": cast["ana"]},
        )


def test_http_rule_changes_carry_their_log_entry(
    database: Database, settings: Settings, cast: dict[str, int]
) -> None:
    with database.transaction() as session:
        token = issue_token(session, role="cmo-admin", label="A", cmo_id=cast["A"])
    client = TestClient(create_app(settings, database))
    headers = {"Authorization": f"Bearer {token}"}
    made = client.post(
        "/api/v1/consent/rules/opt-out",
        json={"performer_id": cast["ana"], "uses": ["train-genai"]},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    entry = made.json()["log_entry"]
    assert entry["new"] is True
    assert _payload(database, entry["index"])["performer_id"] == cast["ana"]
    again = client.post(f"/api/v1/consent/rules/{made.json()['id']}/publish", headers=headers)
    assert again.status_code == 200
    assert again.json() == {**entry, "new": False}
    assert entry["tree_size"] == entry["index"] + 1
    private = client.post(
        "/api/v1/consent/rules/permit",
        json={
            "scope": "performer",
            "scope_id": cast["ana"],
            "uses": ["voice-clone"],
            "licensee_id": cast["L"],
        },
        headers=headers,
    )
    assert private.status_code == 201 and private.json()["log_entry"] is None

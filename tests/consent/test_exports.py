"""Exports of reservations: ODRL 2.2, TDMRep and AIPREF strings."""

from __future__ import annotations

import datetime as dt

import pytest

from sostenuto.consent import export_reservations, opt_out, permit, prohibit, revoke_rule
from sostenuto.errors import InvalidInput, NotFound
from sostenuto.storage import Database
from tests.consent.conftest import World, admin

pytestmark = pytest.mark.usefixtures("history_clock")


@pytest.fixture
def reserved(database: Database) -> dict[str, int]:
    world = World(database)
    ids = {"A": world.cmo("A", "ES"), "L1": world.licensee("Lab")}
    ids["p1"], ids["p2"] = world.performer("Ana"), world.performer("Bea")
    world.mandate(ids["p1"], ids["A"])
    ids["r1"] = world.recording(ids["p1"], cmo=ids["A"])
    start = dt.date(2025, 1, 1)
    with database.transaction() as session:
        ids["cmo_rule"] = prohibit(
            session,
            admin(ids["A"]),
            scope="cmo",
            scope_id=ids["A"],
            uses=["voice-clone"],
            territories=["ES", "FR"],
            valid_from=start,
        ).id
        ids["opt_out"] = opt_out(
            session,
            admin(ids["A"]),
            performer_id=ids["p1"],
            uses=["train-ai", "search-index"],
            valid_from=start,
        ).id
        ids["rec_rule"] = permit(
            session,
            admin(ids["A"]),
            scope="recording",
            scope_id=ids["r1"],
            uses=["style-imitation"],
            conditions=["attribution", "remuneration"],
            valid_from=start,
            valid_to=dt.date(2030, 1, 1),
        ).id
        # Rules for one licensee and revoked rules are not part of the public record.
        prohibit(
            session,
            admin(ids["A"]),
            scope="cmo",
            scope_id=ids["A"],
            uses=["fine-tune"],
            licensee_id=ids["L1"],
            valid_from=start,
        )
        gone = prohibit(
            session,
            admin(ids["A"]),
            scope="cmo",
            scope_id=ids["A"],
            uses=["generate-derivative"],
            valid_from=start,
        )
        revoke_rule(session, admin(ids["A"]), gone.id)
    return ids  # fmt: skip


def test_odrl_policy(database: Database, reserved: dict[str, int]) -> None:
    with database.reader() as session:
        policy = export_reservations(session, format="odrl", cmo_id=reserved["A"])
    assert policy["@context"][0] == "http://www.w3.org/ns/odrl.jsonld"
    assert policy["@type"] == "Set" and policy["profile"].startswith("https://sostenuto.dev/")
    assert policy["conflict"] == "prohibit"  # else overlapping rules would void the policy
    prohibitions = {p["uid"].rsplit("/", 1)[1]: p for p in policy["prohibition"]}
    assert set(prohibitions) == {str(reserved["cmo_rule"]), str(reserved["opt_out"])}
    cmo_rule = prohibitions[str(reserved["cmo_rule"])]
    assert cmo_rule["action"] == ["sos:voice-clone"]
    assert cmo_rule["target"]["@type"] == "odrl:AssetCollection"
    spatial = [c for c in cmo_rule["constraint"] if c["leftOperand"] == "spatial"]
    assert spatial == [
        {
            "leftOperand": "spatial",
            "operator": "isAnyOf",
            "rightOperand": [{"@id": "urn:iso:3166:ESP"}, {"@id": "urn:iso:3166:FRA"}],
        }
    ]
    (permission,) = policy["permission"]
    assert permission["target"].startswith("urn:isrc:ESA01")
    assert {d["action"] for d in permission["duty"]} == {"attribute", "compensate"}
    dates = [c for c in permission["constraint"] if c["leftOperand"] == "dateTime"]
    assert [(c["operator"], c["rightOperand"]["@value"]) for c in dates] == [
        ("gteq", "2025-01-01"), ("lteq", "2030-01-01"),
    ]  # fmt: skip


def test_tdmrep_and_aipref(database: Database, reserved: dict[str, int]) -> None:
    with database.reader() as session:
        tdm = export_reservations(session, format="tdmrep", performer_id=reserved["p1"])
        aipref = export_reservations(session, format="aipref", performer_id=reserved["p1"])
        nothing = export_reservations(session, format="aipref", performer_id=reserved["p2"])
    (entry,) = tdm["tdmrep"]  # r1 is p1's one recording; p1 reserves train-ai
    assert entry["location"].startswith("/recordings/ESA01")
    assert entry["tdm-reservation"] == 1 and entry["tdm-policy"] == tdm["policy"]["uid"]
    assert tdm["policy"]["profile"] == "http://www.w3.org/ns/tdmrep"
    assert tdm["policy"]["permission"][0]["action"] == "tdm:mine"
    assert tdm["policy"]["permission"][0]["duty"] == [{"action": "obtainConsent"}]
    strings = {p["content_usage"] for p in aipref["preferences"]}
    assert "train-ai=n, search=n" in strings
    # A refusal of voice cloning is said as the broader train-ai=n, and the export says so.
    (voice,) = [p for p in aipref["preferences"] if p["territories"] == ["ES", "FR"]]
    assert voice["content_usage"] == "train-ai=n"
    assert {n["use"] for n in voice["not_expressed"]} == {"voice-clone"}
    # A permission with duties is no unconditional yes: unknown, and pointed to the ODRL policy.
    (conditional,) = [p for p in aipref["preferences"] if p["target"].startswith("urn:isrc:")]
    assert conditional["content_usage"] == ""
    (note,) = conditional["not_expressed"]
    assert "conditions" in note["why"] and note["see"].endswith("format=odrl")
    (page,) = aipref["pages"]
    assert page["content_usage"] == "train-ai=n, search=n"
    assert nothing["preferences"] == [] and nothing["pages"] == []


def test_export_errors(database: Database, reserved: dict[str, int]) -> None:
    with database.reader() as session:
        with pytest.raises(InvalidInput):
            export_reservations(session, format="xml", cmo_id=reserved["A"])
        with pytest.raises(InvalidInput):
            export_reservations(session, format="odrl")
        with pytest.raises(NotFound):
            export_reservations(session, format="odrl", cmo_id=999)

"""TDMRep: the well-known file's shape and the TDM policy read with the published contexts."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from rdflib import RDF, URIRef
from rdflib.namespace import ODRL2

from sostenuto.api import create_app
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.standards.conftest import Catalogue, rdf

pytestmark = pytest.mark.usefixtures("history_clock")
TDM_MINE = URIRef("http://www.w3.org/ns/tdmrep#mine")


def test_well_known_and_policy(
    settings: Settings, database: Database, catalogue: Catalogue
) -> None:
    client = TestClient(create_app(settings, database), base_url="https://catalogue.example")
    entries = client.get("/.well-known/tdmrep.json").json()
    # "This file contains an array of JSON objects" with exactly the three properties.
    assert isinstance(entries, list) and entries
    assert all(set(e) == {"location", "tdm-reservation", "tdm-policy"} for e in entries)
    assert {e["tdm-reservation"] for e in entries} == {1}
    assert all(e["location"].startswith("/recordings/") for e in entries)
    assert entries == client.get(f"/api/v1/standards/cmos/{catalogue.cmo}/tdmrep.json").json()
    reserved = {e["location"].removeprefix("/recordings/") for e in entries}
    expected = {
        i for p in (*catalogue.refusing.values(), catalogue.paid) for i in catalogue.recordings[p]
    }
    assert reserved == expected  # the free performer's own recordings are not reserved
    (url,) = {e["tdm-policy"] for e in entries}
    assert url.startswith("https://catalogue.example/api/v1/standards/cmos/")
    response = client.get(url)
    assert response.headers["content-type"].startswith("application/ld+json")
    policy = response.json()
    # Required shape (Expressing a TDM Policy).
    assert policy["@context"] == [
        "http://www.w3.org/ns/odrl.jsonld",
        "http://www.w3.org/ns/tdmrep.jsonld",
    ]
    assert policy["@type"] == "Offer" and policy["profile"] == "http://www.w3.org/ns/tdmrep"
    assert policy["uid"] == url
    vcard = {"fn", "nickname", "hasEmail", "hasAddress", "hasTelephone", "hasURL"}
    assert set(policy["assigner"]) <= {"uid"} | {f"vcard:{name}" for name in vcard}
    assert policy["assigner"]["vcard:fn"] == "CMO A"
    assert "prohibition" not in policy and "obligation" not in policy
    # Read as RDF with the two published contexts.
    graph = rdf(policy)
    (offer,) = graph.subjects(RDF.type, ODRL2.Offer)
    assert (offer, ODRL2.profile, URIRef("http://www.w3.org/ns/tdmrep")) in graph
    permissions = list(graph.objects(offer, ODRL2.permission))
    assert len(permissions) == len(entries)
    duties_by_target = {}
    for permission in permissions:
        assert (permission, ODRL2.action, TDM_MINE) in graph
        (target,) = graph.objects(permission, ODRL2.target)
        duties_by_target[str(target)] = {
            graph.value(duty, ODRL2.action) for duty in graph.objects(permission, ODRL2.duty)
        }
    paid = catalogue.recordings[catalogue.paid][0]
    refused = catalogue.recordings[catalogue.refusing["fine-tune"]][0]
    assert duties_by_target[f"urn:isrc:{paid}"] == {ODRL2.compensate}
    assert duties_by_target[f"urn:isrc:{refused}"] == {ODRL2.obtainConsent}

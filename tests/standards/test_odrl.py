"""The ODRL export read as RDF with the published ODRL 2.2 context, checked against the
ODRL 2.2 vocabulary and the ``sos:`` profile that ``sostenuto serve`` publishes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import ODRL2, XSD

from sostenuto.api import create_app
from sostenuto.consent import export_reservations, prohibit
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.consent.conftest import admin
from tests.standards.conftest import Catalogue, rdf

pytestmark = pytest.mark.usefixtures("history_clock")
ODRL = "http://www.w3.org/ns/odrl/2/"
PROFILE = URIRef("https://sostenuto.dev/odrl/profile/v1")


def _odrl_term(term: URIRef) -> bool:
    """True when ``term`` is defined by ODRL 2.2 (rdflib's ODRL2 namespace is closed)."""
    return hasattr(ODRL2, str(term)[len(ODRL) :])


@pytest.fixture
def profile(settings: Settings, database: Database) -> Graph:
    client = TestClient(create_app(settings, database))
    response = client.get("/odrl/profile/v1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    graph = Graph()
    graph.parse(data=response.text, format="json-ld")
    return graph


def test_profile_actions_are_included_in_odrl_use(profile: Graph) -> None:
    actions = set(profile.subjects(RDF.type, ODRL2.Action))
    assert {str(a).rsplit("#", 1)[1] for a in actions} >= {"train-genai", "voice-clone", "label"}
    for action in actions:
        chain, current = [action], action
        while not str(current).startswith(ODRL):  # follow includedIn up to an ODRL action
            parents = list(profile.objects(current, ODRL2.includedIn))
            assert len(parents) == 1, f"{current} needs exactly one includedIn"
            current = parents[0]
            assert current not in chain, f"includedIn cycle at {current}"
            chain.append(current)
        assert current == ODRL2.use, chain


def test_odrl_export_is_valid_odrl(
    database: Database, catalogue: Catalogue, profile: Graph
) -> None:
    with database.transaction() as session:
        prohibit(session, admin(catalogue.cmo), scope="cmo", scope_id=catalogue.cmo,
                 uses=["generate-derivative"], territories=["ES", "SE"],
                 valid_from=dt.date(2025, 1, 1))  # fmt: skip
    with database.reader() as session:
        document = export_reservations(session, format="odrl", cmo_id=catalogue.cmo)
    graph = rdf(document)
    (policy,) = graph.subjects(RDF.type, ODRL2.Set)
    assert (policy, ODRL2.conflict, ODRL2.prohibit) in graph
    assert (policy, ODRL2.profile, PROFILE) in graph
    # Every ODRL term the export uses is one the ODRL 2.2 vocabulary defines.
    for triple in graph:
        for term in triple:
            if isinstance(term, URIRef) and str(term).startswith(ODRL):
                assert _odrl_term(term), f"{term} is not an ODRL 2.2 term"
    # Every action is ODRL's own or one the published profile defines.
    defined = set(profile.subjects(RDF.type, ODRL2.Action))
    actions = set(graph.objects(None, ODRL2.action))
    assert actions and all(
        _odrl_term(a) if str(a).startswith(ODRL) else a in defined for a in actions
    )
    assert len(list(graph.subjects(RDF.type, ODRL2.AssetCollection))) >= 3
    # spatial takes IRIs, never bare codes; dates are xsd:date literals.
    spatial = [c for c in graph.subjects(ODRL2.leftOperand, ODRL2.spatial)]
    assert spatial
    for constraint in spatial:
        assert (constraint, ODRL2.operator, ODRL2.isAnyOf) in graph
        values = set(graph.objects(constraint, ODRL2.rightOperand))
        assert values == {URIRef("urn:iso:3166:ESP"), URIRef("urn:iso:3166:SWE")}
    for constraint in graph.subjects(ODRL2.leftOperand, ODRL2.dateTime):
        (value,) = graph.objects(constraint, ODRL2.rightOperand)
        assert isinstance(value, Literal) and value.datatype == XSD.date
    # The remunerated permission carries its duty.
    duties = {o for d in graph.objects(None, ODRL2.duty) for o in graph.objects(d, ODRL2.action)}
    assert ODRL2.compensate in duties
    assert json.dumps(document)  # plain JSON as served

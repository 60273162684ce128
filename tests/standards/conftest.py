"""Shared for the standards tests: local JSON-LD contexts and a CMO whose performers refuse."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph

from sostenuto.consent import permit, prohibit
from sostenuto.storage import Database
from tests.consent.conftest import World, admin

ARTEFACTS = Path(__file__).parent / "artefacts"
# The published context documents, by the URL a document names them with.
CONTEXTS = {
    "http://www.w3.org/ns/odrl.jsonld": ARTEFACTS / "odrl.jsonld",
    "http://www.w3.org/ns/tdmrep.jsonld": ARTEFACTS / "tdmrep.jsonld",
}


def local_contexts(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with each remote context replaced by the local copy of that document."""
    contexts = document["@context"]
    contexts = contexts if isinstance(contexts, list) else [contexts]
    resolved = [
        json.loads(CONTEXTS[item].read_text())["@context"] if isinstance(item, str) else item
        for item in contexts
    ]
    for item in contexts:
        if isinstance(item, str):
            assert item in CONTEXTS, f"unknown remote context {item}"
    return {**document, "@context": resolved}


def rdf(document: dict[str, Any]) -> Graph:
    graph = Graph()
    graph.parse(data=json.dumps(local_contexts(document)), format="json-ld")
    return graph


@dataclass
class Catalogue:
    cmo: int
    refusing: dict[str, int]  # use refused -> performer
    paid: int  # performer whose train-genai is permitted against remuneration
    free: int  # performer with no rule
    recordings: dict[int, list[str]]  # performer -> ISRCs of their recordings


@pytest.fixture
def catalogue(database: Database) -> Catalogue:
    """CMO "A": three performers refuse train-genai, fine-tune and voice-clone; one permits
    train-genai against remuneration; one says nothing. Two recordings each, one shared."""
    world = World(database)
    cmo = world.cmo("A", "ES")
    refusing = {
        use: world.performer(f"Refuses {use}")
        for use in ("train-genai", "fine-tune", "voice-clone")
    }
    paid, free = world.performer("Paid"), world.performer("Free")
    performers = [*refusing.values(), paid, free]
    for performer in performers:
        world.mandate(performer, cmo)
    recordings: dict[int, list[int]] = {p: [] for p in performers}
    for performer in performers:
        for _ in range(2):
            recordings[performer].append(world.recording(performer, cmo=cmo))
    shared = world.recording(refusing["voice-clone"], free, cmo=cmo)
    recordings[refusing["voice-clone"]].append(shared)
    recordings[free].append(shared)
    start = dt.date(2025, 1, 1)
    with database.transaction() as session:
        for use, performer in refusing.items():
            prohibit(session, admin(cmo), scope="performer", scope_id=performer, uses=[use],
                     valid_from=start)  # fmt: skip
        permit(session, admin(cmo), scope="performer", scope_id=paid, uses=["train-genai"],
               conditions=["remuneration"], valid_from=start)  # fmt: skip
    with database.reader() as session:
        from sostenuto.storage.models.registry import Recording

        isrcs = {r.id: r.isrc for r in session.query(Recording)}
    return Catalogue(
        cmo, refusing, paid, free, {p: [isrcs[r] for r in rs] for p, rs in recordings.items()}
    )

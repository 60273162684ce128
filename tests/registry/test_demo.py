"""The demo registry loads once, stays consistent, and hands out working tokens per role."""

from __future__ import annotations

from sqlalchemy import func, select

from sostenuto.auth import authenticate
from sostenuto.registry import normalise_isni, normalise_isrc
from sostenuto.registry.demo import load_demo
from sostenuto.storage import Base, Database
from sostenuto.storage.models.consent import ConsentRule, JurisdictionRule
from sostenuto.storage.models.registry import Licence, Mandate, Performer, Recording


def _counts(database: Database) -> dict[str, int]:
    with database.reader() as session:
        return {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
            if table.name not in ("api_token", "audit_event")
        }


def test_demo_is_idempotent_and_its_tokens_work(database: Database) -> None:
    with database.transaction() as session:
        first = load_demo(session)
    counts = _counts(database)
    with database.transaction() as session:
        second = load_demo(session)
    assert _counts(database) == counts
    assert (
        set(first)
        == set(second)
        == {
            "cmo-admin:AIE",
            "cmo-admin:SAMI",
            "cmo-admin:GVL",
            "licensee:Aurora Audio Labs",
            "licensee:Cadenza Stream",
            "performer:Lucía Ferrer",
            "auditor",
            "public",
        }
    )
    assert first["auditor"] != second["auditor"]
    with database.reader() as session:
        for key, token in second.items():
            principal = authenticate(session, token)
            assert principal.role == key.split(":")[0]


def test_demo_data_is_valid_and_covers_the_walkthrough(database: Database) -> None:
    with database.transaction() as session:
        load_demo(session)
    with database.reader() as session:
        for recording in session.scalars(select(Recording)):
            assert normalise_isrc(recording.isrc) == recording.isrc
        performers = list(session.scalars(select(Performer)))
        for performer in performers:
            if performer.isni:
                assert normalise_isni(performer.isni) == performer.isni
        mandated = set(session.scalars(select(Mandate.performer_id)))
        assert len(performers) - len(mandated) == 2  # two non-members
        assert session.scalar(select(func.count()).where(Licence.extended)) == 1
        assert session.get(JurisdictionRule, "SE").extended_licensing  # type: ignore[union-attr]
        sources = {rule.source for rule in session.scalars(select(ConsentRule))}
        assert sources == {"performer", "cmo", "opt-out"}

"""A licensee's corpus and a CMO's prohibition, shared by the revocation feed's tests.

Aurora Audio Labs (demo) declares a manifest of three AIE recordings, each cited with a
stored consent decision for ``train-genai`` in Spain; Lucía Ferrer is the only performer of
the first, and no performer of the other two.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from sostenuto.auth import Principal
from sostenuto.consent import decide
from sostenuto.declarations import declare
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Cmo, Licensee, Performer, Recording

ISRCS = ("ESA7Q1900102", "ESA7Q2400002", "ESA7Q2100007")
LUCIA_ONLY = ISRCS[0]  # Luz de enero: Lucía Ferrer alone
USE, TERRITORY = "train-genai", "ES"
# Prohibitions take effect from today on: a day ahead keeps the test from racing midnight.
EFFECTIVE = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)


@dataclass(frozen=True)
class Corpus:
    licensee_id: int
    other_licensee_id: int
    cmo_id: int
    performer_id: int  # Lucía Ferrer
    recordings: dict[str, int]  # ISRC -> recording id
    hashes: dict[str, str]  # ISRC -> the declared file's sha256
    manifest_index: int
    manifest_entry: str


def declare_corpus(database: Database, settings: Settings) -> Corpus:
    """Decide and declare Aurora's three files (the demo registry is loaded)."""
    with database.reader() as session:
        aurora = session.scalar(select(Licensee.id).where(Licensee.name == "Aurora Audio Labs"))
        cadenza = session.scalar(select(Licensee.id).where(Licensee.name == "Cadenza Stream"))
        aie = session.scalar(select(Cmo.id).where(Cmo.code == "AIE"))
        lucia = session.scalar(select(Performer.id).where(Performer.name == "Lucía Ferrer"))
        recordings = {
            isrc: session.scalar(select(Recording.id).where(Recording.isrc == isrc))
            for isrc in ISRCS
        }
    assert aurora and cadenza and aie and lucia and all(recordings.values())
    asker = Principal("Aurora's pipeline", "licensee", licensee_id=aurora)
    files = []
    hashes = {}
    for number, isrc in enumerate(ISRCS, 1):
        with database.transaction() as session:
            decision = decide(
                session,
                asker,
                licensee_id=aurora,
                recording_id=recordings[isrc],
                use=USE,
                territory=TERRITORY,
            )
        assert decision.outcome == "permit", (isrc, decision.reason)
        hashes[isrc] = f"{number:064x}"
        files.append({"sha256": hashes[isrc], "isrc": isrc, "decision_id": decision.id})
    receipt = declare(
        database,
        settings,
        asker,
        "dataset-manifest",
        {"licensee_id": aurora, "name": "aurora-corpus-2026", "files": files},
    )
    return Corpus(
        aurora,
        cadenza,
        aie,
        lucia,
        {isrc: int(rid or 0) for isrc, rid in recordings.items()},
        hashes,
        receipt.index,
        receipt.entry_id,
    )

"""A small registry world for log tests: two CMOs, two licensees, models, recordings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from sostenuto.auth import OPERATOR, Principal
from sostenuto.consent import decide, forget_snapshots
from sostenuto.storage import Database
from sostenuto.storage.models.registry import (
    AiModel,
    Cmo,
    Contribution,
    Licence,
    Licensee,
    Mandate,
    Performer,
    Recording,
)


@dataclass
class World:
    cmo: int
    other_cmo: int
    licensee: int
    other_licensee: int
    model: int
    other_model: int
    recordings: list[int]
    performers: list[int]
    permits: list[str]  # decision ids permitting licensee to train on recordings[i]
    deny: str
    foreign_permit: str  # a decision taken for other_licensee

    @property
    def developer(self) -> Principal:
        return Principal(name="dev@label", role="licensee", licensee_id=self.licensee)

    @property
    def other_developer(self) -> Principal:
        return Principal(name="rival", role="licensee", licensee_id=self.other_licensee)

    @property
    def cmo_admin(self) -> Principal:
        return Principal(name="cmo-admin", role="cmo-admin", cmo_id=self.cmo)

    @property
    def auditor(self) -> Principal:
        return Principal(name="auditor", role="auditor")


def build_world(database: Database) -> World:
    forget_snapshots()
    now = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    with database.transaction() as session:
        cmos = [Cmo(code=f"C{i}", name=f"CMO {i}", country="FR") for i in range(2)]
        licensees = [Licensee(name=f"Studio {i}", kind="developer", country="DE") for i in range(2)]
        session.add_all(cmos + licensees)
        session.flush()
        models = [
            AiModel(licensee_id=licensees[i].id, name=f"tune-{i}", version="1", purpose="music")
            for i in range(2)
        ]
        performers = [Performer(name=f"Performer {i}") for i in range(3)]
        recordings = [
            Recording(isrc=f"FRZ03260000{i}", title=f"Take {i}", duration_ms=180_000)
            for i in range(4)
        ]
        session.add_all(models + performers + recordings)
        session.flush()
        for i, recording in enumerate(recordings):
            session.add(
                Contribution(
                    recording_id=recording.id,
                    performer_id=performers[i % 3].id,
                    featured=True,
                    kind="voice",
                    weight=Decimal(1),
                )
            )
        for performer in performers:
            session.add(
                Mandate(
                    performer_id=performer.id,
                    cmo_id=cmos[0].id,
                    territories=["WW"],
                    uses=["train-ai"],
                    valid_from=dt.date(2025, 1, 1),
                )
            )

        # Each CMO member is covered by a licence for generative training, not voice cloning.
        session.add_all(
            Licence(
                cmo_id=cmos[0].id,
                licensee_id=lic.id,
                uses=["train-genai"],
                territories=["WW"],
                valid_from=dt.date(2025, 1, 1),
            )
            for lic in licensees
        )
    # Decisions come from the consent service itself, as a licensee would obtain them.
    with database.transaction() as session:

        def ask(licensee: int, recording: int, use: str = "train-genai") -> str:
            return decide(
                session,
                OPERATOR,
                licensee_id=licensee,
                recording_id=recording,
                use=use,
                territory="FR",
                on_date=now.date(),
            ).id

        permits = [ask(licensees[0].id, r.id) for r in recordings]
        deny = ask(licensees[0].id, recordings[0].id, "voice-clone")
        foreign = ask(licensees[1].id, recordings[1].id)
    return World(
        cmo=cmos[0].id,
        other_cmo=cmos[1].id,
        licensee=licensees[0].id,
        other_licensee=licensees[1].id,
        model=models[0].id,
        other_model=models[1].id,
        recordings=[r.id for r in recordings],
        performers=[p.id for p in performers],
        permits=permits,
        deny=deny,
        foreign_permit=foreign,
    )


@pytest.fixture
def world(database: Database) -> World:
    return build_world(database)


def sha(seed: str) -> str:
    import hashlib

    return hashlib.sha256(seed.encode()).hexdigest()


def manifest(world: World, name: str = "corpus A", files: int = 3) -> dict[str, object]:
    return {
        "licensee_id": world.licensee,
        "model_id": world.model,
        "name": name,
        "files": [
            {
                "sha256": sha(f"{name}-{i}"),
                "recording_id": world.recordings[i],
                "decision_id": world.permits[i],
                "duration_s": 180.0,
                "collected_on": "2026-01-0" + str(i + 1),
            }
            for i in range(files)
        ],
    }

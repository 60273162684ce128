"""A small registry built row by row, for the consent tests."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from decimal import Decimal

import pytest

from sostenuto.auth import Principal
from sostenuto.storage import Database
from sostenuto.storage.models.registry import (
    Cmo,
    Contribution,
    Licence,
    Licensee,
    Mandate,
    Performer,
    ReciprocalAgreement,
    Recording,
)

DAY = dt.date(2026, 6, 1)
LONG_AGO = dt.date(2020, 1, 1)
# Broad uses whose entrustment reaches every use of the vocabulary.
EVERY_USE = ("train-ai", "style-imitation", "generate-derivative", "search-index")


class World:
    """Registry rows for a test; each call commits on its own, as registry services do."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._isrc = itertools.count(1)

    def _add(self, row: object) -> int:
        with self.database.transaction() as session:
            session.add(row)
            session.flush()
            return int(row.id)  # type: ignore[attr-defined]

    def cmo(self, code: str, country: str) -> int:
        return self._add(Cmo(code=code, name=f"CMO {code}", country=country, identifiers={}))

    def licensee(self, name: str) -> int:
        return self._add(Licensee(name=name, kind="developer", country="ES"))

    def performer(self, name: str) -> int:
        return self._add(Performer(name=name))

    def mandate(
        self,
        performer: int,
        cmo: int,
        *,
        territories: Sequence[str] = ("WW",),
        uses: Sequence[str] = EVERY_USE,
        valid_from: dt.date = LONG_AGO,
        valid_to: dt.date | None = None,
    ) -> int:
        return self._add(
            Mandate(
                performer_id=performer,
                cmo_id=cmo,
                territories=list(territories),
                uses=list(uses),
                valid_from=valid_from,
                valid_to=valid_to,
            )
        )

    def recording(self, *performers: int, cmo: int | None = None) -> int:
        number = next(self._isrc)
        recording = self._add(
            Recording(
                isrc=f"ESA01{26:02d}{number:05d}",
                title=f"Recording {number}",
                registered_by_cmo_id=cmo,
            )
        )
        for performer in performers:
            self._add(
                Contribution(
                    recording_id=recording,
                    performer_id=performer,
                    featured=True,
                    kind="voice",
                )
            )
        return recording

    def licence(
        self,
        cmo: int,
        licensee: int,
        *,
        uses: Sequence[str] = ("train-genai",),
        territories: Sequence[str] = ("WW",),
        valid_from: dt.date = LONG_AGO,
        valid_to: dt.date | None = None,
        status: str = "active",
        extended: bool = False,
        conditions: Sequence[str] = ("remuneration",),
    ) -> int:
        return self._add(
            Licence(
                cmo_id=cmo,
                licensee_id=licensee,
                uses=list(uses),
                territories=list(territories),
                valid_from=valid_from,
                valid_to=valid_to,
                status=status,
                extended=extended,
                conditions=list(conditions),
            )
        )

    def agreement(
        self,
        cmo: int,
        partner: int,
        *,
        territories: Sequence[str] = ("WW",),
        uses: Sequence[str] = ("train-ai",),
    ) -> int:
        return self._add(
            ReciprocalAgreement(
                cmo_id=cmo,
                partner_cmo_id=partner,
                territories=list(territories),
                uses=list(uses),
                admin_fee=Decimal("0.1"),
                valid_from=LONG_AGO,
            )
        )


@pytest.fixture
def world(database: Database) -> World:
    return World(database)


def admin(cmo: int) -> Principal:
    return Principal(name=f"admin-of-{cmo}", role="cmo-admin", cmo_id=cmo)


def licensee_principal(licensee: int) -> Principal:
    return Principal(name=f"licensee-{licensee}", role="licensee", licensee_id=licensee)

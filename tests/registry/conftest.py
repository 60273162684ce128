"""Two CMOs, a licensee and the principals of every role, built through the registry services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from sostenuto.auth import OPERATOR, PUBLIC, Principal
from sostenuto.registry import add_cmo, add_licensee, add_performer
from sostenuto.storage import Database

START = dt.date(2025, 1, 1)


@dataclass(frozen=True)
class Registry:
    database: Database
    aie: int  # CMO in ES
    sami: int  # CMO in SE
    licensee: int
    other_licensee: int
    performer: int  # registered by AIE
    aie_admin: Principal
    sami_admin: Principal
    licensee_caller: Principal
    other_licensee_caller: Principal
    auditor: Principal
    public: Principal = PUBLIC


@pytest.fixture
def reg(database: Database) -> Registry:
    with database.transaction() as session:
        aie = add_cmo(session, OPERATOR, code="AIE", name="AIE", country="ES").id
        sami = add_cmo(session, OPERATOR, code="SAMI", name="SAMI", country="SE").id
        licensee = add_licensee(session, OPERATOR, name="Aurora", kind="developer").id
        other = add_licensee(session, OPERATOR, name="Cadenza", kind="platform").id
        performer = add_performer(session, OPERATOR, name="Lucía Ferrer", cmo_id=aie).id
    return Registry(
        database=database,
        aie=aie,
        sami=sami,
        licensee=licensee,
        other_licensee=other,
        performer=performer,
        aie_admin=Principal("aie-admin", "cmo-admin", cmo_id=aie),
        sami_admin=Principal("sami-admin", "cmo-admin", cmo_id=sami),
        licensee_caller=Principal("aurora", "licensee", licensee_id=licensee),
        other_licensee_caller=Principal("cadenza", "licensee", licensee_id=other),
        auditor=Principal("auditor", "auditor"),
    )

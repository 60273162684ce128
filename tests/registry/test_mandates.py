"""Mandates: overlapping ones are refused whichever CMO holds them; ending one frees the slot."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from sostenuto.errors import Conflict, Forbidden, InvalidInput
from sostenuto.registry import add_mandate, end_mandate, list_mandates, show_performer
from sostenuto.storage.models.audit import AuditEvent
from sostenuto.storage.models.registry import Mandate

from .conftest import START, Registry

# These build a registry whose history starts before today: see tests/conftest.py.
pytestmark = pytest.mark.usefixtures("history_clock")


def _mandate(
    reg: Registry,
    *,
    cmo: str = "aie",
    territories: list[str] | None = None,
    uses: list[str] | None = None,
    valid_from: dt.date = START,
    valid_to: dt.date | None = None,
) -> int:
    cmo_id = reg.aie if cmo == "aie" else reg.sami
    admin = reg.aie_admin if cmo == "aie" else reg.sami_admin
    with reg.database.transaction() as session:
        return add_mandate(
            session,
            admin,
            performer_id=reg.performer,
            cmo_id=cmo_id,
            territories=territories or ["ES"],
            uses=uses or ["train-genai"],
            valid_from=valid_from,
            valid_to=valid_to,
        ).id


def _count(reg: Registry) -> int:
    with reg.database.reader() as session:
        return int(session.scalar(select(func.count()).select_from(Mandate)) or 0)


def test_overlap_with_another_cmo_is_refused_naming_the_mandate(reg: Registry) -> None:
    first = _mandate(reg, territories=["ES", "PT"], uses=["train-genai", "voice-clone"])
    with pytest.raises(Conflict) as raised:
        _mandate(reg, cmo="sami", territories=["PT"], uses=["voice-clone"])
    assert raised.value.details["existing_mandate"] == first
    assert raised.value.details["existing_cmo"] == reg.aie
    assert f"mandate {first}" in raised.value.message
    assert _count(reg) == 1


def test_worldwide_overlaps_every_territory(reg: Registry) -> None:
    _mandate(reg, territories=["SE"])
    with pytest.raises(Conflict):
        _mandate(reg, cmo="sami", territories=["WW"])
    with pytest.raises(Conflict):
        _mandate(reg, territories=["WW"], valid_from=dt.date(2030, 1, 1))


def test_disjoint_territory_use_or_period_is_accepted(reg: Registry) -> None:
    _mandate(reg, territories=["ES"], uses=["train-genai"], valid_to=dt.date(2025, 12, 31))
    _mandate(reg, cmo="sami", territories=["SE"], uses=["train-genai"])
    _mandate(reg, cmo="sami", territories=["ES"], uses=["voice-clone"])
    _mandate(
        reg, cmo="sami", territories=["ES"], uses=["train-genai"], valid_from=dt.date(2026, 1, 1)
    )
    assert _count(reg) == 4


def test_ending_a_mandate_frees_the_following_days(reg: Registry) -> None:
    first = _mandate(reg)
    with reg.database.transaction() as session:
        ended = end_mandate(session, reg.aie_admin, first, on=dt.date(2025, 6, 30))
    assert ended.valid_to == dt.date(2025, 6, 30)
    with pytest.raises(Conflict):
        _mandate(reg, cmo="sami", valid_from=dt.date(2025, 6, 30))
    _mandate(reg, cmo="sami", valid_from=dt.date(2025, 7, 1))
    with reg.database.reader() as session:
        in_force = list_mandates(
            session, reg.auditor, performer_id=reg.performer, on_date=dt.date(2025, 8, 1)
        )
    assert [m.cmo_id for m in in_force] == [reg.sami]


def test_ending_never_extends_and_never_precedes_the_start(reg: Registry) -> None:
    mandate = _mandate(reg, valid_to=dt.date(2025, 3, 31))
    for day in (dt.date(2025, 4, 1), dt.date(2024, 12, 31)):
        with pytest.raises(InvalidInput), reg.database.transaction() as session:
            end_mandate(session, reg.aie_admin, mandate, on=day)


def test_only_the_mandated_cmo_changes_a_mandate(reg: Registry) -> None:
    mandate = _mandate(reg)
    with pytest.raises(Forbidden), reg.database.transaction() as session:
        end_mandate(session, reg.sami_admin, mandate, on=dt.date(2025, 6, 1))
    with pytest.raises(Forbidden), reg.database.transaction() as session:
        add_mandate(
            session, reg.sami_admin, performer_id=reg.performer, cmo_id=reg.aie,
            territories=["FR"], uses=["train-ai"], valid_from=START,
        )  # fmt: skip
    with pytest.raises(Forbidden), reg.database.reader() as session:
        list_mandates(session, reg.licensee_caller, cmo_id=reg.aie)


def test_invalid_mandates_write_nothing(reg: Registry) -> None:
    for kwargs in (
        {"territories": ["EU"]},
        {"uses": ["karaoke"]},
        {"valid_from": dt.date(2025, 5, 1), "valid_to": dt.date(2025, 4, 1)},
    ):
        with pytest.raises(InvalidInput):
            _mandate(reg, **kwargs)  # type: ignore[arg-type]
    assert _count(reg) == 0
    with reg.database.reader() as session:
        assert session.scalar(select(func.count()).where(AuditEvent.entity_type == "mandate")) == 0


def test_a_cmo_sees_only_its_own_mandates_of_a_performer(reg: Registry) -> None:
    _mandate(reg, territories=["ES"])
    _mandate(reg, cmo="sami", territories=["SE"])
    with reg.database.reader() as session:
        seen_by_sami = show_performer(session, reg.sami_admin, reg.performer)
        seen_by_auditor = show_performer(session, reg.auditor, reg.performer)
    assert [m.cmo_id for m in seen_by_sami.mandates] == [reg.sami]
    assert {m.cmo_id for m in seen_by_auditor.mandates} == {reg.aie, reg.sami}

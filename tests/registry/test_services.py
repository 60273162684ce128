"""Registry services: role checks, atomic writes and the audit trail they leave."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from sostenuto.auth import OPERATOR
from sostenuto.errors import Conflict, Forbidden, InvalidInput, NotFound
from sostenuto.registry import (
    NewContribution,
    RecordingBasics,
    RecordingInfo,
    add_agreement,
    add_cmo,
    add_contribution,
    add_licensee,
    add_model,
    add_performer,
    add_recording,
    grant_licence,
    list_audit,
    list_cmos,
    list_licences,
    list_models,
    show_performer,
    show_recording,
    suspend_licence,
)
from sostenuto.storage.models.audit import AuditEvent
from sostenuto.storage.models.consent import JurisdictionRule
from sostenuto.storage.models.registry import Contribution, Licence, Recording

from .conftest import START, Registry

# These build a registry whose history starts before today: see tests/conftest.py.
pytestmark = pytest.mark.usefixtures("history_clock")


def _recording(reg: Registry, isrc: str = "ES-A7Q-24-00001", **extra: object) -> RecordingInfo:
    with reg.database.transaction() as session:
        return add_recording(
            session,
            reg.aie_admin,
            cmo_id=reg.aie,
            isrc=isrc,
            title="Calima",
            **extra,  # type: ignore[arg-type]
        )


def _rows(reg: Registry, table: type) -> int:
    with reg.database.reader() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_recording_is_stored_normalised_with_its_contributions(reg: Registry) -> None:
    recording = _recording(
        reg,
        isrc="es a7q 24 00001",
        duration_ms=176_200,
        fixation_year=2024,
        audio_sha256="AB" * 32,
        contributions=[NewContribution(reg.performer, True, "voice", None, "2")],
    )
    assert recording.isrc == "ESA7Q2400001"
    assert recording.audio_sha256 == "ab" * 32
    assert [(c.performer_name, c.kind, c.weight) for c in recording.contributions] == [
        ("Lucía Ferrer", "voice", "2.000000")
    ]


def test_a_bad_contribution_leaves_nothing_half_written(reg: Registry) -> None:
    before = _rows(reg, AuditEvent)
    with pytest.raises(NotFound):
        _recording(
            reg,
            contributions=[
                NewContribution(reg.performer, True, "voice"),
                NewContribution(9999, False, "instrument", "piano"),
            ],
        )
    with pytest.raises(InvalidInput):
        _recording(reg, contributions=[NewContribution(reg.performer, True, "voice", "piano")])
    with pytest.raises(InvalidInput):
        _recording(reg, contributions=[NewContribution(reg.performer, True, "voice", weight="0")])
    assert _rows(reg, Recording) == 0
    assert _rows(reg, Contribution) == 0
    assert _rows(reg, AuditEvent) == before


def test_duplicate_isrc_and_contribution_conflict(reg: Registry) -> None:
    _recording(reg)
    with pytest.raises(Conflict):
        _recording(reg, isrc="ESA7Q2400001")
    with reg.database.transaction() as session:
        add_contribution(
            session,
            reg.aie_admin,
            recording="ES-A7Q-24-00001",
            performer_id=reg.performer,
            featured=True,
            kind="voice",
        )
    with pytest.raises(Conflict), reg.database.transaction() as session:
        add_contribution(
            session,
            reg.aie_admin,
            recording="ES-A7Q-24-00001",
            performer_id=reg.performer,
            featured=False,
            kind="instrument",
            instrument="guitar",
        )


def test_a_cmo_edits_only_its_own_catalogue(reg: Registry) -> None:
    _recording(reg)
    with pytest.raises(Forbidden), reg.database.transaction() as session:
        add_recording(session, reg.sami_admin, cmo_id=reg.aie, isrc="ESA7Q2400002", title="X")
    with pytest.raises(Forbidden), reg.database.transaction() as session:
        add_contribution(
            session,
            reg.sami_admin,
            recording="ESA7Q2400001",
            performer_id=reg.performer,
            featured=False,
            kind="voice",
        )
    for caller in (reg.licensee_caller, reg.auditor, reg.public):
        with pytest.raises(Forbidden), reg.database.transaction() as session:
            add_recording(session, caller, cmo_id=reg.aie, isrc="ESA7Q2400003", title="X")


def test_public_and_licensees_see_only_recording_basics(reg: Registry) -> None:
    _recording(reg, fixation_year=2024, audio_sha256="cd" * 32)
    with reg.database.reader() as session:
        for caller in (reg.public, reg.licensee_caller, reg.sami_admin):
            assert show_recording(session, caller, "ESA7Q2400001") == RecordingBasics(
                "ESA7Q2400001", "Calima", 2024
            )
        for caller in (reg.aie_admin, reg.auditor):
            full = show_recording(session, caller, "ESA7Q2400001")
            assert isinstance(full, RecordingInfo) and full.audio_sha256 == "cd" * 32


def test_performer_visibility(reg: Registry) -> None:
    with reg.database.reader() as session:
        assert (
            show_performer(session, reg.aie_admin, reg.performer).performer.name == "Lucía Ferrer"
        )
        for caller in (reg.sami_admin, reg.licensee_caller, reg.public):
            with pytest.raises(Forbidden):
                show_performer(session, caller, reg.performer)


def test_duplicate_isni_is_a_conflict(reg: Registry) -> None:
    with reg.database.transaction() as session:
        add_performer(session, reg.aie_admin, name="Mateo Ibarra", isni="0000000218250097")
    with pytest.raises(Conflict) as raised, reg.database.transaction() as session:
        add_performer(session, reg.sami_admin, name="Someone", isni="0000 0002 1825 0097")
    assert "Mateo Ibarra" in raised.value.message


def test_only_the_operator_registers_cmos_and_everyone_reads_them(reg: Registry) -> None:
    for caller in (reg.aie_admin, reg.auditor, reg.licensee_caller, reg.public):
        with pytest.raises(Forbidden), reg.database.transaction() as session:
            add_cmo(session, caller, code="GVL", name="GVL", country="DE")
    with pytest.raises(InvalidInput), reg.database.transaction() as session:
        add_cmo(session, OPERATOR, code="GVL", name="GVL", country="WW")
    with reg.database.reader() as session:
        assert [c.code for c in list_cmos(session, reg.public)] == ["AIE", "SAMI"]


def test_agreements_are_recorded_by_the_representing_cmo(reg: Registry) -> None:
    with reg.database.transaction() as session:
        agreement = add_agreement(
            session,
            reg.aie_admin,
            cmo_id=reg.aie,
            partner_cmo_id=reg.sami,
            territories=["ES"],
            uses=["train-genai"],
            admin_fee="0.1",
            valid_from=START,
        )
    assert agreement.admin_fee == "0.1000"
    with pytest.raises(Forbidden), reg.database.transaction() as session:
        add_agreement(
            session,
            reg.sami_admin,
            cmo_id=reg.aie,
            partner_cmo_id=reg.sami,
            territories=["ES"],
            uses=["train-genai"],
            admin_fee="0.1",
            valid_from=START,
        )
    with pytest.raises(InvalidInput), reg.database.transaction() as session:
        add_agreement(
            session,
            reg.aie_admin,
            cmo_id=reg.aie,
            partner_cmo_id=reg.sami,
            territories=["ES"],
            uses=["train-genai"],
            admin_fee="1.5",
            valid_from=START,
        )


def _grant(reg: Registry, **extra: object) -> int:
    values: dict[str, object] = {
        "cmo_id": reg.sami,
        "licensee_id": reg.licensee,
        "uses": ["train-genai"],
        "territories": ["SE"],
        "valid_from": START,
    }
    values.update(extra)
    with reg.database.transaction() as session:
        return grant_licence(session, reg.sami_admin, **values).id  # type: ignore[arg-type]


def test_extended_licences_follow_the_jurisdiction_rules(reg: Registry) -> None:
    with pytest.raises(InvalidInput) as raised:
        _grant(reg, extended=True)
    assert "SE" in raised.value.message
    with reg.database.transaction() as session:
        session.add(
            JurisdictionRule(territory="SE", extended_licensing=True, ecl_uses=["train-genai"])
        )
    _grant(reg, extended=True, conditions=["remuneration"])
    with pytest.raises(InvalidInput):
        _grant(reg, extended=True, uses=["voice-clone"])
    with pytest.raises(InvalidInput):
        _grant(reg, extended=True, territories=["WW"])
    assert _rows(reg, Licence) == 1


def test_licensees_see_only_their_own_licences_and_models(reg: Registry) -> None:
    mine = _grant(reg)
    _grant(reg, licensee_id=reg.other_licensee)
    with reg.database.transaction() as session:
        add_model(
            session,
            reg.licensee_caller,
            licensee_id=reg.licensee,
            name="aurora-music",
            version="2.1",
            purpose="text-to-music",
        )
        with pytest.raises(Forbidden):
            add_model(
                session,
                reg.licensee_caller,
                licensee_id=reg.other_licensee,
                name="x",
                version="1",
                purpose="y",
            )
    with reg.database.reader() as session:
        assert [lic.id for lic in list_licences(session, reg.licensee_caller)] == [mine]
        with pytest.raises(Forbidden):
            list_licences(session, reg.licensee_caller, licensee_id=reg.other_licensee)
        with pytest.raises(Forbidden):
            list_models(session, reg.other_licensee_caller, licensee_id=reg.licensee)
        with pytest.raises(Forbidden):
            list_licences(session, reg.public)
        assert len(list_licences(session, reg.sami_admin)) == 2
        assert list_licences(session, reg.aie_admin) == []
        assert len(list_licences(session, reg.auditor)) == 2


def test_suspension_is_for_the_granting_cmo_and_audited(reg: Registry) -> None:
    licence = _grant(reg)
    with pytest.raises(Forbidden), reg.database.transaction() as session:
        suspend_licence(session, reg.aie_admin, licence)
    with reg.database.transaction() as session:
        assert suspend_licence(session, reg.sami_admin, licence).status == "suspended"
    with pytest.raises(Conflict), reg.database.transaction() as session:
        suspend_licence(session, reg.sami_admin, licence)
    with reg.database.reader() as session:
        event = list_audit(session, reg.auditor, entity_type="licence", entity_id=str(licence))[0]
    assert event.action == "suspend"
    assert event.actor == "sami-admin"
    assert event.before is not None and event.before["status"] == "active"
    assert event.after is not None and event.after["status"] == "suspended"


def test_every_change_is_audited_and_only_auditors_read_the_trail(reg: Registry) -> None:
    _recording(reg, contributions=[NewContribution(reg.performer, True, "voice")])
    with reg.database.transaction() as session:
        add_licensee(session, reg.aie_admin, name="Nova", kind="platform", country="ES")
    with reg.database.reader() as session:
        events = list_audit(session, reg.auditor)
        for caller in (reg.aie_admin, reg.licensee_caller, reg.public):
            with pytest.raises(Forbidden):
                list_audit(session, caller)
    kinds = [(e.entity_type, e.action, e.actor) for e in events]
    assert ("recording", "create", "aie-admin") in kinds
    assert ("contribution", "create", "aie-admin") in kinds
    assert ("licensee", "create", "aie-admin") in kinds
    # the fixture's own writes, by the operator
    assert ("cmo", "create", "operator") in kinds
    recording = next(e for e in events if e.entity_type == "recording")
    assert recording.before is None and recording.after is not None
    assert recording.after["isrc"] == "ESA7Q2400001"
    assert recording.at.date() <= dt.datetime.now(dt.UTC).date()

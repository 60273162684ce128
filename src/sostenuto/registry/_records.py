"""What the registry services return: plain, frozen records, never live ORM rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sostenuto.storage.models.registry import (
    AiModel,
    Cmo,
    Contribution,
    Licence,
    Licensee,
    Mandate,
    Performer,
    ReciprocalAgreement,
    Recording,
)


@dataclass(frozen=True)
class CmoInfo:
    id: int
    code: str
    name: str
    country: str
    identifiers: dict[str, Any]

    @classmethod
    def of(cls, row: Cmo) -> CmoInfo:
        return cls(row.id, row.code, row.name, row.country, dict(row.identifiers or {}))


@dataclass(frozen=True)
class AgreementInfo:
    id: int
    cmo_id: int
    partner_cmo_id: int
    territories: list[str]
    uses: list[str]
    admin_fee: str
    valid_from: dt.date
    valid_to: dt.date | None

    @classmethod
    def of(cls, row: ReciprocalAgreement) -> AgreementInfo:
        return cls(
            row.id,
            row.cmo_id,
            row.partner_cmo_id,
            list(row.territories),
            list(row.uses),
            str(row.admin_fee),
            row.valid_from,
            row.valid_to,
        )


@dataclass(frozen=True)
class PerformerInfo:
    id: int
    name: str
    isni: str | None
    ipn: str | None
    nationality: str | None
    residence: str | None
    registered_by_cmo_id: int | None

    @classmethod
    def of(cls, row: Performer) -> PerformerInfo:
        return cls(
            row.id,
            row.name,
            row.isni,
            row.ipn,
            row.nationality,
            row.residence,
            row.registered_by_cmo_id,
        )


@dataclass(frozen=True)
class MandateInfo:
    id: int
    performer_id: int
    cmo_id: int
    territories: list[str]
    uses: list[str]
    valid_from: dt.date
    valid_to: dt.date | None
    status: str = "active"  # "pending" until the performer or the other CMO confirms

    @classmethod
    def of(cls, row: Mandate) -> MandateInfo:
        return cls(
            row.id,
            row.performer_id,
            row.cmo_id,
            list(row.territories),
            list(row.uses),
            row.valid_from,
            row.valid_to,
            row.status or "active",
        )


@dataclass(frozen=True)
class PerformerDetail:
    """A performer with the mandates the caller may see."""

    performer: PerformerInfo
    mandates: list[MandateInfo]


@dataclass(frozen=True)
class ContributionInfo:
    id: int
    recording_id: int
    performer_id: int
    performer_name: str
    featured: bool
    kind: str
    instrument: str | None
    weight: str

    @classmethod
    def of(cls, row: Contribution, performer_name: str) -> ContributionInfo:
        return cls(
            row.id,
            row.recording_id,
            row.performer_id,
            performer_name,
            row.featured,
            row.kind,
            row.instrument,
            str(row.weight),
        )


@dataclass(frozen=True)
class RecordingBasics:
    """What anyone may read about a recording."""

    isrc: str
    title: str
    fixation_year: int | None


@dataclass(frozen=True)
class RecordingInfo:
    id: int
    isrc: str
    title: str
    duration_ms: int | None
    fixation_year: int | None
    audio_sha256: str | None
    registered_by_cmo_id: int | None
    contributions: list[ContributionInfo] = field(default_factory=list)

    @classmethod
    def of(cls, row: Recording, contributions: list[ContributionInfo]) -> RecordingInfo:
        return cls(
            row.id,
            row.isrc,
            row.title,
            row.duration_ms,
            row.fixation_year,
            row.audio_sha256,
            row.registered_by_cmo_id,
            contributions,
        )


@dataclass(frozen=True)
class LicenseeInfo:
    id: int
    name: str
    kind: str
    country: str | None

    @classmethod
    def of(cls, row: Licensee) -> LicenseeInfo:
        return cls(row.id, row.name, row.kind, row.country)


@dataclass(frozen=True)
class ModelInfo:
    id: int
    licensee_id: int
    name: str
    version: str
    purpose: str

    @classmethod
    def of(cls, row: AiModel) -> ModelInfo:
        return cls(row.id, row.licensee_id, row.name, row.version, row.purpose)


@dataclass(frozen=True)
class LicenceInfo:
    id: int
    cmo_id: int
    licensee_id: int
    uses: list[str]
    territories: list[str]
    valid_from: dt.date
    valid_to: dt.date | None
    tariff_ref: str | None
    status: str
    extended: bool
    conditions: list[str]
    model_id: int | None = None  # None: every model of the licensee
    suspended_from: dt.date | None = None

    @classmethod
    def of(cls, row: Licence) -> LicenceInfo:
        return cls(
            row.id,
            row.cmo_id,
            row.licensee_id,
            list(row.uses),
            list(row.territories),
            row.valid_from,
            row.valid_to,
            row.tariff_ref,
            row.status,
            row.extended,
            list(row.conditions or []),
            row.model_id,
            row.suspended_from,
        )


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    actor_role: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

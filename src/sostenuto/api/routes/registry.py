"""The registry over HTTP: CMOs, agreements, performers, mandates, recordings, licences."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, File, Query, UploadFile
from pydantic import BaseModel, Field

from sostenuto import registry
from sostenuto.api.deps import Caller, Db, SignedIn

router = APIRouter(prefix="/api/v1/registry", tags=["registry"])


class AgreementRequest(BaseModel):
    cmo_id: int
    partner_cmo_id: int
    territories: list[str] = Field(examples=[["ES"]])
    uses: list[str] = Field(examples=[["train-genai"]])
    admin_fee: Decimal = Field(examples=["0.10"])
    valid_from: dt.date
    valid_to: dt.date | None = None


class PerformerRequest(BaseModel):
    name: str
    isni: str | None = Field(default=None, examples=["0000000412345671"])
    ipn: str | None = None
    nationality: str | None = None
    residence: str | None = None
    cmo_id: int | None = None


class MandateRequest(BaseModel):
    performer_id: int
    cmo_id: int
    territories: list[str] = Field(examples=[["WW"]])
    uses: list[str] = Field(examples=[["train-genai", "voice-clone"]])
    valid_from: dt.date
    valid_to: dt.date | None = None


class EndRequest(BaseModel):
    on: dt.date


class ContributionRequest(BaseModel):
    performer_id: int
    featured: bool = False
    kind: Literal["voice", "instrument"]
    instrument: str | None = None
    weight: Decimal = Decimal(1)


class RecordingRequest(BaseModel):
    cmo_id: int
    isrc: str = Field(examples=["ES-A7Q-24-00001"])
    title: str
    duration_ms: int | None = None
    fixation_year: int | None = None
    audio_sha256: str | None = None
    contributions: list[ContributionRequest] = Field(default_factory=list)


class LicenseeRequest(BaseModel):
    name: str
    kind: Literal["developer", "platform"]
    country: str | None = None


class ModelRequest(BaseModel):
    name: str
    version: str
    purpose: str


class LicenceRequest(BaseModel):
    cmo_id: int
    licensee_id: int
    uses: list[str]
    territories: list[str]
    valid_from: dt.date
    valid_to: dt.date | None = None
    tariff_ref: str | None = None
    extended: bool = False
    conditions: list[str] = Field(default_factory=list)


class RowErrorOut(BaseModel):
    line: int
    reason: str
    record: str | None


class ImportResult(BaseModel):
    imported: int
    updated: int
    unchanged: int
    performers_created: int
    seconds: float
    recordings_per_second: float
    errors: list[RowErrorOut]


# ---------------------------------------------------------------- CMOs and agreements


@router.get("/cmos", response_model=list[registry.CmoInfo])
def list_cmos(database: Db, caller: Caller) -> list[registry.CmoInfo]:
    """Every CMO: public."""
    with database.reader() as session:
        return registry.list_cmos(session, caller)


@router.post("/agreements", response_model=registry.AgreementInfo, status_code=201)
def add_agreement(body: AgreementRequest, database: Db, caller: SignedIn) -> registry.AgreementInfo:
    """Record that ``cmo_id`` represents ``partner_cmo_id``'s members (that CMO's admin)."""
    with database.transaction() as session:
        return registry.add_agreement(session, caller, **body.model_dump())


@router.get("/cmos/{cmo_id}/agreements", response_model=list[registry.AgreementInfo])
def list_agreements(cmo_id: int, database: Db, caller: SignedIn) -> list[registry.AgreementInfo]:
    with database.reader() as session:
        return registry.list_agreements(session, caller, cmo_id=cmo_id)


# ---------------------------------------------------------------- performers and mandates


@router.post("/performers", response_model=registry.PerformerInfo, status_code=201)
def add_performer(body: PerformerRequest, database: Db, caller: SignedIn) -> registry.PerformerInfo:
    with database.transaction() as session:
        return registry.add_performer(session, caller, **body.model_dump())


@router.get("/performers/{performer_id}", response_model=registry.PerformerDetail)
def show_performer(performer_id: int, database: Db, caller: SignedIn) -> registry.PerformerDetail:
    """A performer, with the mandates the caller may see."""
    with database.reader() as session:
        return registry.show_performer(session, caller, performer_id)


@router.post("/mandates", response_model=registry.MandateInfo, status_code=201)
def add_mandate(body: MandateRequest, database: Db, caller: SignedIn) -> registry.MandateInfo:
    """Record a mandate; 409 if it overlaps another (any CMO) for a territory and a use."""
    with database.transaction() as session:
        return registry.add_mandate(session, caller, **body.model_dump())


@router.get("/mandates", response_model=list[registry.MandateInfo])
def list_mandates(
    database: Db,
    caller: SignedIn,
    cmo_id: int | None = None,
    performer_id: int | None = None,
    on_date: dt.date | None = None,
) -> list[registry.MandateInfo]:
    with database.reader() as session:
        return registry.list_mandates(
            session, caller, cmo_id=cmo_id, performer_id=performer_id, on_date=on_date
        )


@router.post("/mandates/{mandate_id}/end", response_model=registry.MandateInfo)
def end_mandate(
    mandate_id: int, body: EndRequest, database: Db, caller: SignedIn
) -> registry.MandateInfo:
    with database.transaction() as session:
        return registry.end_mandate(session, caller, mandate_id, on=body.on)


# ---------------------------------------------------------------- recordings


@router.post("/recordings", response_model=registry.RecordingInfo, status_code=201)
def add_recording(body: RecordingRequest, database: Db, caller: SignedIn) -> registry.RecordingInfo:
    """Add a recording and its contributions to a CMO's catalogue, all or nothing."""
    values = body.model_dump(exclude={"contributions"})
    contributions = [registry.NewContribution(**item.model_dump()) for item in body.contributions]
    with database.transaction() as session:
        return registry.add_recording(session, caller, contributions=contributions, **values)


@router.get("/recordings/{isrc}", response_model=registry.RecordingInfo | registry.RecordingBasics)
def show_recording(
    isrc: str, database: Db, caller: Caller
) -> registry.RecordingInfo | registry.RecordingBasics:
    """ISRC, title and year for anyone; everything for its CMO's admin and auditors."""
    with database.reader() as session:
        return registry.show_recording(session, caller, isrc)


@router.post(
    "/recordings/{isrc}/contributions", response_model=registry.ContributionInfo, status_code=201
)
def add_contribution(
    isrc: str, body: ContributionRequest, database: Db, caller: SignedIn
) -> registry.ContributionInfo:
    with database.transaction() as session:
        return registry.add_contribution(session, caller, recording=isrc, **body.model_dump())


@router.post("/imports", response_model=ImportResult)
def import_catalogue(
    database: Db,
    caller: SignedIn,
    file: UploadFile = File(description="A CSV or DDEX-style JSON catalogue."),
    cmo_id: int = Query(),
    format: Literal["csv", "ddex-json"] | None = Query(default=None),
) -> ImportResult:
    """Bulk-import a catalogue file; bad rows come back with their line and reason."""
    suffix = Path(file.filename or "catalogue").suffix
    with tempfile.TemporaryDirectory(prefix="sostenuto-import-") as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as handle:
            shutil.copyfileobj(file.file, handle)
        report = registry.import_catalogue(database, caller, path, cmo_id=cmo_id, format=format)
    return ImportResult(
        imported=report.imported,
        updated=report.updated,
        unchanged=report.unchanged,
        performers_created=report.performers_created,
        seconds=report.seconds,
        recordings_per_second=report.rate,
        errors=[RowErrorOut(line=e.line, reason=e.reason, record=e.record) for e in report.errors],
    )


# ---------------------------------------------------------------- licensees and licences


@router.post("/licensees", response_model=registry.LicenseeInfo, status_code=201)
def add_licensee(body: LicenseeRequest, database: Db, caller: SignedIn) -> registry.LicenseeInfo:
    with database.transaction() as session:
        return registry.add_licensee(session, caller, **body.model_dump())


@router.get("/licensees", response_model=list[registry.LicenseeInfo])
def list_licensees(database: Db, caller: SignedIn) -> list[registry.LicenseeInfo]:
    with database.reader() as session:
        return registry.list_licensees(session, caller)


@router.post("/licensees/{licensee_id}/models", response_model=registry.ModelInfo, status_code=201)
def add_model(
    licensee_id: int, body: ModelRequest, database: Db, caller: SignedIn
) -> registry.ModelInfo:
    """A licensee declares one of its models."""
    with database.transaction() as session:
        return registry.add_model(session, caller, licensee_id=licensee_id, **body.model_dump())


@router.get("/licensees/{licensee_id}/models", response_model=list[registry.ModelInfo])
def list_models(licensee_id: int, database: Db, caller: SignedIn) -> list[registry.ModelInfo]:
    with database.reader() as session:
        return registry.list_models(session, caller, licensee_id=licensee_id)


@router.post("/licences", response_model=registry.LicenceInfo, status_code=201)
def grant_licence(body: LicenceRequest, database: Db, caller: SignedIn) -> registry.LicenceInfo:
    """A CMO's admin grants a licence (extended ones only where jurisdiction rules allow)."""
    with database.transaction() as session:
        return registry.grant_licence(session, caller, **body.model_dump())


@router.get("/licences", response_model=list[registry.LicenceInfo])
def list_licences(
    database: Db, caller: SignedIn, cmo_id: int | None = None, licensee_id: int | None = None
) -> list[registry.LicenceInfo]:
    """A licensee sees its own licences, a CMO admin its CMO's grants, auditors all."""
    with database.reader() as session:
        return registry.list_licences(session, caller, cmo_id=cmo_id, licensee_id=licensee_id)


@router.post("/licences/{licence_id}/suspend", response_model=registry.LicenceInfo)
def suspend_licence(licence_id: int, database: Db, caller: SignedIn) -> registry.LicenceInfo:
    with database.transaction() as session:
        return registry.suspend_licence(session, caller, licence_id)


# ---------------------------------------------------------------- audit


@router.get("/audit", response_model=list[registry.AuditEntry])
def list_audit(
    database: Db,
    caller: SignedIn,
    entity_type: str | None = None,
    entity_id: str | None = None,
    limit: int = Query(default=100, ge=1, le=10_000),
) -> list[registry.AuditEntry]:
    """The audit trail, newest first (auditors)."""
    with database.reader() as session:
        return registry.list_audit(
            session, caller, entity_type=entity_type, entity_id=entity_id, limit=limit
        )

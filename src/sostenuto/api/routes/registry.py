"""The registry over HTTP: CMOs, agreements, performers, mandates, recordings, licences."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, UploadFile
from pydantic import BaseModel, Field

from sostenuto import registry
from sostenuto.api.deps import Caller, CmoAdmin, Db, LicenseeOnly, SignedIn
from sostenuto.api.params import (
    Code,
    Codes,
    Count,
    Cursor,
    Id,
    Label,
    Name,
    PageSize,
    ShortName,
    Title,
    Year,
)
from sostenuto.storage.paging import DEFAULT_LIMIT, Page

router = APIRouter(prefix="/api/v1/registry", tags=["registry"])


class AgreementRequest(BaseModel):
    cmo_id: Id
    partner_cmo_id: Id
    territories: Codes = Field(examples=[["ES"]])
    uses: Codes = Field(examples=[["train-genai"]])
    admin_fee: Decimal = Field(examples=["0.10"])
    valid_from: dt.date
    valid_to: dt.date | None = None


class PerformerRequest(BaseModel):
    name: Name
    isni: Code | None = Field(default=None, examples=["0000000412345671"])
    ipn: Code | None = None
    nationality: Code | None = None
    residence: Code | None = None
    cmo_id: Id | None = None


class MandateRequest(BaseModel):
    performer_id: Id
    cmo_id: Id
    territories: Codes = Field(examples=[["WW"]])
    uses: Codes = Field(examples=[["train-genai", "voice-clone"]])
    valid_from: dt.date
    valid_to: dt.date | None = None


class EndRequest(BaseModel):
    on: dt.date


class ContributionRequest(BaseModel):
    performer_id: Id
    featured: bool = False
    kind: Literal["voice", "instrument"]
    instrument: Label | None = None
    weight: Decimal = Decimal(1)


class RecordingRequest(BaseModel):
    cmo_id: Id
    isrc: Code = Field(examples=["ES-A7Q-24-00001"])
    title: Title
    duration_ms: Count | None = None
    fixation_year: Year | None = None
    audio_sha256: Code | None = None
    contributions: list[ContributionRequest] = Field(default_factory=list, max_length=1000)


class LicenseeRequest(BaseModel):
    name: Name
    kind: Literal["developer", "platform"]
    country: Code | None = None


class ModelRequest(BaseModel):
    name: ShortName
    version: Label
    purpose: Title


class LicenceRequest(BaseModel):
    cmo_id: Id
    licensee_id: Id
    uses: Codes
    territories: Codes
    valid_from: dt.date
    valid_to: dt.date | None = None
    tariff_ref: Label | None = None
    extended: bool = False
    conditions: Codes = Field(default_factory=list)
    model_id: Id | None = Field(
        default=None, description="License one model version only (default: every model)."
    )


class SuspendRequest(BaseModel):
    effective_from: dt.date | None = Field(
        default=None, description="First day the licence no longer counts (today or later)."
    )


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
def add_agreement(body: AgreementRequest, database: Db, caller: CmoAdmin) -> registry.AgreementInfo:
    """Record that ``cmo_id`` represents ``partner_cmo_id``'s members (that CMO's admin)."""
    with database.transaction() as session:
        return registry.add_agreement(session, caller, **body.model_dump())


@router.get("/cmos/{cmo_id}/agreements", response_model=list[registry.AgreementInfo])
def list_agreements(cmo_id: Id, database: Db, caller: SignedIn) -> list[registry.AgreementInfo]:
    with database.reader() as session:
        return registry.list_agreements(session, caller, cmo_id=cmo_id)


# ---------------------------------------------------------------- performers and mandates


@router.post("/performers", response_model=registry.PerformerInfo, status_code=201)
def add_performer(body: PerformerRequest, database: Db, caller: CmoAdmin) -> registry.PerformerInfo:
    with database.transaction() as session:
        return registry.add_performer(session, caller, **body.model_dump())


@router.get("/performers/{performer_id}", response_model=registry.PerformerDetail)
def show_performer(performer_id: Id, database: Db, caller: SignedIn) -> registry.PerformerDetail:
    """A performer, with the mandates the caller may see."""
    with database.reader() as session:
        return registry.show_performer(session, caller, performer_id)


@router.post("/mandates", response_model=registry.MandateInfo, status_code=201)
def add_mandate(body: MandateRequest, database: Db, caller: CmoAdmin) -> registry.MandateInfo:
    """Record a mandate; 409 if it overlaps another (any CMO) for a territory and a use."""
    with database.transaction() as session:
        return registry.add_mandate(session, caller, **body.model_dump())


@router.get("/mandates", response_model=list[registry.MandateInfo])
def list_mandates(
    database: Db,
    caller: SignedIn,
    cmo_id: Id | None = None,
    performer_id: Id | None = None,
    on_date: dt.date | None = None,
) -> list[registry.MandateInfo]:
    with database.reader() as session:
        return registry.list_mandates(
            session, caller, cmo_id=cmo_id, performer_id=performer_id, on_date=on_date
        )


@router.post("/mandates/{mandate_id}/confirm", response_model=registry.MandateInfo)
def confirm_mandate(mandate_id: Id, database: Db, caller: CmoAdmin) -> registry.MandateInfo:
    """Confirm a pending mandate (the CMO that represents the performer today may)."""
    with database.transaction() as session:
        return registry.confirm_mandate(session, caller, mandate_id)


@router.post("/mandates/{mandate_id}/end", response_model=registry.MandateInfo)
def end_mandate(
    mandate_id: Id, body: EndRequest, database: Db, caller: CmoAdmin
) -> registry.MandateInfo:
    with database.transaction() as session:
        return registry.end_mandate(session, caller, mandate_id, on=body.on)


# ---------------------------------------------------------------- recordings


@router.post("/recordings", response_model=registry.RecordingInfo, status_code=201)
def add_recording(body: RecordingRequest, database: Db, caller: CmoAdmin) -> registry.RecordingInfo:
    """Add a recording and its contributions to a CMO's catalogue, all or nothing."""
    values = body.model_dump(exclude={"contributions"})
    contributions = [registry.NewContribution(**item.model_dump()) for item in body.contributions]
    with database.transaction() as session:
        return registry.add_recording(session, caller, contributions=contributions, **values)


@router.get("/recordings/{isrc}", response_model=registry.RecordingInfo | registry.RecordingBasics)
def show_recording(
    isrc: Code, database: Db, caller: Caller
) -> registry.RecordingInfo | registry.RecordingBasics:
    """ISRC, title and year for anyone; everything for its CMO's admin and auditors."""
    with database.reader() as session:
        return registry.show_recording(session, caller, isrc)


@router.post(
    "/recordings/{isrc}/contributions", response_model=registry.ContributionInfo, status_code=201
)
def add_contribution(
    isrc: Code, body: ContributionRequest, database: Db, caller: CmoAdmin
) -> registry.ContributionInfo:
    with database.transaction() as session:
        return registry.add_contribution(session, caller, recording=isrc, **body.model_dump())


@router.post("/imports", response_model=ImportResult)
def import_catalogue(
    database: Db,
    caller: CmoAdmin,
    file: Annotated[UploadFile, File(description="A CSV or DDEX-style JSON catalogue.")],
    cmo_id: Annotated[Id, Query()],
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
def add_licensee(body: LicenseeRequest, database: Db, caller: CmoAdmin) -> registry.LicenseeInfo:
    with database.transaction() as session:
        return registry.add_licensee(session, caller, **body.model_dump())


@router.get("/licensees", response_model=list[registry.LicenseeInfo])
def list_licensees(database: Db, caller: SignedIn) -> list[registry.LicenseeInfo]:
    with database.reader() as session:
        return registry.list_licensees(session, caller)


@router.post("/licensees/{licensee_id}/models", response_model=registry.ModelInfo, status_code=201)
def add_model(
    licensee_id: Id, body: ModelRequest, database: Db, caller: LicenseeOnly
) -> registry.ModelInfo:
    """A licensee declares one of its models."""
    with database.transaction() as session:
        return registry.add_model(session, caller, licensee_id=licensee_id, **body.model_dump())


@router.get("/licensees/{licensee_id}/models", response_model=list[registry.ModelInfo])
def list_models(licensee_id: Id, database: Db, caller: SignedIn) -> list[registry.ModelInfo]:
    with database.reader() as session:
        return registry.list_models(session, caller, licensee_id=licensee_id)


@router.post("/licences", response_model=registry.LicenceInfo, status_code=201)
def grant_licence(body: LicenceRequest, database: Db, caller: CmoAdmin) -> registry.LicenceInfo:
    """A CMO's admin grants a licence (extended ones only where jurisdiction rules allow)."""
    with database.transaction() as session:
        return registry.grant_licence(session, caller, **body.model_dump())


@router.get("/licences", response_model=list[registry.LicenceInfo])
def list_licences(
    database: Db, caller: SignedIn, cmo_id: Id | None = None, licensee_id: Id | None = None
) -> list[registry.LicenceInfo]:
    """A licensee sees its own licences, a CMO admin its CMO's grants, auditors all."""
    with database.reader() as session:
        return registry.list_licences(session, caller, cmo_id=cmo_id, licensee_id=licensee_id)


@router.post("/licences/{licence_id}/suspend", response_model=registry.LicenceInfo)
def suspend_licence(
    licence_id: Id, database: Db, caller: CmoAdmin, body: SuspendRequest | None = None
) -> registry.LicenceInfo:
    """Suspend a licence from a day (today by default); use before it stays licensed."""
    with database.transaction() as session:
        return registry.suspend_licence(
            session, caller, licence_id, effective_from=body.effective_from if body else None
        )


# ---------------------------------------------------------------- audit


@router.get("/audit", response_model=Page[registry.AuditEntry])
def list_audit(
    database: Db,
    caller: SignedIn,
    entity_type: Code | None = None,
    entity_id: Code | None = None,
    cursor: Cursor | None = None,
    limit: PageSize = DEFAULT_LIMIT,
) -> Page[registry.AuditEntry]:
    """The audit trail, newest first, one page at a time (auditors)."""
    with database.reader() as session:
        return registry.page_audit(
            session,
            caller,
            entity_type=entity_type,
            entity_id=entity_id,
            cursor=cursor,
            limit=limit,
        )


# ---------------------------------------------------------------- search (cursor pages)


@router.get("/recordings", response_model=Page[registry.RecordingBasics])
def search_recordings(
    database: Db,
    caller: Caller,
    isrc: Code | None = None,
    title_prefix: Title | None = None,
    performer_id: Id | None = None,
    cmo_id: Id | None = None,
    cursor: Cursor | None = None,
    limit: PageSize = DEFAULT_LIMIT,
) -> Page[registry.RecordingBasics]:
    """Recordings' ISRC, title and year, one page at a time (anyone); filtering by a
    performer or the registering CMO needs the right to see them."""
    with database.reader() as session:
        return registry.search_recordings(
            session,
            caller,
            isrc=isrc,
            title_prefix=title_prefix,
            performer_id=performer_id,
            cmo_id=cmo_id,
            cursor=cursor,
            limit=limit,
        )


@router.get("/performers", response_model=Page[registry.PerformerInfo])
def search_performers(
    database: Db,
    caller: SignedIn,
    name_prefix: Name | None = None,
    isni: Code | None = None,
    cmo_id: Id | None = None,
    cursor: Cursor | None = None,
    limit: PageSize = DEFAULT_LIMIT,
) -> Page[registry.PerformerInfo]:
    """Performers a CMO registered or holds a mandate of (its admin), or any (auditors)."""
    with database.reader() as session:
        return registry.search_performers(
            session,
            caller,
            name_prefix=name_prefix,
            isni=isni,
            cmo_id=cmo_id,
            cursor=cursor,
            limit=limit,
        )

"""Entry types: versioned pydantic schemas, who may declare them, and canonical bodies.

A leaf is the RFC 8785 canonical JSON of ``{"type", "v", "submitter", "payload"}``. No
timestamp goes into the leaf, so declaring the same thing twice yields the same leaf hash
and the existing entry (idempotence); the tree order and the signed checkpoints date it.
Everything in a leaf is public: payloads carry ids and content hashes, never personal data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import orjson
import rfc8785
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from sostenuto.auth import Principal
from sostenuto.errors import Forbidden, InvalidInput
from sostenuto.vocabulary import check_territories, check_uses

SCHEMA_VERSION = 1
MAX_ENTRY_BYTES = 0xFFFF  # C2SP entry bundles prefix each entry with a uint16 length

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="lower-case hex SHA-256")]
Id = Annotated[int, Field(ge=1)]
Label = Annotated[str, Field(min_length=1, max_length=200)]


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Source = Literal["licensed", "public", "private", "crawled", "user", "synthetic", "other"]


def _compact_isrc(value: object) -> object:
    """``es-a7q-19-00101`` and ``ES-A7Q-19-00101`` are the ISRC ``ESA7Q1900101``."""
    return value.replace("-", "").upper() if isinstance(value, str) else value


Isrc = Annotated[str, BeforeValidator(_compact_isrc), Field(pattern=r"^[A-Z]{2}[A-Z0-9]{3}\d{7}$")]


class ManifestFile(_Schema):
    """One file of a training corpus."""

    sha256: Sha256
    recording_id: Id | None = None
    isrc: Isrc | None = None
    decision_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    source: Source = "licensed"
    duration_s: Annotated[float, Field(ge=0, le=1e7)] | None = None
    collected_on: dt.date | None = None

    @model_validator(mode="after")
    def _identified_needs_decision(self) -> ManifestFile:
        if (self.recording_id or self.isrc) and not self.decision_id:
            raise ValueError("a file identified as a recording needs the consent decision_id")
        return self


class DatasetManifest(_Schema):
    """A licensee's training corpus: per file its hash, recording and consent decision."""

    licensee_id: Id
    model_id: Id | None = None
    name: Label
    public_dataset: Label | None = None  # the published name, for public datasets
    files: Annotated[list[ManifestFile], Field(min_length=1)]


Modality = Literal["audio", "text", "image", "video", "other"]


Text = Annotated[str, Field(min_length=1, max_length=2000)]


class Crawler(_Schema):
    """A crawler the provider ran to collect training content (template section 2.3)."""

    name: Label
    purpose: Text
    behaviour: Text  # e.g. which reservations (robots.txt, TDMRep, AIPREF) it honours
    collected_from: dt.date | None = None
    collected_to: dt.date | None = None
    top_domains: Annotated[list[Label], Field(max_length=1000)] = []


class TemplateFacts(_Schema):
    """What the EU AI Office summary template asks that only the provider knows: contact,
    representative, market date, dependencies, crawlers, synthetic data, illegal content."""

    provider_contact: Text | None = None
    authorised_representative: Text | None = None
    placed_on_market_on: dt.date | None = None
    model_dependencies: list[Label] = []
    content_types: list[Label] = []  # e.g. "musical recordings", "vocal stems"
    crawlers: Annotated[list[Crawler], Field(max_length=100)] = []
    synthetic_data_generators: list[Label] = []  # the models that generated synthetic data
    illegal_content_removal: Text | None = None
    other_information: Text | None = None


class TrainingRun(_Schema):
    """A training (or fine-tuning) run of one model version over declared manifests."""

    licensee_id: Id
    model_id: Id
    model_version: Label
    manifests: Annotated[list[Sha256], Field(min_length=1)]  # entry ids of dataset manifests
    started_on: dt.date
    ended_on: dt.date | None = None
    modalities: Annotated[list[Modality], Field(min_length=1)] = ["audio"]
    rights_reservation_protocols: list[Label] = []  # e.g. tdmrep, aipref, robots.txt
    base_model: Label | None = None
    # Optional and added later: runs declared without it still validate and hash the same.
    template: TemplateFacts | None = None

    @model_validator(mode="after")
    def _period(self) -> TrainingRun:
        if self.ended_on and self.ended_on < self.started_on:
            raise ValueError("ended_on is before started_on")
        return self


class Resemblance(_Schema):
    recording_id: Id | None = None
    performer_id: Id | None = None
    score: Annotated[float, Field(ge=0, le=1)]
    method: Label = "fingerprint"

    @model_validator(mode="after")
    def _names_something(self) -> Resemblance:
        if self.recording_id is None and self.performer_id is None:
            raise ValueError("a resemblance names a recording_id or a performer_id")
        return self


class OutputDeclaration(_Schema):
    """One generated output: model, content hash, label / watermark and resemblances."""

    licensee_id: Id
    model_id: Id
    output_sha256: Sha256
    generated_on: dt.date
    label_id: Label | None = None
    watermark_id: Label | None = None
    resemblances: list[Resemblance] = []


class ConsentChange(_Schema):
    """A CMO records a change of consent: an opt-out, an opt-in, a grant or a revocation.

    It covers one performer or one recording, or (``scope: "repertoire"``, naming neither)
    everything the CMO represents. The scope is explicit so that a forgotten id can never
    read as a repertoire-wide change.
    """

    cmo_id: Id
    change: Literal["opt-out", "opt-in", "grant", "revoke"]
    scope: Literal["performer", "recording", "repertoire"] | None = None
    performer_id: Id | None = None
    recording_id: Id | None = None
    uses: Annotated[list[str], Field(min_length=1)]
    territories: Annotated[list[str], Field(min_length=1)] = ["WW"]
    effective_on: dt.date
    rule_id: Id | None = None

    @model_validator(mode="after")
    def _vocabulary(self) -> ConsentChange:
        named = self.performer_id is not None or self.recording_id is not None
        if self.scope == "repertoire" and named:
            raise ValueError("a repertoire-wide consent change names no performer or recording")
        if self.scope != "repertoire" and not named:
            raise ValueError(
                "a consent change names a performer_id or a recording_id "
                '(or says scope: "repertoire" for everything the CMO represents)'
            )
        if self.scope == "performer" and self.performer_id is None:
            raise ValueError('scope "performer" needs a performer_id')
        if self.scope == "recording" and self.recording_id is None:
            raise ValueError('scope "recording" needs a recording_id')
        check_uses(self.uses)
        check_territories(self.territories)
        return self


class RemunerationStatement(_Schema):
    """A CMO's statement of what a licensee paid for a period (the statement itself is off-log)."""

    cmo_id: Id
    licensee_id: Id | None = None
    statement_id: Label
    period_start: dt.date
    period_end: dt.date
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    total: Annotated[str, Field(pattern=r"^-?\d{1,15}(\.\d{1,6})?$")]
    document_sha256: Sha256

    @model_validator(mode="after")
    def _period(self) -> RemunerationStatement:
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        try:
            Decimal(self.total)
        except InvalidOperation:
            raise ValueError("total is not a decimal amount") from None
        return self


class VoiceMatch(_Schema):
    """A generated output matched a performer's enrolled voice, and what was done about it."""

    licensee_id: Id | None = None
    cmo_id: Id | None = None
    performer_id: Id
    output_sha256: Sha256
    model_id: Id | None = None
    score: Annotated[float, Field(ge=0, le=1)]
    action: Literal["blocked", "flagged", "allowed"]

    @model_validator(mode="after")
    def _one_party(self) -> VoiceMatch:
        if (self.licensee_id is None) == (self.cmo_id is None):
            raise ValueError("a voice match is declared for exactly one licensee_id or cmo_id")
        return self


SCHEMAS: dict[str, type[_Schema]] = {
    "dataset-manifest": DatasetManifest,
    "training-run": TrainingRun,
    "output-declaration": OutputDeclaration,
    "consent-change": ConsentChange,
    "remuneration-statement": RemunerationStatement,
    "voice-match": VoiceMatch,
}
ENTRY_TYPES: tuple[str, ...] = tuple(SCHEMAS)
_LICENSEE_TYPES = {"dataset-manifest", "training-run", "output-declaration"}
_CMO_TYPES = {"consent-change", "remuneration-statement"}


def parse_payload(entry_type: str, payload: Mapping[str, Any]) -> _Schema:
    """Validate ``payload`` against the schema of ``entry_type``; clear error otherwise."""
    schema = SCHEMAS.get(entry_type)
    if schema is None:
        raise InvalidInput(
            f"unknown entry type {entry_type!r}; types are: {', '.join(ENTRY_TYPES)}"
        )
    try:
        return schema.model_validate(dict(payload))
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or '(entry)'}: {e['msg']}" for e in error.errors()
        ]
        raise InvalidInput(
            f"malformed {entry_type}: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            details={"entry_type": entry_type, "problems": problems[:20]},
        ) from None


def authorise(principal: Principal, entry_type: str, entry: _Schema) -> None:
    """Licensees declare their own training and outputs; CMO admins their consent and money."""
    licensee_id = getattr(entry, "licensee_id", None)
    cmo_id = getattr(entry, "cmo_id", None)
    if entry_type in _LICENSEE_TYPES or (entry_type == "voice-match" and licensee_id):
        principal.require("licensee")
        if not principal.operator and principal.licensee_id != licensee_id:
            raise Forbidden(
                f"licensee {principal.licensee_id} cannot declare a {entry_type} "
                f"for licensee {licensee_id}",
                details={"token_licensee": principal.licensee_id, "target": licensee_id},
            )
    elif entry_type in _CMO_TYPES or entry_type == "voice-match":
        assert cmo_id is not None
        principal.require_cmo(cmo_id)


def submitter(principal: Principal) -> dict[str, Any]:
    who: dict[str, Any] = {
        "name": principal.name,
        "role": "operator" if principal.operator else principal.role,
    }
    if principal.licensee_id is not None:
        who["licensee_id"] = principal.licensee_id
    if principal.cmo_id is not None:
        who["cmo_id"] = principal.cmo_id
    return who


def _orjson_safe(value: Any) -> bool:
    """True when orjson's output for ``value`` is its RFC 8785 form.

    Both write the shortest round-trip digits of a float; they differ only in notation for
    integral floats (``1.0`` / ``1``) and outside 1e-4 <= |x| < 1e16 (exponents).
    """
    if isinstance(value, float):
        return value != int(value) and 1e-4 <= abs(value) < 1e16
    if isinstance(value, dict):
        return all(_orjson_safe(v) for v in value.values())
    if isinstance(value, list):
        return all(_orjson_safe(v) for v in value)
    return True


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON.

    RFC 8785 output is sorted-key compact JSON with ES6 string escaping and number
    formatting; orjson writes the same about 50 times faster for the values schemas produce
    (keys are ASCII schema names, where UTF-16 and code point order agree), so ``rfc8785`` is
    called only for floats whose ES6 notation orjson would not match. The test suite checks
    that both paths agree.
    """
    if _orjson_safe(value):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    body: bytes = rfc8785.dumps(value)
    return body


def canonical_body(entry_type: str, entry: _Schema, principal: Principal) -> bytes:
    """The leaf bytes: RFC 8785 canonical JSON of the versioned envelope."""
    envelope = {
        "type": entry_type,
        "v": SCHEMA_VERSION,
        "submitter": submitter(principal),
        "payload": entry.model_dump(mode="json", exclude_none=True),
    }
    body = canonical_json(envelope)
    if len(body) > MAX_ENTRY_BYTES:
        raise InvalidInput(
            f"this {entry_type} is {len(body)} bytes once canonical; an entry holds at most "
            f"{MAX_ENTRY_BYTES} (split a large corpus into several manifests and list them "
            "all in the training run)",
            details={"bytes": len(body)},
        )
    return body

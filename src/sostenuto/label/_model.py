"""What a label says, and what inspecting a file found."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sostenuto.errors import InvalidInput

SourceType = Literal["trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"]
SOURCE_TYPES: tuple[SourceType, ...] = (
    "trainedAlgorithmicMedia",
    "compositeWithTrainedAlgorithmicMedia",
)
IPTC_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"

Layer = Literal["watermark", "metadata", "c2pa"]
LAYERS: tuple[Layer, ...] = ("watermark", "metadata", "c2pa")

# C2PA training-and-data-mining entries and the uses they may take.
TRAINING_MINING_KEYS = (
    "c2pa.ai_generative_training",
    "c2pa.ai_inference",
    "c2pa.ai_training",
    "c2pa.data_mining",
)
TRAINING_MINING_USES = ("allowed", "notAllowed", "constrained")


def source_type_uri(source_type: SourceType) -> str:
    return IPTC_PREFIX + source_type


def parse_source_type(value: str) -> SourceType:
    """Accept the IPTC term or its full URI."""
    term = value.removeprefix(IPTC_PREFIX)
    for known in SOURCE_TYPES:
        if term == known:
            return known
    raise InvalidInput(
        f"unknown digital source type {value!r}; use one of: {', '.join(SOURCE_TYPES)}"
    )


@dataclass(frozen=True)
class Label:
    """The statement written into a file: AI-generated, by which model, for whom, on what terms.

    ``reservations`` maps C2PA training-and-data-mining keys to ``allowed``, ``notAllowed`` or
    ``constrained``: the performers' reservations on further use of the output.
    """

    model: str
    licensee: str
    source_type: SourceType = "trainedAlgorithmicMedia"
    log_entry_id: str | None = None
    licence_ref: str | None = None
    consent_ref: str | None = None
    watermark_id: int | None = None
    reservations: dict[str, str] = field(default_factory=dict)
    reservation_note: str | None = None

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise InvalidInput("a label needs the generating model's name")
        if not self.licensee.strip():
            raise InvalidInput("a label needs the licensee's name")
        parse_source_type(self.source_type)
        if self.watermark_id is not None and not 0 <= self.watermark_id < 1 << 32:
            raise InvalidInput(f"watermark id {self.watermark_id} does not fit in 32 bits")
        for key, use in self.reservations.items():
            if key not in TRAINING_MINING_KEYS:
                raise InvalidInput(f"unknown training-mining entry {key!r}")
            if use not in TRAINING_MINING_USES:
                raise InvalidInput(f"use of {key} must be one of {TRAINING_MINING_USES}")

    @property
    def source_type_uri(self) -> str:
        return source_type_uri(self.source_type)


@dataclass(frozen=True)
class MetadataFinding:
    """Labels found in a file's tags (empty when none)."""

    present: bool
    ai_generated: bool
    fields: dict[str, str]


@dataclass(frozen=True)
class ManifestFinding:
    """A C2PA manifest store as read and validated.

    ``state`` is the C2PA validation state: ``Trusted`` (intact, signed by a certificate that
    chains to a trust anchor), ``Valid`` (intact, signer not trusted) or ``Invalid``.
    """

    present: bool
    state: str | None = None
    trusted: bool = False
    intact: bool = False
    signer: str | None = None
    issuer: str | None = None
    source_type: str | None = None
    model: str | None = None
    sostenuto: dict[str, object] = field(default_factory=dict)
    training_mining: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WatermarkFinding:
    """The watermark detector's answer for a file."""

    found: bool
    watermark_id: int | None
    confidence: float
    false_alarm: float
    z: float
    seconds_analysed: float


@dataclass(frozen=True)
class MarkRecord:
    """A watermark id as registered when it was embedded: whose output, which log entry."""

    watermark_id: int
    log_entry_id: str | None
    log_index: int | None
    licensee_id: int | None
    licensee_name: str
    model: str
    source_type: str
    licence_ref: str | None
    consent_ref: str | None
    created_at: str


@dataclass(frozen=True)
class Inspection:
    """Everything :func:`inspect_file` found, with a summary in plain words."""

    file_format: str
    metadata: MetadataFinding
    manifest: ManifestFinding
    watermark: WatermarkFinding | None
    log_entry_id: str | None
    summary: list[str]
    registered: MarkRecord | None = None

    @property
    def ai_generated(self) -> bool:
        return (
            self.metadata.ai_generated
            or (self.manifest.intact and self.manifest.source_type is not None)
            or (self.watermark is not None and self.watermark.found)
        )


@dataclass(frozen=True)
class LabelResult:
    """What :func:`label_file` wrote."""

    path: str
    file_format: str
    layers: list[str]
    watermark_id: int | None
    watermark_snr_db: float | None
    manifest_bytes: int | None

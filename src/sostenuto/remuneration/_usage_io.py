"""Usage records as a JSON document (for runs from a file rather than from the log)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sostenuto.errors import InvalidInput
from sostenuto.remuneration._usage import OutputUse, Resemblance, TrainingUse, Usage


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class _Training(_Strict):
    model_id: int
    recording_id: int
    declared_on: dt.date
    weight: int = Field(default=1, gt=0)
    evidence: list[str] = []


class _Resemblance(_Strict):
    recording_id: int
    kind: Literal["segment", "voice"]
    weight: int = Field(gt=0)
    evidence: list[str] = []


class _Output(_Strict):
    output_id: str = Field(min_length=1)
    model_id: int
    declared_on: dt.date
    resemblances: list[_Resemblance] = []
    evidence: list[str] = []


class _Document(_Strict):
    training: list[_Training] = []
    outputs: list[_Output] = []


def usage_from_document(document: Any) -> Usage:
    """``{"training": [...], "outputs": [...]}`` → :class:`Usage`; malformed input is refused."""
    try:
        parsed = _Document.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"usage document, {where}: {first['msg']}") from None
    return Usage(
        training=[
            TrainingUse(t.model_id, t.recording_id, t.declared_on, t.weight, tuple(t.evidence))
            for t in parsed.training
        ],
        outputs=[
            OutputUse(
                o.output_id,
                o.model_id,
                o.declared_on,
                tuple(
                    Resemblance(r.recording_id, r.kind, r.weight, tuple(r.evidence))
                    for r in o.resemblances
                ),
                tuple(o.evidence),
            )
            for o in parsed.outputs
        ],
    )


def usage_to_document(usage: Usage) -> dict[str, Any]:
    """The inverse of :func:`usage_from_document`."""
    return {
        "training": [
            {
                "model_id": t.model_id,
                "recording_id": t.recording_id,
                "declared_on": t.declared_on.isoformat(),
                "weight": t.weight,
                "evidence": list(t.evidence),
            }
            for t in usage.training
        ],
        "outputs": [
            {
                "output_id": o.output_id,
                "model_id": o.model_id,
                "declared_on": o.declared_on.isoformat(),
                "resemblances": [
                    {
                        "recording_id": r.recording_id,
                        "kind": r.kind,
                        "weight": r.weight,
                        "evidence": list(r.evidence),
                    }
                    for r in o.resemblances
                ],
                "evidence": list(o.evidence),
            }
            for o in usage.outputs
        ],
    }

"""What the consent service hands back: decisions, batches and rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

Outcome = Literal["permit", "deny"]
Effect = Literal["permit", "prohibit"]
ScopeKind = Literal["recording", "performer", "cmo"]

SCOPES: tuple[ScopeKind, ...] = ("recording", "performer", "cmo")
# Duties a permission or licence can attach; every code is documented in docs/consent.md.
CONDITIONS: tuple[str, ...] = ("remuneration", "attribution", "labelling")


@dataclass(frozen=True, slots=True)
class Basis:
    """Why a decision came out as it did; shared by every recording decided the same way."""

    outcome: Outcome
    reason: str
    rule_ids: tuple[int, ...]
    licence_ids: tuple[int, ...]
    conditions: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "reason": self.reason,
            "rule_ids": list(self.rule_ids),
            "licence_ids": list(self.licence_ids),
            "conditions": list(self.conditions),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Basis:
        return cls(
            outcome=data["outcome"],
            reason=data["reason"],
            rule_ids=tuple(data["rule_ids"]),
            licence_ids=tuple(data["licence_ids"]),
            conditions=tuple(data["conditions"]),
        )


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """One answer to "may this licensee use this recording for this use, here, then?"."""

    id: str
    outcome: Outcome
    reason: str
    rule_ids: list[int]
    licence_id: int | None
    conditions: list[str]
    licence_ids: list[int] = field(default_factory=list)
    recording_id: int | None = None
    performer_id: int | None = None
    licensee_id: int | None = None
    use: str | None = None
    territory: str | None = None
    on_date: dt.date | None = None
    model_id: int | None = None
    isrc: str | None = None
    # False for a preview (a CMO's or auditor's "what would they get"): never stored, so
    # its id cannot be cited.
    stored: bool = True

    @property
    def permitted(self) -> bool:
        return self.outcome == "permit"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "outcome": self.outcome,
            "reason": self.reason,
            "rule_ids": self.rule_ids,
            "licence_id": self.licence_id,
            "licence_ids": self.licence_ids,
            "conditions": self.conditions,
            "recording_id": self.recording_id,
            "isrc": self.isrc,
            "performer_id": self.performer_id,
            "licensee_id": self.licensee_id,
            "use": self.use,
            "territory": self.territory,
            "on_date": self.on_date.isoformat() if self.on_date else None,
            "model_id": self.model_id,
            "stored": self.stored,
        }


def result_from_basis(
    decision_id: str,
    basis: Basis,
    *,
    recording_id: int | None = None,
    performer_id: int | None = None,
    licensee_id: int | None = None,
    use: str | None = None,
    territory: str | None = None,
    on_date: dt.date | None = None,
    model_id: int | None = None,
    stored: bool = True,
    isrc: str | None = None,
) -> DecisionResult:
    return DecisionResult(
        id=decision_id,
        outcome=basis.outcome,
        reason=basis.reason,
        rule_ids=list(basis.rule_ids),
        licence_id=basis.licence_ids[0] if basis.licence_ids else None,
        conditions=list(basis.conditions),
        licence_ids=list(basis.licence_ids),
        recording_id=recording_id,
        performer_id=performer_id,
        licensee_id=licensee_id,
        use=use,
        territory=territory,
        on_date=on_date,
        model_id=model_id,
        stored=stored,
        isrc=isrc,
    )


@dataclass(frozen=True)
class BatchResult:
    """Decisions for many recordings, one licensee, use, territory and date.

    Recordings decided on the same grounds share one :class:`Basis`; ``basis_index[i]`` names
    the basis of ``recording_ids[i]``, whose decision id is ``"<batch_id>.<i>"``.
    """

    batch_id: str
    licensee_id: int
    use: str
    territory: str
    on_date: dt.date
    recording_ids: list[int]
    bases: list[Basis]
    basis_index: list[int]
    model_id: int | None = None
    stored: bool = True
    isrcs: list[str] | None = None  # when the recordings were named by ISRC

    def __len__(self) -> int:
        return len(self.recording_ids)

    @property
    def permitted(self) -> int:
        permits = [basis.outcome == "permit" for basis in self.bases]
        return sum(1 for index in self.basis_index if permits[index])

    def result(self, index: int) -> DecisionResult:
        return result_from_basis(
            f"{self.batch_id}.{index}",
            self.bases[self.basis_index[index]],
            recording_id=self.recording_ids[index],
            licensee_id=self.licensee_id,
            use=self.use,
            territory=self.territory,
            on_date=self.on_date,
            model_id=self.model_id,
            stored=self.stored,
            isrc=self.isrcs[index] if self.isrcs is not None else None,
        )

    def __iter__(self) -> Iterator[DecisionResult]:
        return (self.result(index) for index in range(len(self.recording_ids)))

    @cached_property
    def results(self) -> list[DecisionResult]:
        """Every decision as a :class:`DecisionResult` (built on first use: batches are large)."""
        return list(self)

    def compact(self) -> dict[str, Any]:
        """The batch as one JSON document: bases once, then one basis index per recording."""
        return {
            "batch_id": self.batch_id,
            "licensee_id": self.licensee_id,
            "use": self.use,
            "territory": self.territory,
            "on_date": self.on_date.isoformat(),
            "model_id": self.model_id,
            "stored": self.stored,
            "size": len(self.recording_ids),
            "permitted": self.permitted,
            "bases": [basis.as_json() for basis in self.bases],
            "recording_ids": self.recording_ids,
            **({"isrcs": self.isrcs} if self.isrcs is not None else {}),
            "basis_index": self.basis_index,
        }


@dataclass(frozen=True)
class RuleView:
    """A consent rule as services and front ends show it."""

    id: int
    effect: Effect
    scope: ScopeKind
    scope_id: int
    licensee_id: int | None
    uses: list[str]
    territories: list[str]
    valid_from: dt.date
    valid_to: dt.date | None
    conditions: list[str]
    source: str
    note: str | None
    created_by: str
    revoked_from: dt.date | None
    cmo_id: int | None = None  # the CMO whose act the rule is (None: the operator's)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "effect": self.effect,
            "scope": self.scope,
            "scope_id": self.scope_id,
            "licensee_id": self.licensee_id,
            "uses": self.uses,
            "territories": self.territories,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "conditions": self.conditions,
            "source": self.source,
            "note": self.note,
            "created_by": self.created_by,
            "revoked_from": self.revoked_from.isoformat() if self.revoked_from else None,
            "cmo_id": self.cmo_id,
        }

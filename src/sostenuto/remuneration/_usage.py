"""What was used in a period: training usage of models and declared outputs.

Records (:class:`TrainingUse`, :class:`OutputUse`) are what a person or the log loader
writes; :class:`UsageColumns` is the same data as NumPy columns, which the distribution core
reads. Evidence (log entry ids, consent decision ids) travels as indices into a table of
evidence sets so that every share can point back to what justified it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from sostenuto.errors import InvalidInput
from sostenuto.remuneration._money import BoolArray, Int64Array
from sostenuto.remuneration._period import Period

ResemblanceKind = Literal["segment", "voice"]


@dataclass(frozen=True)
class TrainingUse:
    """``model_id`` was trained on ``recording_id`` (``weight`` files or passes of it)."""

    model_id: int
    recording_id: int
    declared_on: dt.date
    weight: int = 1
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resemblance:
    """An output resembles a registered recording: a regurgitated segment found by
    identification, or a performer's voice found by voice screening. ``weight`` is the
    strength of the resemblance as a positive integer (the loader uses the match score in
    millionths), so segments and voice matches weigh in one unit."""

    recording_id: int
    kind: ResemblanceKind
    weight: int
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutputUse:
    """One declared output of a model, with what identification and voice screening found."""

    output_id: str
    model_id: int
    declared_on: dt.date
    resemblances: tuple[Resemblance, ...] = ()
    evidence: tuple[str, ...] = ()


@dataclass
class Usage:
    """Training usage (any date up to the period's end) and the period's outputs."""

    training: list[TrainingUse] = field(default_factory=list)
    outputs: list[OutputUse] = field(default_factory=list)

    def columns(self, period: Period) -> UsageColumns:
        """Check the records and turn them into columns; outputs outside ``period`` and
        training declared after it are left out."""
        return build_columns(self.training, self.outputs, period)


@dataclass
class UsageColumns:
    """Usage as columns. ``*_evidence`` index :attr:`evidence_sets`."""

    evidence_sets: list[tuple[str, ...]]
    # training rows
    t_model: Int64Array
    t_recording: Int64Array
    t_weight: Int64Array
    t_evidence: Int64Array
    t_in_period: BoolArray
    # outputs
    o_model: Int64Array
    o_evidence: Int64Array
    output_ids: list[str] | None
    # resemblance rows (r_output indexes the outputs)
    r_output: Int64Array
    r_recording: Int64Array
    r_weight: Int64Array
    r_evidence: Int64Array
    # days of use (``date.toordinal()``), to bill each use under the licences that counted on
    # its day; None: every row counts on every day of the period
    t_day: Int64Array | None = None
    o_day: Int64Array | None = None

    @property
    def n_outputs(self) -> int:
        return len(self.o_model)

    def trained_models(self) -> Int64Array:
        """Models with a training run declared inside the period (they owe a training fee)."""
        result: Int64Array = np.unique(self.t_model[self.t_in_period])
        return result

    def recording_ids(self) -> Int64Array:
        """Every recording the usage names, sorted."""
        result: Int64Array = np.unique(np.concatenate([self.t_recording, self.r_recording]))
        return result


class _EvidenceTable:
    def __init__(self) -> None:
        self.sets: list[tuple[str, ...]] = []
        self._index: dict[tuple[str, ...], int] = {}

    def add(self, evidence: Iterable[str]) -> int:
        key = tuple(sorted(set(evidence)))
        found = self._index.get(key)
        if found is None:
            found = self._index[key] = len(self.sets)
            self.sets.append(key)
        return found


def _positive(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(f"{what} must be a positive integer, got {value!r}")
    return value


def build_columns(
    training: Iterable[TrainingUse], outputs: Iterable[OutputUse], period: Period
) -> UsageColumns:
    """Columns from records, refusing non-positive weights and duplicate output ids."""
    table = _EvidenceTable()
    t_rows: list[tuple[int, int, int, int, int, bool]] = []
    for use in training:
        if use.declared_on > period.end:
            continue
        _positive(use.weight, f"training weight of recording {use.recording_id}")
        t_rows.append(
            (
                use.model_id,
                use.recording_id,
                use.weight,
                table.add(use.evidence),
                use.declared_on.toordinal(),
                use.declared_on in period,
            )
        )
    o_model: list[int] = []
    o_day: list[int] = []
    o_evidence: list[int] = []
    ids: list[str] = []
    seen: set[str] = set()
    r_rows: list[tuple[int, int, int, int]] = []
    for output in outputs:
        if output.declared_on not in period:
            continue
        if output.output_id in seen:
            raise InvalidInput(f"output {output.output_id!r} is declared twice")
        seen.add(output.output_id)
        index = len(o_model)
        o_model.append(output.model_id)
        o_day.append(output.declared_on.toordinal())
        o_evidence.append(table.add(output.evidence))
        ids.append(output.output_id)
        for match in output.resemblances:
            if match.kind not in ("segment", "voice"):
                raise InvalidInput(f"unknown resemblance kind {match.kind!r}")
            _positive(match.weight, f"resemblance weight in output {output.output_id!r}")
            evidence = table.add((*output.evidence, *match.evidence))
            r_rows.append((index, match.recording_id, match.weight, evidence))

    def col(rows: Sequence[tuple[int, ...]], i: int) -> Int64Array:
        return np.fromiter((row[i] for row in rows), dtype=np.int64, count=len(rows))

    t_int = [row[:5] for row in t_rows]
    return UsageColumns(
        evidence_sets=table.sets,
        t_model=col(t_int, 0),
        t_recording=col(t_int, 1),
        t_weight=col(t_int, 2),
        t_evidence=col(t_int, 3),
        t_in_period=np.fromiter((row[5] for row in t_rows), dtype=bool, count=len(t_rows)),
        o_model=np.asarray(o_model, dtype=np.int64),
        o_evidence=np.asarray(o_evidence, dtype=np.int64),
        output_ids=ids,
        r_output=col(r_rows, 0),
        r_recording=col(r_rows, 1),
        r_weight=col(r_rows, 2),
        r_evidence=col(r_rows, 3),
        t_day=col(t_int, 4),
        o_day=np.asarray(o_day, dtype=np.int64),
    )

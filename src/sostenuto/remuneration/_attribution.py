"""Attribution: which recordings each output owes its existence to, as exact shares.

A method is anything with a ``name`` and ``attribute(usage, pending)`` (the
:class:`AttributionMethod` protocol). It answers for some of the pending outputs with an
:class:`AttributionTable`; :class:`FirstOf` asks methods in turn, so a stronger model can be
put in front of the fallback without touching the rest.

Each attributed output owns exactly :data:`UNITS` attribution units, split over recordings
by largest remainder; shares are therefore ``units / UNITS`` and sum to exactly 1 per
output. Outputs that share one distribution (every fallback output of one model) point at a
common *template* instead of repeating a million rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

import numpy as np

from sostenuto.errors import InvalidInput
from sostenuto.remuneration._money import BoolArray, Int64Array, allocate_segments
from sostenuto.remuneration._usage import UsageColumns

UNITS = 10**9
EXPLICIT = -1
UNCOVERED = -2

_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Share:
    """A recording's exact share of one output, and the evidence behind it."""

    recording_id: int
    share: Fraction
    evidence: tuple[str, ...]
    method: str


@dataclass
class AttributionTable:
    """Attribution of (some of) a period's outputs.

    ``output_template[o]`` is a template index, :data:`EXPLICIT` (rows ``e_*`` carry the
    output) or :data:`UNCOVERED`. ``output_method[o]`` indexes :attr:`methods`.
    """

    methods: list[str]
    output_template: Int64Array
    output_method: Int64Array
    e_output: Int64Array
    e_recording: Int64Array
    e_units: Int64Array
    e_evidence: Int64Array
    p_template: Int64Array
    p_recording: Int64Array
    p_units: Int64Array
    p_evidence: Int64Array

    @property
    def n_templates(self) -> int:
        return int(self.p_template.max(initial=-1)) + 1

    @classmethod
    def empty(cls, n_outputs: int) -> AttributionTable:
        return cls(
            methods=[],
            output_template=np.full(n_outputs, UNCOVERED, dtype=np.int64),
            output_method=np.full(n_outputs, -1, dtype=np.int64),
            e_output=_EMPTY,
            e_recording=_EMPTY,
            e_units=_EMPTY,
            e_evidence=_EMPTY,
            p_template=_EMPTY,
            p_recording=_EMPTY,
            p_units=_EMPTY,
            p_evidence=_EMPTY,
        )

    def covered(self) -> BoolArray:
        result: BoolArray = self.output_template != UNCOVERED
        return result

    def shares(self, usage: UsageColumns, output: int) -> list[Share]:
        """The exact shares of one output, one per recording, largest first."""
        template = int(self.output_template[output])
        if template == UNCOVERED:
            return []
        if template == EXPLICIT:
            rows = np.flatnonzero(self.e_output == output)
            recordings, units, evidence = self.e_recording, self.e_units, self.e_evidence
        else:
            rows = np.flatnonzero(self.p_template == template)
            recordings, units, evidence = self.p_recording, self.p_units, self.p_evidence
        method = self.methods[int(self.output_method[output])]
        merged: dict[int, int] = defaultdict(int)
        proofs: dict[int, set[str]] = defaultdict(set)
        for row in rows:
            recording = int(recordings[row])
            merged[recording] += int(units[row])
            proofs[recording].update(usage.evidence_sets[int(evidence[row])])
        return sorted(
            (
                Share(rec, Fraction(merged[rec], UNITS), tuple(sorted(proofs[rec])), method)
                for rec in merged
                if merged[rec]
            ),
            key=lambda share: (-share.share, share.recording_id),
        )


class AttributionMethod(Protocol):
    """A way to attribute outputs to recordings."""

    name: str

    def attribute(self, usage: UsageColumns, pending: BoolArray) -> AttributionTable:
        """Attribute any of the ``pending`` outputs it can; leave the others uncovered."""
        ...


def _quantise(segment: Int64Array, weights: Int64Array, keys: Int64Array, n: int) -> Int64Array:
    """Per segment, :data:`UNITS` split over ``weights`` by largest remainder."""
    amounts = np.full(n, UNITS, dtype=np.int64)
    return allocate_segments(amounts, segment, weights, keys)


class EvidenceAttribution:
    """Shares from identified regurgitated segments and voice matches, by resembling time."""

    name = "evidence"

    def attribute(self, usage: UsageColumns, pending: BoolArray) -> AttributionTable:
        table = AttributionTable.empty(usage.n_outputs)
        rows = np.flatnonzero(pending[usage.r_output]) if len(usage.r_output) else _EMPTY
        if len(rows) == 0:
            return table
        order = rows[np.argsort(usage.r_output[rows], kind="stable")]
        outputs = usage.r_output[order]
        present, segment = np.unique(outputs, return_inverse=True)
        units = _quantise(segment, usage.r_weight[order], usage.r_recording[order], len(present))
        table.methods = [self.name]
        table.output_template[present] = EXPLICIT
        table.output_method[present] = 0
        table.e_output = outputs
        table.e_recording = usage.r_recording[order]
        table.e_units = units
        table.e_evidence = usage.r_evidence[order]
        return table


class TrainingUsageAttribution:
    """The fallback: an output owes its model's training set, weighted by declared usage."""

    name = "training-usage"

    def attribute(self, usage: UsageColumns, pending: BoolArray) -> AttributionTable:
        table = AttributionTable.empty(usage.n_outputs)
        models = np.unique(usage.o_model[pending])
        trained = np.isin(usage.t_model, models)
        if not trained.any():
            return table
        rows = np.flatnonzero(trained)
        rows = rows[np.argsort(usage.t_model[rows], kind="stable")]
        template_models, segment = np.unique(usage.t_model[rows], return_inverse=True)
        units = _quantise(
            segment, usage.t_weight[rows], usage.t_recording[rows], len(template_models)
        )
        position = np.searchsorted(template_models, usage.o_model)
        position = np.minimum(position, len(template_models) - 1)
        has = pending & (template_models[position] == usage.o_model)
        table.methods = [self.name]
        table.output_template[has] = position[has]
        table.output_method[has] = 0
        table.p_template = segment.astype(np.int64)
        table.p_recording = usage.t_recording[rows]
        table.p_units = units
        table.p_evidence = usage.t_evidence[rows]
        return table


class FirstOf:
    """Ask each method in turn; an output keeps the first attribution it gets."""

    def __init__(self, *methods: AttributionMethod) -> None:
        if not methods:
            raise InvalidInput("FirstOf needs at least one attribution method")
        self.methods = methods
        self.name = "first-of(" + ",".join(m.name for m in methods) + ")"

    def attribute(self, usage: UsageColumns, pending: BoolArray) -> AttributionTable:
        merged = AttributionTable.empty(usage.n_outputs)
        left = pending.copy()
        for method in self.methods:
            if not left.any():
                break
            part = method.attribute(usage, left)
            got = part.covered() & left
            if not got.any():
                continue
            merged = _merge(merged, part, got)
            left &= ~got
        return merged


def _merge(base: AttributionTable, part: AttributionTable, take: BoolArray) -> AttributionTable:
    """``base`` plus the outputs ``take`` of ``part`` (with their rows and templates)."""
    offset_method = len(base.methods)
    offset_template = base.n_templates
    template = part.output_template.copy()
    template[template >= 0] += offset_template
    out_template = np.where(take, template, base.output_template)
    out_method = np.where(take, part.output_method + offset_method, base.output_method)
    e_keep = take[part.e_output] if len(part.e_output) else np.zeros(0, dtype=bool)
    used_templates = np.unique(part.output_template[take & (part.output_template >= 0)])
    p_keep = np.isin(part.p_template, used_templates)
    return AttributionTable(
        methods=[*base.methods, *part.methods],
        output_template=out_template,
        output_method=out_method,
        e_output=np.concatenate([base.e_output, part.e_output[e_keep]]),
        e_recording=np.concatenate([base.e_recording, part.e_recording[e_keep]]),
        e_units=np.concatenate([base.e_units, part.e_units[e_keep]]),
        e_evidence=np.concatenate([base.e_evidence, part.e_evidence[e_keep]]),
        p_template=np.concatenate([base.p_template, part.p_template[p_keep] + offset_template]),
        p_recording=np.concatenate([base.p_recording, part.p_recording[p_keep]]),
        p_units=np.concatenate([base.p_units, part.p_units[p_keep]]),
        p_evidence=np.concatenate([base.p_evidence, part.p_evidence[p_keep]]),
    )


def default_attribution() -> FirstOf:
    """Evidence where identification or voice screening found some, else training usage."""
    return FirstOf(EvidenceAttribution(), TrainingUsageAttribution())

"""The distribution core: licence terms, usage and registry in, exact money lines out.

Pure NumPy on int64 minor units (Python integers where a product could overflow), so a
period of a million outputs and recordings runs in seconds. Four steps:

1. **pools** per licence: a training fee per model trained in the period, the revenue share
   (with its minimum) and the per-output fees;
2. **recordings**: the training fee over the model's training set by declared usage, the
   revenue share over the attribution units of the licensee's outputs, each output's fee
   over that output's own attribution;
3. **performers**: each recording's amount over its contributors, weighted by the collecting
   CMO's featured / non-featured weights times ``Contribution.weight``;
4. **routes**: each performer's amount to their own CMO, directly or through a reciprocal
   agreement less its administration fee, or held as an individual claim.

Every split is the largest-remainder rule of :mod:`._money`, so each level sums exactly to
the level above.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sostenuto.errors import IntegrityFailure, InvalidInput
from sostenuto.remuneration._attribution import AttributionTable
from sostenuto.remuneration._money import BoolArray, Int64Array, allocate_segments, rate_half_up
from sostenuto.remuneration._usage import UsageColumns

SOURCES = ("training-fee", "revenue-share", "output-fee")
TRAINING, REVENUE, OUTPUT_FEE = 0, 1, 2

STATUSES = ("direct", "reciprocal", "held-extended-licence", "held-no-mandate", "held-no-performer")
DIRECT, RECIPROCAL, HELD_EXTENDED, HELD_NO_MANDATE, HELD_NO_PERFORMER = range(5)

BASIS_POINTS = 10_000
_EMPTY = np.zeros(0, dtype=np.int64)


def _within(
    days: Int64Array | None, n: int, first: dt.date | None, last: dt.date | None
) -> BoolArray:
    """Which of ``n`` uses dated ``days`` (ordinals; ``None``: undated, always in) fall
    between ``first`` and ``last`` (``None``: unbounded)."""
    result: BoolArray = np.ones(n, dtype=bool)
    if days is not None and first is not None:
        result &= days >= first.toordinal()
    if days is not None and last is not None:
        result &= days <= last.toordinal()
    return result


@dataclass(frozen=True)
class Band:
    """A training-fee band: applies while the model's catalogue and the licensee's revenue
    stay within the limits (``None`` = no limit). Bands are tried in order."""

    fee_minor: int
    max_recordings: int | None = None
    max_revenue_minor: int | None = None


@dataclass(frozen=True)
class LicenceTerms:
    """One licence with its tariff and its revenue report for the period, ready to compute.

    ``models`` are the model versions it covers (one, for a licence that names a version;
    else every model of the licensee). ``counts_from`` / ``counts_until`` bound the days of
    the period on which the licence counts (``None``: from the period's start / to its
    end): a licence granted during the period, ending in it, or suspended from a day of it
    bills only the use dated on the days it counted.
    """

    licence_id: int
    licensee_id: int
    cmo_id: int
    currency: str
    extended: bool
    models: tuple[int, ...]
    training_fee_minor: int = 0
    training_bands: tuple[Band, ...] = ()
    revenue_share_bp: int = 0
    revenue_minimum_minor: int = 0
    per_output_minor: int = 0
    reported_revenue_minor: int | None = None
    model_id: int | None = None
    counts_from: dt.date | None = None
    counts_until: dt.date | None = None

    def counts_on(self, days: Int64Array | None, n: int, *, since_start: bool = True) -> BoolArray:
        """Which of ``days`` (ordinals; ``None``: ``n`` rows of undated use) the licence
        counts on; ``since_start=False`` drops the lower bound (a model's training set
        reaches back before the period)."""
        return _within(days, n, self.counts_from if since_start else None, self.counts_until)

    def training_fee(self, catalogue: int) -> int:
        """The fee for one model trained on ``catalogue`` recordings."""
        revenue = self.reported_revenue_minor or 0
        for band in self.training_bands:
            if (band.max_recordings is None or catalogue <= band.max_recordings) and (
                band.max_revenue_minor is None or revenue <= band.max_revenue_minor
            ):
                return band.fee_minor
        if self.training_bands and not self.training_fee_minor:
            raise InvalidInput(
                f"no training-fee band of licence {self.licence_id} fits a catalogue of "
                f"{catalogue} recordings and revenue {revenue}",
                details={"licence": self.licence_id},
            )
        return self.training_fee_minor

    def revenue_pool(self) -> int:
        """``max(revenue × share, minimum)``, the share rounded half up to a minor unit."""
        if self.revenue_share_bp and self.reported_revenue_minor is None:
            raise InvalidInput(
                f"licence {self.licence_id} has a revenue share but no revenue report",
                details={"licence": self.licence_id},
            )
        share = rate_half_up(self.reported_revenue_minor or 0, self.revenue_share_bp, BASIS_POINTS)
        return max(share, self.revenue_minimum_minor)


@dataclass
class Route:
    """Where a licence's money for each performer goes (arrays aligned with the snapshot's
    ``performer_ids``): payee CMO id or -1, agreement id or -1, admin fee in basis points."""

    payee: Int64Array
    agreement: Int64Array
    fee_bp: Int64Array


@dataclass
class RegistrySnapshot:
    """The registry as arrays: registered recordings, contributions sorted by recording,
    performers, the CMOs' featured / non-featured weights and each licence's routes."""

    recording_ids: Int64Array
    c_recording: Int64Array
    c_performer: Int64Array
    c_featured: BoolArray
    c_weight_micro: Int64Array
    performer_ids: Int64Array
    class_weights: dict[int, tuple[int, int]]
    routes: dict[int, Route]
    # model id → licensee id, to say whose unlicensed usage it is
    model_licensee: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Coverage:
    """A licence that counted on some days of the period (with a tariff or not), for
    telling licensed usage from unlicensed usage."""

    licence_id: int
    licensee_id: int
    cmo_id: int
    models: tuple[int, ...]
    counts_from: dt.date | None = None
    counts_until: dt.date | None = None

    def covers(self, models: Int64Array, days: Int64Array | None) -> BoolArray:
        """Which uses (model, day) the licence covers."""
        result: BoolArray = np.isin(models, np.asarray(self.models, dtype=np.int64))
        return result & _within(days, len(models), self.counts_from, self.counts_until)


@dataclass(frozen=True)
class Unlicensed:
    """Usage of one model in the period that no licence covered on its day: reported, never
    billed under another licence. ``cmos`` are the CMOs that licensed the licensee (for
    other models or other days) in the period."""

    licensee_id: int
    model_id: int
    training_uses: int
    outputs: int
    first_on: dt.date | None
    last_on: dt.date | None
    cmos: tuple[int, ...]


@dataclass
class Distribution:
    """The money lines of one period. Licence columns index :attr:`terms`."""

    terms: list[LicenceTerms]
    # pools: one per (licence, source, model or -1)
    pool_licence: Int64Array
    pool_source: Int64Array
    pool_model: Int64Array
    pool_amount: Int64Array
    # recording lines: one per (licence, source, recording)
    s_licence: Int64Array
    s_source: Int64Array
    s_recording: Int64Array
    s_weight: Int64Array
    s_amount: Int64Array
    # payments: one per (licence, recording, performer); performer -1 for no performer
    p_licence: Int64Array
    p_recording: Int64Array
    p_performer: Int64Array
    p_gross: Int64Array
    p_fee: Int64Array
    p_net: Int64Array
    p_payee: Int64Array
    p_agreement: Int64Array
    p_status: Int64Array
    outputs_by_licence: list[int] = field(default_factory=list)
    unlicensed: list[Unlicensed] = field(default_factory=list)

    def collected(self, licence_index: int) -> int:
        return int(self.pool_amount[self.pool_licence == licence_index].sum())


def _group_sum(keys: Int64Array, *values: Int64Array) -> tuple[Int64Array, ...]:
    """Distinct keys (ascending) and the exact int64 sum of each ``values`` array per key.

    Keys in a compact non-negative range are summed into a dense table (no sort); others go
    through ``np.unique``.
    """
    if len(keys) == 0:
        return (keys, *(np.zeros(0, dtype=np.int64) for _ in values))
    low, high = int(keys.min()), int(keys.max())
    if low >= 0 and high < 4 * len(keys) + 1_000_000:
        present = np.zeros(high + 1, dtype=bool)
        present[keys] = True
        unique = np.flatnonzero(present).astype(np.int64)
        sums = []
        for value in values:
            dense = np.zeros(high + 1, dtype=np.int64)
            np.add.at(dense, keys, value)
            sums.append(dense[unique])
        return (unique, *sums)
    unique, inverse = np.unique(keys, return_inverse=True)
    out = []
    for value in values:
        total = np.zeros(len(unique), dtype=np.int64)
        np.add.at(total, inverse.reshape(-1), value)
        out.append(total)
    return (unique, *out)


@dataclass
class _Lines:
    licence: list[Int64Array] = field(default_factory=list)
    source: list[Int64Array] = field(default_factory=list)
    recording: list[Int64Array] = field(default_factory=list)
    weight: list[Int64Array] = field(default_factory=list)
    amount: list[Int64Array] = field(default_factory=list)

    def add(
        self,
        licence: int,
        source: int,
        recording: Int64Array,
        weight: Int64Array,
        amount: Int64Array,
    ) -> None:
        n = len(recording)
        self.licence.append(np.full(n, licence, dtype=np.int64))
        self.source.append(np.full(n, source, dtype=np.int64))
        self.recording.append(recording)
        self.weight.append(weight)
        self.amount.append(amount)

    def cat(self, name: str) -> Int64Array:
        parts: list[Int64Array] = getattr(self, name)
        return np.concatenate(parts) if parts else _EMPTY


def _training(
    terms: LicenceTerms,
    index: int,
    usage: UsageColumns,
    lines: _Lines,
    pools: list[tuple[int, ...]],
) -> None:
    n = len(usage.t_model)
    # The training set of a model reaches back before the period, up to the last day the
    # licence counts; a fee is owed for a model trained on a day of the period it counted.
    covered = np.isin(usage.t_model, np.asarray(terms.models, dtype=np.int64))
    covered &= terms.counts_on(usage.t_day, n, since_start=False)
    billable = covered & usage.t_in_period & terms.counts_on(usage.t_day, n)
    trained = np.unique(usage.t_model[billable])
    if len(trained) == 0:
        return
    rows = np.flatnonzero(covered & np.isin(usage.t_model, trained))
    rows = rows[np.argsort(usage.t_model[rows], kind="stable")]
    models, segment = np.unique(usage.t_model[rows], return_inverse=True)
    segment = segment.reshape(-1).astype(np.int64)
    pairs = np.unique(np.stack([usage.t_model[rows], usage.t_recording[rows]]), axis=1)
    _, catalogue = np.unique(pairs[0], return_counts=True)
    fees = np.asarray([terms.training_fee(int(c)) for c in catalogue], dtype=np.int64)
    for model, fee in zip(models, fees, strict=True):
        pools.append((index, TRAINING, int(model), int(fee)))
    amounts = allocate_segments(fees, segment, usage.t_weight[rows], usage.t_recording[rows])
    lines.add(index, TRAINING, usage.t_recording[rows], usage.t_weight[rows], amounts)


def _output_weights(
    mine: BoolArray, usage: UsageColumns, table: AttributionTable
) -> tuple[Int64Array, Int64Array, Int64Array]:
    """Per recording, the attribution units of this licence's outputs; and template counts."""
    e_rows = mine[table.e_output] if len(table.e_output) else np.zeros(0, dtype=bool)
    templated = mine & (table.output_template >= 0)
    counts = np.bincount(table.output_template[templated], minlength=table.n_templates)
    p_weight = table.p_units * counts[table.p_template] if len(table.p_template) else _EMPTY
    recordings = np.concatenate([table.e_recording[e_rows], table.p_recording])
    weights = np.concatenate([table.e_units[e_rows], p_weight])
    unique, sums = _group_sum(recordings, weights.astype(np.int64))
    keep = sums > 0
    return unique[keep], sums[keep], counts.astype(np.int64)


def _revenue(
    terms: LicenceTerms,
    index: int,
    usage: UsageColumns,
    mine: BoolArray,
    table: AttributionTable,
    lines: _Lines,
    pools: list[tuple[int, ...]],
) -> None:
    pool = terms.revenue_pool()
    if pool == 0:
        return
    pools.append((index, REVENUE, -1 if terms.model_id is None else terms.model_id, pool))
    recordings, weights, _ = _output_weights(mine, usage, table)
    if len(recordings) == 0:
        # No outputs this period: the share follows what the licensed models trained on.
        rows = np.isin(usage.t_model, np.asarray(terms.models, dtype=np.int64))
        rows &= terms.counts_on(usage.t_day, len(rows), since_start=False)
        recordings, weights = _group_sum(usage.t_recording[rows], usage.t_weight[rows])
    if len(recordings) == 0:
        raise InvalidInput(
            f"licence {terms.licence_id} owes {pool} but declared neither outputs nor training "
            "usage to attribute it to",
            details={"licence": terms.licence_id},
        )
    segment = np.zeros(len(recordings), dtype=np.int64)
    amounts = allocate_segments(np.asarray([pool], dtype=np.int64), segment, weights, recordings)
    lines.add(index, REVENUE, recordings, weights, amounts)


def _output_fees(
    terms: LicenceTerms,
    index: int,
    usage: UsageColumns,
    mine: BoolArray,
    table: AttributionTable,
    lines: _Lines,
    pools: list[tuple[int, ...]],
) -> None:
    fee = terms.per_output_minor
    n_outputs = int(mine.sum())
    if fee == 0 or n_outputs == 0:
        return
    # One pool per model version, so that statements show what each version owes.
    models, counts = np.unique(usage.o_model[mine], return_counts=True)
    for model, count in zip(models.tolist(), counts.tolist(), strict=True):
        pools.append((index, OUTPUT_FEE, model, fee * count))
    recordings: list[Int64Array] = []
    amounts: list[Int64Array] = []
    weights: list[Int64Array] = []
    # Explicit outputs: each output's fee over its own attribution.
    e_rows = np.flatnonzero(mine[table.e_output]) if len(table.e_output) else _EMPTY
    if len(e_rows):
        outputs, segment = np.unique(table.e_output[e_rows], return_inverse=True)
        part = allocate_segments(
            np.full(len(outputs), fee, dtype=np.int64),
            segment.reshape(-1).astype(np.int64),
            table.e_units[e_rows],
            table.e_recording[e_rows],
        )
        recordings.append(table.e_recording[e_rows])
        amounts.append(part)
        weights.append(table.e_units[e_rows])
    # Templated outputs: one split per template, times the outputs that use it.
    templated = mine & (table.output_template >= 0)
    counts = np.bincount(table.output_template[templated], minlength=table.n_templates)
    used = counts[table.p_template] > 0 if len(table.p_template) else np.zeros(0, dtype=bool)
    if used.any():
        rows = np.flatnonzero(used)
        templates, segment = np.unique(table.p_template[rows], return_inverse=True)
        part = allocate_segments(
            np.full(len(templates), fee, dtype=np.int64),
            segment.reshape(-1).astype(np.int64),
            table.p_units[rows],
            table.p_recording[rows],
        )
        multiplier = counts[table.p_template[rows]].astype(np.int64)
        recordings.append(table.p_recording[rows])
        amounts.append(part * multiplier)
        weights.append(table.p_units[rows] * multiplier)
    if int(sum(int(a.sum()) for a in amounts)) != fee * n_outputs:
        raise InvalidInput(
            f"licence {terms.licence_id}: some outputs have no attribution",
            details={"licence": terms.licence_id},
        )
    lines.add(
        index,
        OUTPUT_FEE,
        np.concatenate(recordings),
        np.concatenate(weights),
        np.concatenate(amounts),
    )


def distribute(
    terms: Sequence[LicenceTerms],
    usage: UsageColumns,
    table: AttributionTable,
    registry: RegistrySnapshot,
) -> Distribution:
    """All money of one period, from pools down to each performer's CMO."""
    uncovered = ~table.covered()
    licence_models = [np.asarray(t.models, dtype=np.int64) for t in terms]
    lines = _Lines()
    pools: list[tuple[int, ...]] = []
    outputs_by_licence: list[int] = []
    for index, licence in enumerate(terms):
        mine = np.isin(usage.o_model, licence_models[index])
        mine &= licence.counts_on(usage.o_day, usage.n_outputs)
        outputs_by_licence.append(int(mine.sum()))
        if (mine & uncovered).any():
            first = int(np.flatnonzero(mine & uncovered)[0])
            name = usage.output_ids[first] if usage.output_ids else str(first)
            raise InvalidInput(
                f"output {name!r} of model {int(usage.o_model[first])} can be attributed to "
                "nothing: it names no resemblances and its model declared no training usage",
                details={"licence": licence.licence_id, "uncovered": int((mine & uncovered).sum())},
            )
        _training(licence, index, usage, lines, pools)
        _revenue(licence, index, usage, mine, table, lines, pools)
        _output_fees(licence, index, usage, mine, table, lines, pools)

    # Recording lines, merged per (licence, source, recording).
    s_recording = lines.cat("recording")
    unknown = np.setdiff1d(s_recording, registry.recording_ids)
    if len(unknown):
        raise InvalidInput(
            f"usage names {len(unknown)} recording(s) not in the registry, e.g. {int(unknown[0])}",
            details={"recordings": [int(r) for r in unknown[:10]]},
        )
    n_rec = len(registry.recording_ids)
    rec_index = np.searchsorted(registry.recording_ids, s_recording)
    key = (lines.cat("licence") * len(SOURCES) + lines.cat("source")) * n_rec + rec_index
    s_key, s_amount, s_weight = _group_sum(key, lines.cat("amount"), lines.cat("weight"))
    s_rec_index = s_key % n_rec
    s_source = (s_key // n_rec) % len(SOURCES)
    s_licence = s_key // n_rec // len(SOURCES)

    payments = _performers(terms, registry, s_licence, s_rec_index, s_amount)
    pool_rows = np.asarray(pools, dtype=np.int64).reshape(-1, 4)
    result = Distribution(
        terms=list(terms),
        pool_licence=pool_rows[:, 0].copy(),
        pool_source=pool_rows[:, 1].copy(),
        pool_model=pool_rows[:, 2].copy(),
        pool_amount=pool_rows[:, 3].copy(),
        s_licence=s_licence,
        s_source=s_source,
        s_recording=registry.recording_ids[s_rec_index],
        s_weight=s_weight,
        s_amount=s_amount,
        outputs_by_licence=outputs_by_licence,
        unlicensed=[],  # filled by the caller, who knows every licence (tariff or not)
        **payments,
    )
    _check_sums(result)
    return result


def unlicensed_usage(
    usage: UsageColumns, coverage: Sequence[Coverage], model_licensee: dict[int, int]
) -> list[Unlicensed]:
    """The period's training uses and outputs that no licence covered on their day, per
    model (training declared before the period belongs to earlier periods)."""
    t_open = usage.t_in_period.copy()
    o_open = np.ones(usage.n_outputs, dtype=bool)
    for licence in coverage:
        t_open &= ~licence.covers(usage.t_model, usage.t_day)
        o_open &= ~licence.covers(usage.o_model, usage.o_day)
    models = np.unique(np.concatenate([usage.t_model[t_open], usage.o_model[o_open]]))
    found: list[Unlicensed] = []
    for model in models.tolist():
        t_rows = t_open & (usage.t_model == model)
        o_rows = o_open & (usage.o_model == model)
        days: list[int] = []
        if usage.t_day is not None:
            days.extend(usage.t_day[t_rows].tolist())
        if usage.o_day is not None:
            days.extend(usage.o_day[o_rows].tolist())
        licensee = model_licensee.get(model, -1)
        found.append(
            Unlicensed(
                licensee_id=licensee,
                model_id=model,
                training_uses=int(t_rows.sum()),
                outputs=int(o_rows.sum()),
                first_on=dt.date.fromordinal(min(days)) if days else None,
                last_on=dt.date.fromordinal(max(days)) if days else None,
                cmos=tuple(sorted({c.cmo_id for c in coverage if c.licensee_id == licensee})),
            )
        )
    return found


def _performers(
    terms: Sequence[LicenceTerms],
    registry: RegistrySnapshot,
    s_licence: Int64Array,
    s_rec_index: Int64Array,
    s_amount: Int64Array,
) -> dict[str, Int64Array]:
    # One row per (licence, recording) with money.
    n_rec = len(registry.recording_ids)
    key, amount = _group_sum(s_licence * n_rec + s_rec_index, s_amount)
    keep = amount > 0
    key, amount = key[keep], amount[keep]
    licence, rec_index = key // n_rec, key % n_rec
    recording = registry.recording_ids[rec_index]
    # Contributions are sorted by recording: one pointer per registered recording.
    pointer = np.searchsorted(registry.c_recording, registry.recording_ids, side="left")
    pointer = np.append(pointer, len(registry.c_recording)).astype(np.int64)
    start = pointer[rec_index]
    count = pointer[rec_index + 1] - start
    # Expand each row over the recording's contributions.
    row = np.repeat(np.arange(len(key), dtype=np.int64), count)
    offset = np.arange(len(row), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    contribution = start[row] + offset
    featured = registry.c_featured[contribution]
    class_weight = np.zeros((len(terms), 2), dtype=np.int64)
    for index, licence_terms in enumerate(terms):
        class_weight[index] = registry.class_weights.get(licence_terms.cmo_id, (1, 1))
    weight = (
        np.where(featured, class_weight[licence[row], 0], class_weight[licence[row], 1])
        * registry.c_weight_micro[contribution]
    )
    performer = registry.c_performer[contribution]
    c_performer_index = np.searchsorted(registry.performer_ids, registry.c_performer)
    # Rows without contributors are held whole below, not split.
    gross = allocate_segments(np.where(count > 0, amount, 0), row, weight, performer)

    # Routes: the collecting CMO's view of each performer.
    performer_index = c_performer_index[contribution]
    payee = np.full(len(row), -1, dtype=np.int64)
    agreement = np.full(len(row), -1, dtype=np.int64)
    fee_bp = np.zeros(len(row), dtype=np.int64)
    extended = np.zeros(len(row), dtype=bool)
    for index, licence_terms in enumerate(terms):
        mask = licence[row] == index
        route = registry.routes.get(licence_terms.licence_id)
        if route is not None:
            payee[mask] = route.payee[performer_index[mask]]
            agreement[mask] = route.agreement[performer_index[mask]]
            fee_bp[mask] = route.fee_bp[performer_index[mask]]
        extended[mask] = licence_terms.extended
    status = np.where(
        payee >= 0,
        np.where(agreement >= 0, RECIPROCAL, DIRECT),
        np.where(extended, HELD_EXTENDED, HELD_NO_MANDATE),
    ).astype(np.int64)
    fee = np.where(payee >= 0, (2 * gross * fee_bp + BASIS_POINTS) // (2 * BASIS_POINTS), 0)

    # Recordings with money but nobody registered on them: held whole.
    orphan = np.flatnonzero(count == 0)
    n = len(orphan)
    return {
        "p_licence": np.concatenate([licence[row], licence[orphan]]),
        "p_recording": np.concatenate([recording[row], recording[orphan]]),
        "p_performer": np.concatenate([performer, np.full(n, -1, dtype=np.int64)]),
        "p_gross": np.concatenate([gross, amount[orphan]]),
        "p_fee": np.concatenate([fee, np.zeros(n, dtype=np.int64)]),
        "p_net": np.concatenate([gross - fee, amount[orphan]]),
        "p_payee": np.concatenate([payee, np.full(n, -1, dtype=np.int64)]),
        "p_agreement": np.concatenate([agreement, np.full(n, -1, dtype=np.int64)]),
        "p_status": np.concatenate([status, np.full(n, HELD_NO_PERFORMER, dtype=np.int64)]),
    }


def _check_sums(result: Distribution) -> None:
    """Every level must add up to the level above, per licence, to the minor unit."""
    for index in range(len(result.terms)):
        pooled = int(result.pool_amount[result.pool_licence == index].sum())
        shared = int(result.s_amount[result.s_licence == index].sum())
        paid = int(result.p_gross[result.p_licence == index].sum())
        if not pooled == shared == paid:
            raise IntegrityFailure(
                f"licence {result.terms[index].licence_id}: pools {pooled}, recordings {shared}, "
                f"payments {paid} differ"
            )
    if not np.array_equal(result.p_fee + result.p_net, result.p_gross):
        raise IntegrityFailure("a payment's fee and net do not add up to its gross")

"""The distribution core on arrays: the worked example, exact sums, monotonicity, refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sostenuto.errors import InvalidInput
from sostenuto.remuneration import (
    Band,
    LicenceTerms,
    Names,
    OutputUse,
    RegistrySnapshot,
    Resemblance,
    Route,
    TrainingUse,
    Usage,
    build_statements,
    default_attribution,
    distribute,
    parse_period,
)
from sostenuto.remuneration._engine import Distribution

Q3 = parse_period("2026-Q3")
DAY = dt.date(2026, 8, 1)


def _registry(
    recordings: list[int], *, extra: dict[int, list[tuple[int, bool]]] | None = None
) -> RegistrySnapshot:
    """One featured performer (id = recording + 100) per recording, plus ``extra``."""
    parts = {r: [(r + 100, True)] for r in recordings} | (extra or {})
    rows = sorted((r, p, f) for r, ps in parts.items() for p, f in ps)
    performers = np.unique(np.asarray([p for _, p, _ in rows], dtype=np.int64))
    return RegistrySnapshot(
        recording_ids=np.asarray(sorted(recordings), dtype=np.int64),
        c_recording=np.asarray([r for r, _, _ in rows], dtype=np.int64),
        c_performer=np.asarray([p for _, p, _ in rows], dtype=np.int64),
        c_featured=np.asarray([f for _, _, f in rows], dtype=bool),
        c_weight_micro=np.full(len(rows), 10**6, dtype=np.int64),
        performer_ids=performers,
        class_weights={1: (2, 1)},
        routes={
            1: Route(
                np.full(len(performers), 1),
                np.full(len(performers), -1),
                np.zeros(len(performers), dtype=np.int64),
            )
        },
    )


def _terms(**kwargs: Any) -> LicenceTerms:
    values = {
        "training_fee_minor": 1_000_000,
        "revenue_share_bp": 500,
        "revenue_minimum_minor": 200_000,
        "per_output_minor": 25,
        "reported_revenue_minor": 12_345_678,
    } | kwargs
    return LicenceTerms(
        licence_id=1, licensee_id=1, cmo_id=1, currency="SEK", extended=True, models=(7,), **values
    )


def _run(
    usage: Usage, registry: RegistrySnapshot, terms: LicenceTerms | None = None
) -> Distribution:
    columns = usage.columns(Q3)
    table = default_attribution().attribute(columns, np.ones(columns.n_outputs, dtype=bool))
    return distribute([terms or _terms()], columns, table, registry)


def _example_usage() -> Usage:
    return Usage(
        training=[
            TrainingUse(7, 1, DAY),
            TrainingUse(7, 1, DAY),
            TrainingUse(7, 2, DAY),
            TrainingUse(7, 3, DAY),
        ],
        outputs=[
            OutputUse("o1", 7, DAY, (Resemblance(3, "segment", 1),)),
            *(OutputUse(f"o{i}", 7, DAY) for i in (2, 3, 4)),
        ],
    )


def _per_recording(dist: Distribution) -> dict[tuple[str, int], int]:
    names = ("training-fee", "revenue-share", "output-fee")
    return {
        (names[s], r): a
        for s, r, a in zip(
            dist.s_source.tolist(), dist.s_recording.tolist(), dist.s_amount.tolist(), strict=True
        )
    }


def test_the_worked_example_of_the_docs() -> None:
    dist = _run(_example_usage(), _registry([1, 2, 3]))
    assert dist.pool_amount.tolist() == [1_000_000, 617_284, 100]
    assert _per_recording(dist) == {
        ("training-fee", 1): 500_000,
        ("training-fee", 2): 250_000,
        ("training-fee", 3): 250_000,
        ("revenue-share", 1): 231_481,
        ("revenue-share", 2): 115_741,
        ("revenue-share", 3): 270_062,
        ("output-fee", 1): 39,
        ("output-fee", 2): 18,
        ("output-fee", 3): 43,
    }
    assert int(dist.p_gross.sum()) == 1_617_384


def test_the_minimum_applies_when_the_share_is_smaller() -> None:
    dist = _run(_example_usage(), _registry([1, 2, 3]), _terms(reported_revenue_minor=1_000))
    assert dist.pool_amount.tolist() == [1_000_000, 200_000, 100]


def test_training_fee_bands_follow_catalogue_size() -> None:
    bands = (Band(50_000, max_recordings=2), Band(90_000, max_recordings=10))
    dist = _run(
        _example_usage(),
        _registry([1, 2, 3]),
        _terms(
            training_fee_minor=0,
            per_output_minor=0,
            revenue_share_bp=0,
            revenue_minimum_minor=0,
            training_bands=bands,
        ),
    )
    assert dist.pool_amount.tolist() == [90_000]  # three recordings: the second band


def test_performers_split_by_featured_weights_and_route() -> None:
    registry = _registry([1], extra={1: [(101, True), (102, False), (103, False)]})
    registry.routes[1] = Route(
        payee=np.asarray([1, 2, -1]),
        agreement=np.asarray([-1, 9, -1]),
        fee_bp=np.asarray([0, 1_000, 0]),
    )
    usage = Usage(training=[TrainingUse(7, 1, DAY)])
    dist = _run(
        usage,
        registry,
        _terms(
            training_fee_minor=1_001,
            revenue_share_bp=0,
            revenue_minimum_minor=0,
            per_output_minor=0,
        ),
    )
    # 2 : 1 : 1 of 1 001 = 500.5, 250.25, 250.25 -> the featured part takes the leftover.
    assert dist.p_gross.tolist() == [501, 250, 250]
    assert dist.p_fee.tolist() == [0, 25, 0]
    assert dist.p_net.tolist() == [501, 225, 250]
    assert dist.p_status.tolist() == [0, 1, 2]  # direct, reciprocal, held (extended licence)


def test_a_recording_without_performers_is_held_whole() -> None:
    registry = _registry([1])
    registry.recording_ids = np.asarray([1, 2], dtype=np.int64)  # 2 has no contribution
    usage = Usage(training=[TrainingUse(7, 1, DAY), TrainingUse(7, 2, DAY)])
    dist = _run(usage, registry, _terms(revenue_share_bp=0, revenue_minimum_minor=0))
    orphan = dist.p_performer == -1
    assert dist.p_recording[orphan].tolist() == [2]
    assert dist.p_gross[orphan].tolist() == [500_000]


def test_unknown_recordings_and_unattributable_outputs_are_refused() -> None:
    with pytest.raises(InvalidInput, match="not in the registry"):
        _run(_example_usage(), _registry([1, 2]))
    usage = Usage(outputs=[OutputUse("lost", 7, DAY)])
    with pytest.raises(InvalidInput, match="attributed to nothing"):
        _run(usage, _registry([1]))
    with pytest.raises(InvalidInput, match="no revenue report"):
        _run(_example_usage(), _registry([1, 2, 3]), _terms(reported_revenue_minor=None))


scenario = st.fixed_dictionaries(
    {
        "training": st.lists(
            st.tuples(st.integers(1, 6), st.integers(1, 9)), min_size=1, max_size=10
        ),
        "outputs": st.lists(
            st.lists(st.tuples(st.integers(1, 6), st.integers(1, 10**6)), max_size=3), max_size=10
        ),
        "revenue": st.integers(0, 10**9),
        "training_fee": st.integers(0, 10**7),
        "per_output": st.integers(0, 500),
        "target": st.integers(1, 6),
        "extra": st.integers(1, 10**6),
        "as_training": st.booleans(),
    }
)


def _usage_of(case: dict, *, grow: bool) -> Usage:  # type: ignore[type-arg]
    training = [TrainingUse(7, r, DAY, w) for r, w in case["training"]]
    outputs = [
        OutputUse(f"o{i}", 7, DAY, tuple(Resemblance(r, "segment", w) for r, w in found))
        for i, found in enumerate(case["outputs"])
    ]
    if grow and case["as_training"]:
        training.append(TrainingUse(7, case["target"], DAY, 1))
    elif grow:
        outputs.append(
            OutputUse("extra", 7, DAY, (Resemblance(case["target"], "voice", case["extra"]),))
        )
    return Usage(training, outputs)


@settings(max_examples=80, deadline=None)
@given(scenario)
def test_more_usage_never_pays_a_recording_less_and_sums_stay_exact(case: dict) -> None:  # type: ignore[type-arg]
    terms = _terms(
        reported_revenue_minor=case["revenue"],
        training_fee_minor=case["training_fee"],
        per_output_minor=case["per_output"],
    )
    registry = _registry(list(range(1, 7)))
    before = _run(_usage_of(case, grow=False), registry, terms)
    after = _run(_usage_of(case, grow=True), registry, terms)
    for dist in (before, after):
        assert int(dist.s_amount.sum()) == int(dist.pool_amount.sum()) == int(dist.p_gross.sum())
    target = case["target"]
    paid_before = int(before.s_amount[before.s_recording == target].sum())
    paid_after = int(after.s_amount[after.s_recording == target].sum())
    assert paid_after >= paid_before


@settings(max_examples=30, deadline=None)
@given(scenario)
def test_the_same_inputs_give_the_same_lines(case: dict) -> None:  # type: ignore[type-arg]
    registry = _registry(list(range(1, 7)))
    first = _run(_usage_of(case, grow=True), registry)
    second = _run(_usage_of(case, grow=True), registry)
    for name in ("pool_amount", "s_recording", "s_amount", "p_performer", "p_gross", "p_net"):
        assert np.array_equal(getattr(first, name), getattr(second, name))


def test_statements_add_up_to_the_distribution() -> None:
    dist = _run(_example_usage(), _registry([1, 2, 3]))
    docs = build_statements(dist, Q3, Names())
    kinds = [d.party_kind for d in docs]
    assert kinds == ["performer"] * 3 + ["cmo", "licensee"]
    performers = sum(d.totals["SEK"] for d in docs if d.party_kind == "performer")
    (cmo,) = (d for d in docs if d.party_kind == "cmo")
    (licensee,) = (d for d in docs if d.party_kind == "licensee")
    assert performers == cmo.totals["SEK"] == licensee.totals["SEK"] == 1_617_384
    only = build_statements(dist, Q3, Names(), performers=[102])
    assert [(d.party_kind, d.party_id) for d in only[:1]] == [("performer", 102)]
    assert len(only) == 3

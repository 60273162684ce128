"""Attribution: exact shares per output, evidence first, training usage as the fallback."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sostenuto.errors import InvalidInput
from sostenuto.remuneration import (
    UNITS,
    AttributionTable,
    EvidenceAttribution,
    FirstOf,
    OutputUse,
    Resemblance,
    TrainingUsageAttribution,
    TrainingUse,
    Usage,
    UsageColumns,
    default_attribution,
    parse_period,
)
from sostenuto.remuneration._attribution import EXPLICIT

Q3 = parse_period("2026-Q3")
DAY = dt.date(2026, 8, 1)


def _usage() -> Usage:
    return Usage(
        training=[
            TrainingUse(7, 1, DAY, 2, ("run",)),
            TrainingUse(7, 2, DAY, 1, ("run",)),
            TrainingUse(7, 3, DAY, 1, ("run",)),
        ],
        outputs=[
            OutputUse(
                "a",
                7,
                DAY,
                (
                    Resemblance(3, "segment", 600, ("id-1",)),
                    Resemblance(2, "voice", 300, ("vm-1",)),
                ),
                ("a",),
            ),
            OutputUse("b", 7, DAY, (), ("b",)),
            OutputUse("c", 8, DAY, (), ("c",)),  # model 8 declared no training
        ],
    )


def test_evidence_comes_first_and_training_usage_is_the_fallback() -> None:
    columns = _usage().columns(Q3)
    table = default_attribution().attribute(columns, np.ones(3, dtype=bool))
    a = table.shares(columns, 0)
    # 2/3 and 1/3 in units of 10^-9, the leftover unit to the larger remainder.
    assert [(s.recording_id, s.share, s.method) for s in a] == [
        (3, Fraction(666_666_667, UNITS), "evidence"),
        (2, Fraction(333_333_333, UNITS), "evidence"),
    ]
    assert a[0].evidence == ("a", "id-1")
    assert a[1].evidence == ("a", "vm-1")
    b = table.shares(columns, 1)
    assert [(s.recording_id, s.share) for s in b] == [
        (1, Fraction(1, 2)),
        (2, Fraction(1, 4)),
        (3, Fraction(1, 4)),
    ]
    assert {s.method for s in b} == {"training-usage"} and b[0].evidence == ("run",)
    assert table.shares(columns, 2) == []  # nothing to go on
    assert not table.covered()[2]


def test_a_pluggable_method_goes_in_front_of_the_fallback() -> None:
    class EverythingToOne:
        name = "everything-to-one"

        def attribute(self, usage: UsageColumns, pending: np.ndarray) -> AttributionTable:
            table = AttributionTable.empty(usage.n_outputs)
            picked = np.flatnonzero(pending & (usage.o_model == 8))
            table.methods = [self.name]
            table.output_template[picked] = EXPLICIT
            table.output_method[picked] = 0
            table.e_output = picked.astype(np.int64)
            table.e_recording = np.ones(len(picked), dtype=np.int64)
            table.e_units = np.full(len(picked), UNITS, dtype=np.int64)
            table.e_evidence = usage.o_evidence[picked]
            return table

    columns = _usage().columns(Q3)
    chain = FirstOf(EverythingToOne(), EvidenceAttribution(), TrainingUsageAttribution())
    table = chain.attribute(columns, np.ones(3, dtype=bool))
    assert table.covered().all()
    assert [(s.recording_id, s.share, s.method) for s in table.shares(columns, 2)] == [
        (1, Fraction(1), "everything-to-one")
    ]
    assert table.shares(columns, 0)[0].method == "evidence"
    assert table.shares(columns, 1)[0].method == "training-usage"


@given(
    st.lists(
        st.lists(st.tuples(st.integers(1, 9), st.integers(1, 10**7)), min_size=0, max_size=6),
        min_size=1,
        max_size=12,
    ),
    st.lists(st.tuples(st.integers(1, 9), st.integers(1, 50)), min_size=1, max_size=9),
)
def test_every_output_shares_sum_to_exactly_one(
    outputs: list[list[tuple[int, int]]], training: list[tuple[int, int]]
) -> None:
    usage = Usage(
        training=[TrainingUse(1, rec, DAY, w) for rec, w in training],
        outputs=[
            OutputUse(f"o{i}", 1, DAY, tuple(Resemblance(r, "segment", w) for r, w in found))
            for i, found in enumerate(outputs)
        ],
    )
    columns = usage.columns(Q3)
    table = default_attribution().attribute(columns, np.ones(len(outputs), dtype=bool))
    for index in range(len(outputs)):
        shares = table.shares(columns, index)
        assert sum(s.share for s in shares) == 1
        assert all(s.share > 0 for s in shares)


def test_bad_usage_is_refused() -> None:
    with pytest.raises(InvalidInput, match="positive"):
        Usage(training=[TrainingUse(1, 1, DAY, 0)]).columns(Q3)
    with pytest.raises(InvalidInput, match="positive"):
        Usage(outputs=[OutputUse("x", 1, DAY, (Resemblance(1, "segment", -5),))]).columns(Q3)
    with pytest.raises(InvalidInput, match="twice"):
        Usage(outputs=[OutputUse("x", 1, DAY), OutputUse("x", 1, DAY)]).columns(Q3)


def test_only_the_period_counts() -> None:
    usage = Usage(
        training=[TrainingUse(1, 1, dt.date(2026, 1, 5)), TrainingUse(1, 2, dt.date(2026, 12, 1))],
        outputs=[OutputUse("early", 1, dt.date(2026, 6, 30)), OutputUse("in", 1, DAY)],
    )
    columns = usage.columns(Q3)
    assert columns.t_recording.tolist() == [1]  # training after the period is not yet known
    assert columns.trained_models().tolist() == []  # trained before Q3: no fee in Q3
    assert columns.output_ids == ["in"]

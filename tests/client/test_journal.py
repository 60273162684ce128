"""The checkpoint journal: every outcome survives its CSV row, whatever the caller's paths and
raw values hold (commas, quotes, newlines), and a resume drops rows past the progress mark."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sostenuto_client import STATUSES, CorpusItem, Outcome, UsageError, normalise_isrc
from sostenuto_client._journal import Journal, outcome_of, read_outcomes, row_of

text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)
outcomes = st.builds(
    Outcome,
    index=st.integers(0, 10**9),
    item=st.builds(
        CorpusItem,
        isrc=st.none() | text.filter(bool),
        sha256=st.none() | st.text("0123456789abcdef", min_size=64, max_size=64),
        source=st.sampled_from(["licensed", "crawled", "a,b", 'q"uote']),
        path=st.none() | text.filter(bool),
    ),
    status=st.sampled_from(STATUSES),
    decision_id=st.none() | st.from_regex(r"bat_[a-z0-9]{8}\.[0-9]{1,6}", fullmatch=True),
    recording_id=st.none() | st.integers(1, 2**31 - 1),
    reason=text,
)


def _flat(value: str | None) -> str | None:
    return value.replace("\r", " ").replace("\n", " ") if value else value


@given(outcomes)
def test_a_row_reads_back_as_its_outcome(outcome: Outcome) -> None:
    line = row_of(outcome)
    assert line.endswith("\n") and line.count("\n") == 1
    back = outcome_of(next(csv.reader([line])))
    item = outcome.item
    assert (back.index, back.status, back.decision_id) == (
        outcome.index,
        outcome.status,
        outcome.decision_id,
    )
    assert back.recording_id == (outcome.recording_id or item.recording_id)
    assert back.item.sha256 == item.sha256 and back.item.source == item.source
    assert back.item.path == _flat(item.path)
    assert back.reason == (_flat(outcome.reason) or "")
    assert back.isrc == (outcome.isrc or _flat(item.isrc))


def test_resuming_drops_rows_past_the_progress_mark(tmp_path: Path) -> None:
    path = tmp_path / "journal.csv"
    params = {"licensee_id": 1, "use": "train-genai"}
    journal = Journal(path, params)
    rows = [Outcome(i, CorpusItem(isrc=f"r{i}"), "denied") for i in range(10)]
    journal.append("".join(map(row_of, rows)))
    journal.mark(4)  # a kill here: six rows written, four done
    assert [o.index for o in read_outcomes(path)] == [0, 1, 2, 3]
    resumed = Journal(path, params)
    assert resumed.done == 4 and resumed.counts["denied"] == 4
    assert path.read_text().count("\n") == 2 + 4
    resumed.close()
    journal.close()
    with pytest.raises(UsageError, match="another filter"):
        Journal(path, {**params, "use": "voice-clone"})


@given(
    verdicts=st.lists(st.sampled_from(["permit", "deny"]), min_size=1, max_size=3),
    picks=st.lists(st.integers(0, 2), min_size=1, max_size=40),
    hand_out_all=st.booleans(),
)
def test_the_fast_path_writes_what_the_general_path_writes(
    verdicts: list[str], picks: list[int], hand_out_all: bool
) -> None:
    """Plain ISRC strings take a shortcut; CorpusItems of the same ISRCs do not."""
    from sostenuto_client._filter import _Answer, _Chunk

    index = [pick % len(verdicts) for pick in picks]
    isrcs = [f"SEK4L21{n:05d}" for n in range(len(index))]
    answer = {
        "batch_id": "bat_x",
        "bases": [{"outcome": v, "reason": f"why, {v}"} for v in verdicts],
        "recording_ids": list(range(1, len(index) + 1)),
        "isrcs": isrcs,
        "basis_index": index,
    }
    plain = _Chunk(7, list(isrcs))
    general = _Chunk(7, [CorpusItem(isrc=isrc) for isrc in isrcs])
    assert plain.plain and not general.plain
    offsets = range(len(isrcs))
    fast = plain.settle([_Answer(offsets, answer, [])], hand_out_all)
    slow = general.settle([_Answer(offsets, answer, [])], hand_out_all)
    assert fast == slow


isrc_like = st.from_regex(r"[A-Z]{2}[A-Z0-9]{3}[0-9]{7}", fullmatch=True)


@given(st.lists(isrc_like | st.text(max_size=16) | isrc_like.map(lambda v: v + "\n" + v)))
def test_the_whole_chunk_check_agrees_with_the_check_of_each_isrc(values: list[str]) -> None:
    """A chunk takes the fast path only when every value is an ISRC in the stored form."""
    from sostenuto_client._filter import _all_stored_isrcs

    assert _all_stored_isrcs(list(values)) == all(normalise_isrc(v) == v for v in values)
    assert not _all_stored_isrcs([*values, 7])  # a recording id is not an ISRC

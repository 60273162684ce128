"""``client.consent.filter`` against a live server: chunked batch calls give the answers
single decisions give, in input order; unknown, malformed and unidentified items are reported
apart and never permitted; the permitted ones are declared as a manifest, each file once."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import sostenuto_client as sc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sostenuto_client import _manifest

from sostenuto.registry.demo import RECORDINGS
from tests.client.conftest import AURORA, Live

ISRCS = [r[0] for r in RECORDINGS]
UNKNOWN = "ES-A7Q-24-99999"
QUESTION: dict[str, Any] = {"licensee_id": 1, "use": "train-genai", "territory": "SE"}


def _sha(n: int) -> str:
    return hashlib.sha256(f"file {n}".encode()).hexdigest()


def _single_answers(client: sc.Client) -> dict[str, str]:
    return {
        sc.normalise_isrc(isrc) or "": client.consent.decide(isrc=isrc, **QUESTION)["outcome"]
        for isrc in ISRCS
    }


def test_outcomes_match_single_decisions_in_input_order(live_both: Live, tmp_path: Path) -> None:
    items: list[sc.CorpusItem | str | int] = [
        *[isrc.lower() for isrc in ISRCS],
        UNKNOWN,
        "not an isrc",
        sc.CorpusItem(path="untagged.flac"),
        3,
        999_999,
        *ISRCS[:3],
    ]
    with live_both.client(AURORA) as client:
        single = _single_answers(client)
        run = client.consent.filter(items, chunk_size=7, checkpoint=tmp_path / "j.csv", **QUESTION)
        outcomes = list(run.outcomes())
        assert [o.index for o in outcomes] == list(range(len(items)))
        by_status = {o.index: o.status for o in outcomes}
        for outcome in outcomes[: len(ISRCS)]:
            expected = "permitted" if single[outcome.isrc or ""] == "permit" else "denied"
            assert outcome.status == expected, outcome
            assert re.fullmatch(r"[a-z]+_[0-9A-Za-z_-]+\.\d+", outcome.decision_id or "")
        n = len(ISRCS)
        assert [by_status[n + k] for k in range(5)] == [
            "unregistered",
            "invalid",
            "unidentified",
            by_status[n + 3],
            "unregistered",
        ]
        assert by_status[n + 3] in {"permitted", "denied"}
        assert outcomes[n + 3].recording_id == 3
        # A decision id from a batch is a stored decision about that very recording.
        permitted = [o for o in outcomes if o.permitted]
        assert permitted
        shown = client.consent.decisions.show(permitted[0].decision_id or "")
        assert shown["recording_id"] == permitted[0].recording_id
        counts = run.counts
        assert sum(counts.values()) == len(items)
        assert counts["unregistered"] == 2 and counts["invalid"] == 1
        assert [o.index for o in run.report("unregistered")] == [n, n + 4]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    items=st.lists(
        st.one_of(st.sampled_from(ISRCS), st.just(UNKNOWN), st.text(max_size=14)), max_size=30
    ),
    chunk=st.integers(min_value=1, max_value=9),
    yield_all=st.booleans(),
)
def test_filter_yields_only_what_the_server_permits(
    live: Live,
    tmp_path_factory: pytest.TempPathFactory,
    items: list[str],
    chunk: int,
    yield_all: bool,
) -> None:
    with live.client(AURORA) as client:
        if not hasattr(live, "single"):
            live.single = _single_answers(client)  # type: ignore[attr-defined]
        single: dict[str, str] = live.single  # type: ignore[attr-defined]
        journal = tmp_path_factory.mktemp("filter") / "journal.csv"
        run = client.consent.filter(items, chunk_size=chunk, checkpoint=journal, **QUESTION)
        got = list(run.outcomes() if yield_all else run)
    expected = []
    for index, item in enumerate(items):
        isrc = sc.normalise_isrc(item)
        status = (
            "invalid"
            if isrc is None
            else "unregistered"
            if isrc not in single
            else "permitted"
            if single[isrc] == "permit"
            else "denied"
        )
        if yield_all or status == "permitted":
            expected.append((index, status))
    assert [(o.index, o.status) for o in got] == expected
    assert sum(run.counts.values()) == len(items)


def test_permitted_files_are_declared_once_with_receipts(live: Live, tmp_path: Path) -> None:
    corpus = [sc.CorpusItem(isrc=isrc, sha256=_sha(n)) for n, isrc in enumerate(ISRCS * 3)]
    corpus.append(sc.CorpusItem(isrc=UNKNOWN, sha256=_sha(-1)))
    _manifest.PART_BYTES, before = 900, _manifest.PART_BYTES  # several parts
    try:
        with live.client(AURORA) as client:
            run = client.consent.filter(corpus, chunk_size=10, **QUESTION)
            permitted = list(run)
            receipt = tmp_path / "receipt.json"
            declared = run.declare(client.log, name="demo corpus", model_id=1, receipt=receipt)
            assert declared.files == len(permitted) and len(declared.entries) > 1
            assert declared.new == len(declared.entries)
            again = run.declare(client.log, name="demo corpus", model_id=1)
            assert again.new == 0 and [e["index"] for e in again.entries] == [
                e["index"] for e in declared.entries
            ]
            saved = json.loads(receipt.read_text())
            assert len(saved["proofs"]) == len(saved["entries"])
            assert client.log.verify(bundle=saved["proofs"][0])["valid"] is True
            files = []
            for entry in declared.entries:
                files += client.log.entries.show(entry["index"])["entry"]["payload"]["files"]
    finally:
        _manifest.PART_BYTES = before
    assert sorted(f["sha256"] for f in files) == sorted(o.item.sha256 or "" for o in permitted)
    assert _sha(-1) not in {f["sha256"] for f in files}


def test_declaring_items_without_hashes_is_refused_before_anything_is_sent(
    live: Live,
) -> None:
    with live.client(AURORA) as client:
        run = client.consent.filter(ISRCS, **QUESTION)
        assert list(run)
        size = client.log.checkpoint.show()["size"]
        with pytest.raises(sc.UsageError, match="no sha256"):
            run.declare(client.log, name="no hashes")
        assert client.log.checkpoint.show()["size"] == size


def test_a_checkpoint_belongs_to_one_question(live: Live, tmp_path: Path) -> None:
    with live.client(AURORA) as client:
        list(client.consent.filter(ISRCS, checkpoint=tmp_path / "j.csv", **QUESTION))
        other = client.consent.filter(
            ISRCS, checkpoint=tmp_path / "j.csv", **{**QUESTION, "territory": "ES"}
        )
        with pytest.raises(sc.UsageError, match="another filter"):
            list(other)


def test_csv_manifests_in_and_out(live: Live, tmp_path: Path) -> None:
    source = tmp_path / "corpus.csv"
    audio = tmp_path / "a.flac"
    audio.write_bytes(b"fake audio")
    source.write_text(
        f"path,isrc,source\n{audio},{ISRCS[9]},licensed\n{audio},{UNKNOWN},crawled\n{audio},,user\n"
    )
    items = list(sc.read_csv(source, hash_files=True))
    assert items[0].sha256 == hashlib.sha256(b"fake audio").hexdigest()
    with live.client(AURORA) as client:
        run = client.consent.filter(items, **QUESTION)
        written = sc.write_csv(run.outcomes(), tmp_path / "out.csv")
    rows = (tmp_path / "out.csv").read_text().splitlines()
    assert written == 3 and rows[0].startswith("path,sha256,isrc")
    assert rows[2].endswith("unregistered,not registered")
    assert ",unidentified," in rows[3]
    bad = tmp_path / "bad.csv"
    bad.write_text("isrc,recording_id\nX,one\n")
    with pytest.raises(sc.UsageError, match=r"bad\.csv:2"):
        list(sc.read_csv(bad))


def test_a_revoked_token_stops_the_filter_with_a_typed_error(live: Live) -> None:
    """Nothing is permitted by default: a refused batch is an error, never an empty filter."""
    from sostenuto.auth import issue_token, revoke_token, token_id

    with live.database.transaction() as session:
        token = issue_token(session, role="licensee", label="short-lived", licensee_id=1)
    with live.client(token) as client:
        assert client.meta.whoami()["licensee_id"] == 1
        with live.database.transaction() as session:
            revoke_token(session, token_id(session, token))
        run = client.consent.filter(ISRCS, chunk_size=5, **QUESTION)
        with pytest.raises(sc.Unauthenticated) as refused:
            list(run)
    assert refused.value.status == 401 and "revoked" in refused.value.detail
    assert sum(run.counts.values()) == 0

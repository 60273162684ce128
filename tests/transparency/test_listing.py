"""Listing log entries: public, in log order, every entry once; file hashes are searchable."""

from __future__ import annotations

import hashlib

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sostenuto.errors import InvalidInput
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency import EntryListing, list_entries, log_signer
from sostenuto.transparency._store import LeafInput, append_leaves

TYPES = ("dataset-manifest", "training-run")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _leaf(n: int, entry_type: str, licensee: int, files: list[str]) -> LeafInput:
    payload: dict[str, object] = {"licensee_id": licensee, "n": n}
    if entry_type == "dataset-manifest":
        payload["files"] = [{"sha256": _sha(name)} for name in files]
    body = orjson.dumps(
        {"type": entry_type, "v": 1, "submitter": {"role": "licensee"}, "payload": payload},
        option=orjson.OPT_SORT_KEYS,
    )
    return LeafInput(body, entry_type, licensee_id=licensee)


def _append(database: Database, settings: Settings, leaves: list[LeafInput]) -> None:
    signer = log_signer(settings)
    with database.transaction() as session:
        append_leaves(session, signer, leaves)


def _all(database: Database, limit: int, **filters: object) -> list[EntryListing]:
    items: list[EntryListing] = []
    cursor = None
    with database.reader() as session:
        for _ in range(10_000):
            page = list_entries(session, cursor=cursor, limit=limit, **filters)  # type: ignore[arg-type]
            assert len(page.items) <= limit
            items.extend(page.items)
            if page.next_cursor is None:
                return items
            cursor = page.next_cursor
    raise AssertionError("paging did not end")


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kinds=st.lists(st.tuples(st.sampled_from(TYPES), st.integers(1, 3)), max_size=25),
    limit=st.integers(1, 7),
)
def test_paging_returns_every_entry_once_in_log_order(
    database: Database, settings: Settings, kinds: list[tuple[str, int]], limit: int
) -> None:
    before = len(_all(database, 1000))
    start = before
    if kinds:
        _append(
            database,
            settings,
            [_leaf(start + i, kind, lic, ["x"]) for i, (kind, lic) in enumerate(kinds)],
        )
    everything = _all(database, limit)
    assert [e.index for e in everything] == list(range(before + len(kinds)))
    for kind in TYPES:
        for licensee in (1, 2):
            found = _all(database, limit, entry_type=kind, licensee_id=licensee)
            assert all(e.type == kind and e.licensee_id == licensee for e in found)
            expected = [e.index for e in everything if e.type == kind and e.licensee_id == licensee]
            assert [e.index for e in found] == expected


def test_was_this_file_declared(database: Database, settings: Settings) -> None:
    _append(
        database,
        settings,
        [
            _leaf(0, "dataset-manifest", 1, ["a.wav", "b.wav"]),
            _leaf(1, "training-run", 1, []),
            _leaf(2, "dataset-manifest", 2, ["b.wav", "b.wav", "c.wav"]),
        ],
    )
    assert [e.index for e in _all(database, 10, sha256=_sha("b.wav"))] == [0, 2]
    assert [e.index for e in _all(database, 1, sha256=_sha("c.wav").upper())] == [2]
    assert _all(database, 10, sha256=_sha("never.wav")) == []
    entry = _all(database, 10, sha256=_sha("a.wav"))[0]
    assert entry.entry["payload"]["files"][0]["sha256"] == _sha("a.wav")


def test_bad_filters_and_cursors_are_refused(database: Database, settings: Settings) -> None:
    _append(database, settings, [_leaf(i, "training-run", 1, []) for i in range(3)])
    with database.reader() as session:
        page = list_entries(session, limit=1)
        assert page.next_cursor is not None
        with pytest.raises(InvalidInput, match="another listing or other filters"):
            list_entries(session, entry_type="training-run", cursor=page.next_cursor)
        with pytest.raises(InvalidInput, match="invalid cursor"):
            list_entries(session, cursor="%%%")
        with pytest.raises(InvalidInput, match="sha256"):
            list_entries(session, sha256="abc")
        with pytest.raises(InvalidInput, match="unknown entry type"):
            list_entries(session, entry_type="gossip")

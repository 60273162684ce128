"""Listing stored decisions: every row once, in order; who sees which; cursors checked."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from sostenuto.auth import OPERATOR, PUBLIC, Principal
from sostenuto.consent import DecisionListing, decide, decide_batch, list_decisions
from sostenuto.errors import Forbidden, InvalidInput
from sostenuto.storage import Database
from sostenuto.storage.models.consent import Decision

from .conftest import DAY, World

_counter = itertools.count(1)
AT = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


def _decisions(database: Database, licensee: int, recording: int, outcomes: list[str]) -> None:
    if not outcomes:
        return
    run = next(_counter)
    with database.transaction() as session:
        session.execute(
            insert(Decision),
            [
                {
                    "id": f"dec_{run:04d}_{i:04d}",
                    "decided_at": AT,
                    "licensee_id": licensee,
                    "recording_id": recording,
                    "use": "train-genai",
                    "territory": "ES",
                    "on_date": DAY,
                    "outcome": outcome,
                    "basis": {},
                }
                for i, outcome in enumerate(outcomes)
            ],
        )


def _all(database: Database, principal: Principal, limit: int, **filters: object) -> list:  # type: ignore[type-arg]
    items: list[DecisionListing] = []
    cursor = None
    with database.reader() as session:
        for _ in range(10_000):
            page = list_decisions(session, principal, cursor=cursor, limit=limit, **filters)  # type: ignore[arg-type]
            assert len(page.items) <= limit
            items.extend(page.items)
            if page.next_cursor is None:
                return items
            cursor = page.next_cursor
    raise AssertionError("paging did not end")


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    outcomes=st.lists(st.sampled_from(["permit", "deny"]), max_size=30),
    limit=st.integers(1, 9),
)
def test_paging_returns_every_decision_once_in_order(
    world: World, outcomes: list[str], limit: int
) -> None:
    licensee = world.licensee(f"L{next(_counter)}")
    recording = world.recording(world.performer("P"))
    _decisions(world.database, licensee, recording, outcomes)
    found = _all(world.database, OPERATOR, limit, licensee_id=licensee)
    ids = [item.id for item in found]
    assert ids == sorted(ids) and len(set(ids)) == len(outcomes)
    assert [item.outcome for item in found] == outcomes
    denied = _all(world.database, OPERATOR, limit, licensee_id=licensee, outcome="deny")
    assert len(denied) == outcomes.count("deny")


def _scene(world: World) -> tuple[int, int, int, int, int]:
    cmo = world.cmo("AIE", "ES")
    other_cmo = world.cmo("GVL", "DE")
    member = world.performer("Member")
    world.mandate(member, cmo)
    stranger = world.performer("Stranger")
    world.mandate(stranger, other_cmo)
    mine = world.recording(member)
    theirs = world.recording(stranger)
    licensee = world.licensee("Aurora")
    other = world.licensee("Cadenza")
    return cmo, mine, theirs, licensee, other


def test_each_role_sees_its_own(world: World) -> None:
    cmo, mine, theirs, licensee, other = _scene(world)
    aurora = Principal("aurora", "licensee", licensee_id=licensee)
    cadenza = Principal("cadenza", "licensee", licensee_id=other)
    with world.database.transaction() as session:
        for recording in (mine, theirs):
            decide(
                session,
                aurora,
                licensee_id=licensee,
                recording_id=recording,
                use="train-genai",
                territory="ES",
                on_date=DAY,
            )
        decide(
            session,
            cadenza,
            licensee_id=other,
            recording_id=theirs,
            use="train-genai",
            territory="ES",
            on_date=DAY,
        )
        batch = decide_batch(
            session,
            aurora,
            licensee_id=licensee,
            recording_ids=[mine, theirs],
            use="train-genai",
            territory="ES",
            on_date=DAY,
        )
    admin = Principal("aie", "cmo-admin", cmo_id=cmo)
    auditor = Principal("auditor", "auditor")
    own = _all(world.database, aurora, 2)
    assert {(i.kind, i.recording_id) for i in own} == {
        ("decision", mine),
        ("decision", theirs),
        ("batch", None),
    }
    assert [i.size for i in own if i.kind == "batch"] == [2]
    assert batch.batch_id in {i.id for i in own}
    assert {i.licensee_id for i in _all(world.database, cadenza, 5)} == {other}
    by_admin = _all(world.database, admin, 5)
    assert [(i.kind, i.recording_id) for i in by_admin] == [("decision", mine)]
    assert len(_all(world.database, auditor, 1)) == 4
    assert len(_all(world.database, auditor, 100, recording_id=theirs)) == 2
    with world.database.reader() as session:
        with pytest.raises(Forbidden):
            list_decisions(session, aurora, licensee_id=other)
        with pytest.raises(Forbidden):
            list_decisions(session, PUBLIC)
        first = list_decisions(session, auditor, limit=1)
        assert first.next_cursor is not None
        with pytest.raises(InvalidInput, match="another listing or other filters"):
            list_decisions(session, auditor, licensee_id=licensee, cursor=first.next_cursor)
        with pytest.raises(InvalidInput, match="invalid cursor"):
            list_decisions(session, auditor, cursor="AAAA")
        with pytest.raises(InvalidInput, match="outcome"):
            list_decisions(session, auditor, outcome="maybe")

"""Decision counts per day for the charts, on both databases: UTC days, the period's bounds,
batches, and past days answered again from memory with the same figures."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from sostenuto.auth import Principal
from sostenuto.consent import decision_counts, forget_snapshots
from sostenuto.registry.demo import load_demo
from sostenuto.storage import Database
from sostenuto.storage.models.consent import Decision, DecisionBatch
from sostenuto.storage.models.registry import Licensee, Recording

AUDITOR = Principal("auditor", "auditor")


def test_past_days_are_counted_per_utc_day_with_batches(database: Database) -> None:
    forget_snapshots()
    today = dt.datetime.now(dt.UTC).date()
    ten, nine = today - dt.timedelta(days=10), today - dt.timedelta(days=9)
    late = dt.datetime.combine(ten, dt.time(23, 59, 30), dt.UTC)  # still day ten in UTC
    early = dt.datetime.combine(nine, dt.time(0, 0, 10), dt.UTC)
    with database.transaction() as session:
        load_demo(session)
        licensees = list(session.scalars(select(Licensee.id).order_by(Licensee.id)))[:2]
        recording = session.scalars(select(Recording.id)).first()
        assert recording is not None
        for number, (when, outcome, licensee) in enumerate(
            [
                (late, "permit", licensees[0]),
                (late, "deny", licensees[0]),
                (early, "permit", licensees[1]),
            ]
        ):
            session.add(
                Decision(
                    id=f"dec_test_{number}",
                    decided_at=when,
                    licensee_id=licensee,
                    recording_id=recording,
                    use="train-genai",
                    territory="ES",
                    on_date=when.date(),
                    outcome=outcome,
                    basis={},
                )
            )
        session.add(
            DecisionBatch(
                id="bat_test",
                decided_at=early,
                licensee_id=licensees[0],
                use="train-genai",
                territory="ES",
                on_date=nine,
                size=10,
                permitted=7,
                payload=b"",
            )
        )
    first = today - dt.timedelta(days=20)
    expected = {ten: (1, 1), nine: (8, 3)}
    with database.reader() as session:
        assert decision_counts(session, AUDITOR, first=first, last=today) == expected
        # Again, now from memory, and for a part of the period.
        assert decision_counts(session, AUDITOR, first=first, last=today) == expected
        assert decision_counts(session, AUDITOR, first=nine, last=nine) == {nine: (8, 3)}
        own = Principal("l", "licensee", licensee_id=licensees[1])
        assert decision_counts(session, own, first=first, last=today) == {nine: (1, 0)}


def test_the_settled_part_of_today_grows_without_counting_twice(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sostenuto.consent import _counts

    # Everything older than a moment counts as settled: kept, and then only grown.
    monkeypatch.setattr(_counts, "SETTLED_AFTER", dt.timedelta(0))
    forget_snapshots()
    with database.transaction() as session:
        load_demo(session)
        licensee = session.scalars(select(Licensee.id)).first()
        recording = session.scalars(select(Recording.id)).first()
    assert licensee is not None and recording is not None

    def add(number: int, outcome: str) -> None:
        now = dt.datetime.now(dt.UTC)
        with database.transaction() as session:
            session.add(
                Decision(
                    id=f"dec_live_{number}",
                    decided_at=now,
                    licensee_id=licensee,
                    recording_id=recording,
                    use="train-genai",
                    territory="ES",
                    on_date=now.date(),
                    outcome=outcome,
                    basis={},
                )
            )

    today = dt.datetime.now(dt.UTC).date()
    week = today - dt.timedelta(days=6)
    add(1, "permit")
    with database.reader() as session:
        assert decision_counts(session, AUDITOR, first=week, last=today) == {today: (1, 0)}
    add(2, "deny")
    add(3, "permit")
    with database.reader() as session:
        assert decision_counts(session, AUDITOR, first=week, last=today) == {today: (2, 1)}
        assert decision_counts(session, AUDITOR, first=today, last=today) == {today: (2, 1)}

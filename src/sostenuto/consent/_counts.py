"""How many stored decisions permitted and denied, per day they were taken, for charts.

The caller sees the counts of the decisions :func:`sostenuto.consent.list_decisions` would
list to it (its visibility, not a summary of anyone else's): a licensee its own single and
batch decisions, a CMO admin the single decisions on recordings its members contributed to,
a performer those on its recordings, an auditor all. Counts of moments older than
:data:`SETTLED_AFTER` are kept in memory (see there): a dashboard's month is counted once.
"""

from __future__ import annotations

import datetime as dt
import weakref
from typing import Any

from sqlalchemy import Date, Engine, and_, cast, func, select
from sqlalchemy.orm import Session

from sostenuto.auth import Principal
from sostenuto.consent._listing import _represented_by, _touching
from sostenuto.errors import Forbidden, InvalidInput
from sostenuto.storage.models.consent import Decision, DecisionBatch

# A chart of more days than this is unreadable; a longer question is a report, not a chart.
MAX_DAYS = 366


def _day(value: Any) -> dt.date:
    """A grouped day as either database returns it (SQLite: text; PostgreSQL: a date)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def decision_counts(
    session: Session,
    principal: Principal,
    *,
    first: dt.date,
    last: dt.date,
    licensee_id: int | None = None,
) -> dict[dt.date, tuple[int, int]]:
    """(permitted, denied) per UTC day from ``first`` to ``last`` (inclusive) on which the
    caller's visible decisions were taken; days without any are absent."""
    principal.require("licensee", "cmo-admin", "auditor", "performer")
    if last < first:
        raise InvalidInput(
            f"the period ends ({last}) before it begins ({first})",
            details={"first": first.isoformat(), "last": last.isoformat()},
        )
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput(
            f"a period of at most {MAX_DAYS} days, got {(last - first).days + 1}",
            details={"first": first.isoformat(), "last": last.isoformat()},
        )
    if not principal.operator and principal.role == "licensee":
        if licensee_id is not None and licensee_id != principal.licensee_id:
            raise Forbidden(
                "a licensee counts its own decisions only",
                details={"licensee_id": licensee_id, "token_licensee": principal.licensee_id},
            )
        licensee_id = principal.licensee_id
    # Decisions taken before ``settled`` are all committed: their counts are kept (below).
    settled = dt.datetime.now(dt.UTC) - SETTLED_AFTER
    settled_day = settled.date()
    past_days, settled_days = _kept_for(session)
    key = (
        principal.operator,
        principal.role,
        principal.cmo_id,
        principal.performer_id,
        licensee_id,
    )
    counts: dict[dt.date, tuple[int, int]] = {}
    before = min(last, settled_day - dt.timedelta(days=1))
    if first <= before:
        missing = [day for day in _days(first, before) if (key, day) not in past_days]
        if missing:
            found = _count(session, principal, _start(missing[0]), _end(missing[-1]), licensee_id)
            if len(past_days) > _KEPT:
                past_days.clear()
            for day in _days(missing[0], missing[-1]):
                past_days[(key, day)] = found.get(day, (0, 0))
        for day in _days(first, before):
            if past_days[(key, day)] != (0, 0):
                counts[day] = past_days[(key, day)]
    if last < settled_day:
        return dict(sorted(counts.items()))
    live_from = _start(max(first, settled_day))
    if first <= settled_day:
        # The settled part of the settled day grows from where it was last counted.
        mark, kept = settled_days.get(key, (_start(settled_day), (0, 0)))
        if mark.date() != settled_day or mark > settled:
            mark, kept = _start(settled_day), (0, 0)
        grown = _count(session, principal, mark, settled, licensee_id).get(settled_day, (0, 0))
        kept = (kept[0] + grown[0], kept[1] + grown[1])
        if len(settled_days) > _KEPT:
            settled_days.clear()
        settled_days[key] = (settled, kept)
        if kept != (0, 0):
            counts[settled_day] = kept
        live_from = settled
    for day, (permitted, denied) in _count(
        session, principal, live_from, _end(last), licensee_id
    ).items():
        before_live = counts.get(day, (0, 0))
        counts[day] = (before_live[0] + permitted, before_live[1] + denied)
    return dict(sorted(counts.items()))


# What is kept between calls, per database (engine) and caller's view. A stored decision is
# never changed or removed and is stored in the transaction that takes it, with the moment it
# was taken: once that transaction has committed, a moment's count stays true. SETTLED_AFTER
# bounds how long such a transaction may take; what is younger is counted on every call.
# Without this a CMO's dashboard would re-count 4·10^5 decisions (each checked against its
# members' mandates) on every visit, or a busy day's 10^4 on each.
SETTLED_AFTER = dt.timedelta(minutes=15)
_KEPT = 100_000
PastDays = dict[tuple[Any, dt.date], tuple[int, int]]
# The settled day (usually today): counted up to which moment, and its counts so far.
SettledDays = dict[Any, tuple[dt.datetime, tuple[int, int]]]
_KEPT_BY_ENGINE: weakref.WeakKeyDictionary[Engine, tuple[PastDays, SettledDays]] = (
    weakref.WeakKeyDictionary()
)


def _kept_for(session: Session) -> tuple[PastDays, SettledDays]:
    """The counts kept for the session's database: keyed by the engine, not its URL, since
    two PostgreSQL schemas share a URL."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    return _KEPT_BY_ENGINE.setdefault(engine, ({}, {}))


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def _end(day: dt.date) -> dt.datetime:
    return _start(day + dt.timedelta(days=1))


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _count(
    session: Session,
    principal: Principal,
    start: dt.datetime,
    end: dt.datetime,
    licensee_id: int | None,
) -> dict[dt.date, tuple[int, int]]:
    """The counting itself, in SQL: the caller's visible decisions taken from ``start`` (on)
    to ``end`` (before), per UTC day."""
    counts: dict[dt.date, list[int]] = {}
    day = _utc_day(session, Decision.decided_at)
    conditions: list[Any] = [Decision.decided_at >= start, Decision.decided_at < end]
    if licensee_id is not None:
        conditions.append(Decision.licensee_id == licensee_id)
    if not principal.operator and principal.role == "cmo-admin":
        conditions.append(_represented_by(principal.cmo_id))
    if not principal.operator and principal.role == "performer":
        conditions.append(_touching(principal.performer_id))
    singles = (
        select(day, Decision.outcome, func.count())
        .where(and_(*conditions))
        .group_by(day, Decision.outcome)
    )
    for when, outcome, number in session.execute(singles):
        pair = counts.setdefault(_day(when), [0, 0])
        pair[0 if outcome == "permit" else 1] += int(number)

    # Batches span many recordings: listed to their licensee and to auditors only.
    if principal.operator or principal.role in ("licensee", "auditor"):
        batch_day = _utc_day(session, DecisionBatch.decided_at)
        batch_conditions: list[Any] = [
            DecisionBatch.decided_at >= start,
            DecisionBatch.decided_at < end,
        ]
        if licensee_id is not None:
            batch_conditions.append(DecisionBatch.licensee_id == licensee_id)
        batches = (
            select(batch_day, func.sum(DecisionBatch.permitted), func.sum(DecisionBatch.size))
            .where(and_(*batch_conditions))
            .group_by(batch_day)
        )
        for when, permitted, size in session.execute(batches):
            pair = counts.setdefault(_day(when), [0, 0])
            pair[0] += int(permitted)
            pair[1] += int(size) - int(permitted)
    return {when: (pair[0], pair[1]) for when, pair in counts.items()}


def _utc_day(session: Session, column: Any) -> Any:
    """SQL: the UTC day of a moment. SQLite keeps naive UTC text, which date() reads;
    PostgreSQL's timestamptz is moved to UTC first (the session's zone may be another)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)

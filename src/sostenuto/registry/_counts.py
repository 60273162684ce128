"""Counts for a CMO's dashboard, made in SQL: a CMO may have 10^5 members and 10^6
recordings, which the listing functions would read row by row."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from sostenuto.auth import Principal
from sostenuto.errors import InvalidInput
from sostenuto.registry._common import is_reader_of_all
from sostenuto.storage.models.registry import Mandate, Recording


def _cmo_of(principal: Principal, cmo_id: int) -> int:
    """The CMO counted: its own admin's, or any for an auditor (as the listings allow)."""
    if not is_reader_of_all(principal):
        principal.require("cmo-admin")
        principal.require_cmo(cmo_id)
    return cmo_id


def count_members(
    session: Session, principal: Principal, cmo_id: int, on_date: dt.date, *, up_to: int
) -> int:
    """Performers with an active mandate to the CMO in force on ``on_date``, counted up to
    ``up_to + 1`` (a CMO of 10^5 members: the exact figure cost 300 ms a visit, loaded)."""
    _cmo_of(principal, cmo_id)
    _check_up_to(up_to)
    members = (
        select(Mandate.performer_id)
        .where(
            Mandate.cmo_id == cmo_id,
            Mandate.status == "active",
            Mandate.valid_from <= on_date,
            or_(Mandate.valid_to.is_(None), Mandate.valid_to >= on_date),
        )
        .distinct()
        .limit(up_to + 1)
    ).subquery()
    return int(session.scalar(select(func.count()).select_from(members)) or 0)


def _check_up_to(up_to: int) -> None:
    if up_to < 0:
        raise InvalidInput(f"up_to must not be negative, got {up_to}", details={"up_to": up_to})


def count_recordings(session: Session, principal: Principal, cmo_id: int, *, up_to: int) -> int:
    """Recordings the CMO registered, counted up to ``up_to + 1`` (more than ``up_to`` reads
    as "more than"): counting a 10^6 catalogue exactly on every visit is not worth it."""
    _cmo_of(principal, cmo_id)
    _check_up_to(up_to)
    capped = (
        select(Recording.id).where(Recording.registered_by_cmo_id == cmo_id).limit(up_to + 1)
    ).subquery()
    return int(session.scalar(select(func.count()).select_from(capped)) or 0)

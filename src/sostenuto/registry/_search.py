"""Searching recordings and performers, one keyset page at a time.

Title and name prefixes match case-insensitively (ASCII letters on SQLite) against
``lower(title)`` / ``lower(name)``, which migration ``registry_0004`` indexes together with
the id (on PostgreSQL under the "C" collation, so a prefix is a byte range of the index).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, tuple_
from sqlalchemy.orm import Session

from sostenuto.auth import Principal
from sostenuto.errors import Forbidden, InvalidInput
from sostenuto.registry._common import get_row, is_reader_of_all, require_performer_visible
from sostenuto.registry._records import PerformerInfo, RecordingBasics
from sostenuto.registry._validate import normalise_isni, normalise_isrc
from sostenuto.storage.models.registry import Contribution, Mandate, Performer, Recording
from sostenuto.storage.paging import (
    DEFAULT_LIMIT,
    Page,
    check_limit,
    decode_cursor,
    page_of,
    query_tag,
)

# Above every character a prefix can be followed by, in UTF-8 byte order (SQLite's BINARY and
# PostgreSQL's "C" collation both compare bytes).
_TOP = "\U0010ffff"


def lowered(session: Session, column: Any) -> ColumnElement[str]:
    """``lower(column)``, under the "C" collation on PostgreSQL (what the index holds)."""
    expression: ColumnElement[str] = func.lower(column)
    if session.get_bind().dialect.name == "postgresql":
        expression = expression.collate("C")
    return expression


def _prefix(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    prefix = value.strip().lower()
    if not prefix:
        raise InvalidInput(f"invalid {field}: empty", details={"field": field})
    return prefix


def _keyed(
    session: Session,
    query: Select[*tuple[Any, ...]],
    column: Any,
    row_id: Any,
    prefix: str | None,
    after: tuple[Any, ...] | None,
) -> Select[*tuple[Any, ...]]:
    """Filter by prefix (when given) and continue after the cursor's key, in key order; with
    a prefix the query also selects the key, as ``sort_key``, for the next cursor."""
    if prefix is not None:
        key = lowered(session, column)
        query = query.add_columns(key.label("sort_key"))
        query = query.where(key >= prefix, key < prefix + _TOP)
        if after is not None:
            query = query.where(tuple_(key, row_id) > tuple_(*after))
        return query.order_by(key, row_id)
    if after is not None:
        query = query.where(row_id > after[0])
    return query.order_by(row_id)


def search_recordings(
    session: Session,
    principal: Principal,
    *,
    isrc: str | None = None,
    title_prefix: str | None = None,
    performer_id: int | None = None,
    cmo_id: int | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[RecordingBasics]:
    """Recordings' public facts (ISRC, title, year), in id order or, with ``title_prefix``,
    in title order. Anyone may search by ISRC and title; filtering by a performer needs the
    right to see that performer, by the registering CMO that CMO's admin or an auditor."""
    check_limit(limit)
    prefix = _prefix(title_prefix, "title_prefix")
    isrc = normalise_isrc(isrc) if isrc is not None else None
    if performer_id is not None:
        require_performer_visible(
            session, principal, get_row(session, Performer, performer_id, "performer")
        )
    if (
        cmo_id is not None
        and not is_reader_of_all(principal)
        and (principal.role != "cmo-admin" or principal.cmo_id != cmo_id)
    ):
        raise Forbidden(
            "only that CMO's admin or an auditor may list the recordings a CMO registered",
            details={"cmo_id": cmo_id},
        )
    filters = {"isrc": isrc, "title": prefix, "performer": performer_id, "cmo": cmo_id}
    tag = query_tag("registry.recordings", filters)
    after = decode_cursor(cursor, tag, 2 if prefix is not None else 1)
    query: Select[*tuple[Any, ...]] = select(
        Recording.id, Recording.isrc, Recording.title, Recording.fixation_year
    )
    if isrc is not None:
        query = query.where(Recording.isrc == isrc)
    if cmo_id is not None:
        query = query.where(Recording.registered_by_cmo_id == cmo_id)
    if performer_id is not None:
        query = query.where(
            Recording.id.in_(
                select(Contribution.recording_id).where(Contribution.performer_id == performer_id)
            )
        )
    query = _keyed(session, query, Recording.title, Recording.id, prefix, after)
    rows = session.execute(query.limit(limit + 1)).all()
    return page_of(
        rows,
        limit,
        tag,
        (lambda row: (row.sort_key, row.id)) if prefix is not None else (lambda row: (row.id,)),
        lambda row: RecordingBasics(row.isrc, row.title, row.fixation_year),
        total=len(rows) if isrc is not None else None,
    )


def search_performers(
    session: Session,
    principal: Principal,
    *,
    name_prefix: str | None = None,
    isni: str | None = None,
    cmo_id: int | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[PerformerInfo]:
    """Performers a CMO registered or holds a mandate of (its admin sees its own CMO's; an
    auditor any CMO's, or every performer without ``cmo_id``), in id or name order."""
    check_limit(limit)
    if not is_reader_of_all(principal):
        principal.require("cmo-admin")
        if cmo_id is not None and cmo_id != principal.cmo_id:
            raise Forbidden(
                "a CMO admin lists its own CMO's performers only",
                details={"cmo_id": cmo_id, "token_cmo": principal.cmo_id},
            )
        cmo_id = principal.cmo_id
    prefix = _prefix(name_prefix, "name_prefix")
    isni = normalise_isni(isni) if isni is not None else None
    filters = {"name": prefix, "isni": isni, "cmo": cmo_id}
    tag = query_tag("registry.performers", filters)
    after = decode_cursor(cursor, tag, 2 if prefix is not None else 1)
    query: Select[*tuple[Any, ...]] = select(Performer)
    if isni is not None:
        query = query.where(Performer.isni == isni)
    if cmo_id is not None:
        query = query.where(
            or_(
                Performer.registered_by_cmo_id == cmo_id,
                Performer.id.in_(select(Mandate.performer_id).where(Mandate.cmo_id == cmo_id)),
            )
        )
    query = _keyed(session, query, Performer.name, Performer.id, prefix, after)
    rows = session.execute(query.limit(limit + 1)).all()
    return page_of(
        rows,
        limit,
        tag,
        (lambda row: (row.sort_key, row[0].id))
        if prefix is not None
        else (lambda row: (row[0].id,)),
        lambda row: PerformerInfo.of(row[0]),
    )

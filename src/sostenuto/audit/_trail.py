"""Append audit events inside the caller's transaction, so a change and its record land together."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from sostenuto.auth import Principal
from sostenuto.storage.base import Base
from sostenuto.storage.models.audit import AuditEvent


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def snapshot(row: Base) -> dict[str, Any]:
    """A row's columns as JSON-ready values, for the before/after of an audit event."""
    mapper = inspect(type(row))
    return {column.key: _plain(getattr(row, column.key)) for column in mapper.column_attrs}


def record_change(
    session: Session,
    principal: Principal,
    *,
    action: str,
    entity_type: str,
    entity_id: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Add one audit event to the current transaction (never committed on its own)."""
    session.add(
        AuditEvent(
            at=dt.datetime.now(dt.UTC),
            actor=principal.name,
            actor_role=principal.role,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            before=before,
            after=after,
        )
    )


def record_creation(session: Session, principal: Principal, row: Base, entity_type: str) -> None:
    """Insert ``row`` and audit its creation, with its generated id, in the same transaction."""
    session.add(row)
    session.flush()
    record_change(
        session,
        principal,
        action="create",
        entity_type=entity_type,
        entity_id=getattr(row, "id"),  # noqa: B009  (every audited table has an id column)
        before=None,
        after=snapshot(row),
    )


def list_events(
    session: Session, *, entity_type: str | None = None, limit: int = 100
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if entity_type:
        query = query.where(AuditEvent.entity_type == entity_type)
    return list(session.scalars(query))

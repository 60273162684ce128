"""Reading the audit trail of registry and consent changes (auditors only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.auth import Principal
from sostenuto.registry._records import AuditEntry
from sostenuto.storage.models.audit import AuditEvent
from sostenuto.storage.paging import (
    DEFAULT_LIMIT,
    Page,
    check_limit,
    decode_cursor,
    page_of,
    query_tag,
)


def list_audit(
    session: Session,
    principal: Principal,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """The newest audit events first; only auditors (and the operator) read the trail."""
    principal.require("auditor")
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(max(1, min(limit, 10_000)))
    if entity_type is not None:
        query = query.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    return [_entry(row) for row in session.scalars(query)]


def _entry(row: AuditEvent) -> AuditEntry:
    return AuditEntry(
        row.id,
        row.at,
        row.actor,
        row.actor_role,
        row.action,
        row.entity_type,
        row.entity_id,
        row.before,
        row.after,
    )


def page_audit(
    session: Session,
    principal: Principal,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[AuditEntry]:
    """The audit trail newest first, one keyset page at a time (auditors only)."""
    principal.require("auditor")
    check_limit(limit)
    tag = query_tag("registry.audit", {"type": entity_type, "id": entity_id})
    after = decode_cursor(cursor, tag, 1)
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if after is not None:
        query = query.where(AuditEvent.id < int(after[0]))
    if entity_type is not None:
        query = query.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    rows = list(session.scalars(query.limit(limit + 1)))
    return page_of(rows, limit, tag, lambda row: (row.id,), _entry)

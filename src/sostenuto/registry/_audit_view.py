"""Reading the audit trail of registry and consent changes (auditors only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.auth import Principal
from sostenuto.registry._records import AuditEntry
from sostenuto.storage.models.audit import AuditEvent


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
    return [
        AuditEntry(
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
        for row in session.scalars(query)
    ]

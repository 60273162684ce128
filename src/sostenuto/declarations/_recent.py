"""How many reservations a CMO made or permits it withdrew lately, as declared in the log:
the changes that can take away what licensees declared they use (the office's alert)."""

from __future__ import annotations

import datetime as dt

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.auth import Principal
from sostenuto.storage.models.transparency import LogEntry

# The ``change`` of a consent-change entry that narrows what is permitted.
NARROWING = frozenset({"opt-out", "revoke"})


def recent_narrowing_changes(
    session: Session, principal: Principal, cmo_id: int, *, days: int = 30
) -> int:
    """The CMO's ``consent-change`` entries submitted in the last ``days`` days that reserve
    a use or revoke a permit. Only the CMO's own admins (or the operator) may ask."""
    principal.require_cmo(cmo_id)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    bodies = session.scalars(
        select(LogEntry.body).where(
            LogEntry.entry_type == "consent-change",
            LogEntry.cmo_id == cmo_id,
            LogEntry.submitted_at >= since,
        )
    )
    return sum(
        1 for body in bodies if orjson.loads(bytes(body))["payload"].get("change") in NARROWING
    )

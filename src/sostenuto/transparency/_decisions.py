"""Consent decisions that log entries cite, looked up through the consent service.

Until ``sostenuto.consent.get_decision`` is importable this reads the ``decision`` and
``decision_batch`` tables directly (a batch decision id is ``"<batch id>.<index>"``).
"""

from __future__ import annotations

import importlib
import json
import zlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from sostenuto.auth import OPERATOR
from sostenuto.errors import NotFound
from sostenuto.storage.models.consent import Decision, DecisionBatch


@dataclass(frozen=True)
class CitedDecision:
    id: str
    outcome: str
    licensee_id: int | None
    recording_id: int | None
    use: str | None
    territory: str | None


def _from_service(session: Session, decision_id: str) -> CitedDecision | None:
    # Looked up at run time: the consent service may not be installed in this tree yet.
    get_decision = getattr(importlib.import_module("sostenuto.consent"), "get_decision", None)
    if get_decision is None:
        return None
    found: Any = get_decision(session, OPERATOR, decision_id)
    return CitedDecision(
        id=found.id,
        outcome=found.outcome,
        licensee_id=getattr(found, "licensee_id", None),
        recording_id=getattr(found, "recording_id", None),
        use=getattr(found, "use", None),
        territory=getattr(found, "territory", None),
    )


def _batch_item(payload: bytes, position: int) -> dict[str, Any] | None:
    try:
        document = json.loads(zlib.decompress(payload))
    except (zlib.error, ValueError):
        return None
    items: Any = document
    if isinstance(document, dict):
        items = next((v for v in document.values() if isinstance(v, list)), None)
    if not isinstance(items, list) or not 0 <= position < len(items):
        return None
    item = items[position]
    if isinstance(item, dict):
        return item
    return None


def _from_tables(session: Session, decision_id: str) -> CitedDecision | None:
    single = session.get(Decision, decision_id)
    if single is not None:
        return CitedDecision(
            single.id,
            single.outcome,
            single.licensee_id,
            single.recording_id,
            single.use,
            single.territory,
        )
    batch_id, _, position = decision_id.rpartition(".")
    if not batch_id or not position.isdigit():
        return None
    batch = session.get(DecisionBatch, batch_id)
    if batch is None or int(position) >= batch.size:
        return None
    item = _batch_item(batch.payload, int(position)) or {}
    outcome = item.get("outcome")
    if outcome is None:
        basis = item.get("basis")
        outcome = basis.get("outcome") if isinstance(basis, dict) else None
    recording = item.get("recording_id", item.get("recording"))
    return CitedDecision(
        decision_id,
        str(outcome) if outcome else "unknown",
        batch.licensee_id,
        int(recording) if isinstance(recording, int) else None,
        batch.use,
        batch.territory,
    )


def cited_decision(session: Session, decision_id: str) -> CitedDecision | None:
    """The decision ``decision_id``, or None when no such decision was ever taken."""
    try:
        found = _from_service(session, decision_id)
    except NotFound:
        return None
    if found is not None:
        return found
    return _from_tables(session, decision_id)

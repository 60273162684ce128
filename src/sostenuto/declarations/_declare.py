"""Declaring log entries: the consent decisions they cite are checked, then they are appended."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sostenuto.auth import Principal
from sostenuto.declarations._cited import check_citations, decision_facts
from sostenuto.declarations._deliveries import notify_changes
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency import Receipt, append_prepared, prepare_batch
from sostenuto.transparency import training_summary as _training_summary


def declare_batch(
    database: Database,
    settings: Settings,
    principal: Principal,
    entries: Sequence[tuple[str, Mapping[str, Any]]],
) -> list[Receipt]:
    """Declare several entries under one signed checkpoint, or none of them.

    Each entry is validated, authorised and checked against the registry and the log; every
    consent decision a manifest cites is checked with the consent service (it exists, fits
    the file, the licensee and the manifest's model, permitted, and still holds today). The
    first problem is raised as ``entry N: …`` (in a batch of several) and nothing is appended.
    """
    if not entries:
        return []
    prepared = prepare_batch(database, principal, entries)
    if prepared.citations:
        with database.reader() as session:
            check_citations(session, prepared.citations, several=len(entries) > 1)
    receipts = append_prepared(database, settings, prepared.leaves)
    # Consent changes a CMO declared by hand reach the webhooks as published rules do.
    notify_changes(
        database,
        [
            receipt.index
            for (entry_type, _), receipt in zip(entries, receipts, strict=True)
            if entry_type == "consent-change"
        ],
    )
    return receipts


def declare(
    database: Database,
    settings: Settings,
    principal: Principal,
    entry_type: str,
    payload: Mapping[str, Any],
) -> Receipt:
    """Declare one entry (checked as in :func:`declare_batch`) and return its receipt."""
    return declare_batch(database, settings, principal, [(entry_type, payload)])[0]


def training_summary(database: Database, principal: Principal, model_id: int) -> dict[str, Any]:
    """The model's training-content summary, its annex naming the use of each cited decision."""
    return _training_summary(database, principal, model_id, decision_facts)

"""Declaring log entries: the consent decisions they cite are checked, then they are appended."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from sostenuto.auth import Principal
from sostenuto.declarations._cited import check_citations, decision_facts
from sostenuto.declarations._deliveries import notify_changes
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.label import WatermarkMark
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
    _link_watermarks(database, entries, receipts)
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


_OUR_WATERMARK = re.compile(r"[0-9a-f]{8}")


def _link_watermarks(
    database: Database,
    entries: Sequence[tuple[str, Mapping[str, Any]]],
    receipts: Sequence[Receipt],
) -> None:
    """Point watermark ids issued without a log entry (``label.apply`` with ``declare``
    false) at the output declaration that names them, so a found file's id resolves to it.
    Only the licensee's own ids, and only once: a later declaration never takes one over."""
    named = {
        int(str(payload["watermark_id"]), 16): (int(payload["licensee_id"]), receipt)
        for (entry_type, payload), receipt in zip(entries, receipts, strict=True)
        # A declaration may name any watermark (free text); ours are 8 hex digits.
        if entry_type == "output-declaration"
        and _OUR_WATERMARK.fullmatch(str(payload.get("watermark_id") or ""))
    }
    if not named:
        return
    with database.transaction() as session:
        marks = session.scalars(
            select(WatermarkMark).where(
                WatermarkMark.watermark_id.in_(named), WatermarkMark.log_entry_id.is_(None)
            )
        )
        for mark in marks:
            licensee_id, receipt = named[mark.watermark_id]
            if mark.licensee_id == licensee_id:
                mark.log_entry_id, mark.log_index = receipt.entry_id, receipt.index


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

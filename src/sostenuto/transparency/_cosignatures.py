"""The log's side of cosigning: keep known witnesses' cosignatures on its checkpoints.

A witness verifies a checkpoint and cosigns it (``_cosign``); the log checks the cosigned note
against the checkpoint it signed at that size and against the witness keys it was configured
with (``SOSTENUTO_WITNESS_KEYS``), then stores the cosignature lines in the checkpoint's note.
Every later reader of that checkpoint (tile clients, receipts) gets them, so a client can ask
for a quorum. One line per witness and checkpoint: a newer cosignature replaces an older one.
"""

from __future__ import annotations

from sostenuto.auth import Principal
from sostenuto.errors import IntegrityFailure, InvalidInput, NotFound
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.transparency import LogCheckpoint
from sostenuto.transparency._cosign import (
    CosignerKey,
    is_cosignature_by,
    split_note,
    verify_cosignature,
)
from sostenuto.transparency._note import Checkpoint


def add_cosignatures(
    database: Database, settings: Settings, principal: Principal, cosigned: str
) -> list[str]:
    """Store the known witnesses' valid cosignatures found on ``cosigned``; their names."""
    principal.require("auditor")  # witnesses are run by auditors (or the operator)
    return store_cosignatures(database, settings, cosigned)


def store_cosignatures(database: Database, settings: Settings, cosigned: str) -> list[str]:
    """:func:`add_cosignatures` without the caller check, for the log's own submissions to
    witnesses (C2SP tlog-witness), whose answers it verifies itself."""
    keys = [CosignerKey.parse(key) for key in settings.witness_key_list]
    if not keys:
        raise InvalidInput(
            "this log knows no witnesses: set SOSTENUTO_WITNESS_KEYS to their verifier keys"
        )
    text, lines = split_note(cosigned)
    size = Checkpoint.parse(text).size
    accepted: dict[CosignerKey, str] = {}
    for key in keys:
        try:
            when = verify_cosignature(cosigned, key)
        except IntegrityFailure:
            continue
        accepted[key] = next(line for line in lines if is_cosignature_by(line, key, when))
    if not accepted:
        raise IntegrityFailure(
            "the note carries no valid cosignature of a witness this log knows",
            details={"known": [key.name for key in keys]},
        )
    with database.transaction() as session:
        row = session.get(LogCheckpoint, size, with_for_update=True)
        if row is None:
            raise NotFound(f"this log signed no checkpoint at tree size {size}")
        stored_text, stored_lines = split_note(row.note)
        if stored_text != text:
            raise IntegrityFailure(
                f"the cosigned checkpoint is not the one this log signed at size {size}"
            )
        kept = [
            line for line in stored_lines if not any(is_cosignature_by(line, k) for k in accepted)
        ]
        signatures = kept + list(accepted.values())
        row.note = stored_text + "\n" + "".join(f"{line}\n" for line in signatures)
    return sorted(key.name for key in accepted)

"""The transparency log over HTTP: a JSON API and the C2SP tlog-tiles read paths.

JSON under ``/api/v1/log``; the tile API (``checkpoint``, ``tile/<L>/<N>``,
``tile/entries/<N>``) under ``/log/``, so ``https://<host>/log`` is the prefix a C2SP tile
client or a Sostenuto witness is given.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from sostenuto.api.deps import AppSettings, Caller, Db, SignedIn
from sostenuto.errors import IntegrityFailure
from sostenuto.transparency import (
    add_cosignatures,
    checkpoint,
    consistency_bundle,
    declare,
    declare_batch,
    inclusion_bundle,
    read_entries,
    read_tile,
    summary_pdf,
    training_summary,
    verifier_key,
    verify_consistency_bundle,
    verify_receipt,
)
from sostenuto.transparency._store import entry_at
from sostenuto.transparency._tiles import TILE_WIDTH, encode_bundle, parse_index_path

router = APIRouter(prefix="/api/v1/log", tags=["transparency"])
tiles_router = APIRouter(prefix="/log", tags=["transparency tiles"])

_IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
_FRESH = {"Cache-Control": "no-cache"}


class EntryIn(BaseModel):
    type: str = Field(description="dataset-manifest, training-run, output-declaration, ...")
    payload: dict[str, Any]


class BatchIn(BaseModel):
    entries: list[EntryIn] = Field(min_length=1, max_length=100_000)


class CosignedIn(BaseModel):
    note: str = Field(description="A checkpoint of this log with witness cosignature lines.")


class VerifyIn(BaseModel):
    bundle: dict[str, Any]
    verifier_key: str | None = Field(
        default=None, description="Key to verify against; default: this log's own key."
    )


@router.get("/key")
def get_key(settings: AppSettings) -> dict[str, str]:
    return {"verifier_key": verifier_key(settings)}


@router.get("/checkpoint")
def get_checkpoint(database: Db, settings: AppSettings) -> dict[str, Any]:
    signed = checkpoint(database, settings)
    return {"size": signed.size, "root": signed.root.hex(), "note": signed.note}


@router.post("/entries", status_code=201)
def post_entry(
    body: EntryIn, database: Db, settings: AppSettings, caller: SignedIn
) -> dict[str, Any]:
    return declare(database, settings, caller, body.type, body.payload).__dict__


@router.post("/batches", status_code=201)
def post_batch(body: BatchIn, database: Db, settings: AppSettings, caller: SignedIn) -> list[Any]:
    receipts = declare_batch(
        database, settings, caller, [(e.type, e.payload) for e in body.entries]
    )
    return [r.__dict__ for r in receipts]


@router.get("/entries/{index}")
def get_entry(index: int, database: Db) -> dict[str, Any]:
    import orjson

    with database.reader() as session:
        row = entry_at(session, index)
        body = bytes(row.body)
        return {
            "index": row.idx,
            "entry_id": bytes(row.leaf_hash).hex(),
            "type": row.entry_type,
            "entry": orjson.loads(body),
            "canonical": body.decode(),
        }


@router.get("/proofs/inclusion/{index}")
def get_inclusion(index: int, database: Db, size: int | None = None) -> dict[str, Any]:
    return inclusion_bundle(database, index, size)


@router.get("/proofs/consistency")
def get_consistency(database: Db, first: int, second: int | None = None) -> dict[str, Any]:
    return consistency_bundle(database, first, second)


@router.post("/cosignatures")
def post_cosignatures(
    body: CosignedIn, database: Db, settings: AppSettings, caller: SignedIn
) -> dict[str, list[str]]:
    """A witness (auditor token) hands over its cosignature; known witnesses' are kept."""
    return {"accepted": add_cosignatures(database, settings, caller, body.note)}


@router.post("/verify")
def post_verify(body: VerifyIn, settings: AppSettings) -> dict[str, Any]:
    """Verify a receipt or consistency bundle; the verdict is in ``valid``."""
    key = body.verifier_key or verifier_key(settings)
    try:
        if body.bundle.get("format") == "sostenuto-consistency/1":
            old, new = verify_consistency_bundle(body.bundle, key)
            return {"valid": True, "kind": "consistency", "first": old.size, "second": new.size}
        verified = verify_receipt(body.bundle, key)
        return {
            "valid": True,
            "kind": "inclusion",
            "index": verified.index,
            "tree_size": verified.checkpoint.size,
        }
    except IntegrityFailure as error:
        return {"valid": False, "detail": error.message}


@router.get("/summaries/{model_id}.pdf", response_class=Response)
def get_summary_pdf(model_id: int, database: Db, caller: Caller) -> Response:
    pdf = summary_pdf(training_summary(database, caller, model_id))
    return Response(pdf, media_type="application/pdf")


@router.get("/summaries/{model_id}")
def get_summary(model_id: int, database: Db, caller: Caller) -> dict[str, Any]:
    return training_summary(database, caller, model_id)


@tiles_router.get("/checkpoint", response_class=PlainTextResponse)
def tile_checkpoint(database: Db, settings: AppSettings) -> PlainTextResponse:
    return PlainTextResponse(checkpoint(database, settings).note, headers=_FRESH)


@tiles_router.get("/tile/entries/{path:path}", response_class=Response)
def tile_entries(path: str, database: Db) -> Response:
    index, width = parse_index_path(path)
    data = encode_bundle(read_entries(database, index * TILE_WIDTH, width))
    headers = _IMMUTABLE if width == TILE_WIDTH else _FRESH
    return Response(data, media_type="application/octet-stream", headers=headers)


@tiles_router.get("/tile/{level:int}/{path:path}", response_class=Response)
def tile_hashes(level: int, path: str, database: Db) -> Response:
    index, width = parse_index_path(path)
    data = read_tile(database, level, index, width)
    # A partial tile of a given width never changes either: later tiles only extend it.
    return Response(data, media_type="application/octet-stream", headers=_IMMUTABLE)

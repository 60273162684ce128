"""The transparency log over HTTP: a JSON API and the C2SP tlog-tiles read paths.

JSON under ``/api/v1/log``; the tile API (``checkpoint``, ``tile/<L>/<N>``,
``tile/entries/<N>``) under ``/log/``, so ``https://<host>/log`` is the prefix a C2SP tile
client or a Sostenuto witness is given. Under ``/witness/`` this service is a C2SP
tlog-witness for the logs it is configured to follow (``add-checkpoint``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from sostenuto.api.deps import AppSettings, AuditorOnly, Caller, Db, LicenseeOrCmoAdmin
from sostenuto.api.params import Code, Cursor, Document, Id, LogIndex, LogSize, PageSize
from sostenuto.declarations import declare, declare_batch, training_summary
from sostenuto.errors import IntegrityFailure
from sostenuto.storage.paging import DEFAULT_LIMIT, Page
from sostenuto.transparency import (
    EntryListing,
    OldSizeMismatch,
    add_checkpoint,
    add_cosignatures,
    checkpoint,
    consistency_bundle,
    inclusion_bundle,
    list_entries,
    read_entries,
    read_tile,
    summary_pdf,
    verifier_key,
    verify_consistency_bundle,
    verify_receipt,
    verify_tlog_proof,
)
from sostenuto.transparency._store import entry_at
from sostenuto.transparency._tiles import TILE_WIDTH, encode_bundle, parse_index_path, parse_level
from sostenuto.transparency._tlogproof import TLOG_PROOF_HEADER
from sostenuto.transparency._witness_service import (
    MAX_REQUEST_BYTES,
    SIZE_MEDIA_TYPE,
    MalformedRequest,
)

router = APIRouter(prefix="/api/v1/log", tags=["transparency"])
tiles_router = APIRouter(prefix="/log", tags=["transparency tiles"])
witness_router = APIRouter(prefix="/witness", tags=["transparency witness"])

_IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
# One spelling per tile (C2SP tlog-tiles); any other is answered 404, as a missing tile is.
TileLevel = Annotated[
    str, Path(description="The tile level: 0 to 63 in decimal, no leading zeros.", examples=["0"])
]
TilePath = Annotated[
    str,
    Path(
        description="The tile index in 3-digit groups, all but the last prefixed x, and "
        "`.p/<W>` for a partial tile of width 1 to 255: `x001/x234/067`, `000.p/17`.",
        examples=["000", "000.p/1"],
    ),
]
_FRESH = {"Cache-Control": "no-cache"}


class EntryIn(BaseModel):
    type: Code = Field(
        max_length=32, description="dataset-manifest, training-run, output-declaration, ..."
    )
    payload: dict[str, Any]


class BatchIn(BaseModel):
    entries: list[EntryIn] = Field(min_length=1, max_length=100_000)


class CosignedIn(BaseModel):
    note: Document = Field(description="A checkpoint of this log with witness cosignature lines.")


class VerifyIn(BaseModel):
    bundle: dict[str, Any]
    verifier_key: Document | None = Field(
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
    body: EntryIn, database: Db, settings: AppSettings, caller: LicenseeOrCmoAdmin
) -> dict[str, Any]:
    return declare(database, settings, caller, body.type, body.payload).__dict__


@router.post("/batches", status_code=201)
def post_batch(
    body: BatchIn, database: Db, settings: AppSettings, caller: LicenseeOrCmoAdmin
) -> list[Any]:
    receipts = declare_batch(
        database, settings, caller, [(e.type, e.payload) for e in body.entries]
    )
    return [r.__dict__ for r in receipts]


@router.get("/entries/{index}")
def get_entry(index: LogIndex, database: Db) -> dict[str, Any]:
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
def get_inclusion(index: LogIndex, database: Db, size: LogSize | None = None) -> dict[str, Any]:
    return inclusion_bundle(database, index, size)


@router.get("/proofs/consistency")
def get_consistency(database: Db, first: LogSize, second: LogSize | None = None) -> dict[str, Any]:
    return consistency_bundle(database, first, second)


@router.post("/cosignatures")
def post_cosignatures(
    body: CosignedIn, database: Db, settings: AppSettings, caller: AuditorOnly
) -> dict[str, list[str]]:
    """A witness (auditor token) hands over its cosignature; known witnesses' are kept."""
    return {"accepted": add_cosignatures(database, settings, caller, body.note)}


@router.post("/verify")
def post_verify(body: VerifyIn, settings: AppSettings) -> dict[str, Any]:
    """Verify a receipt or consistency bundle; the verdict is in ``valid``."""
    key = body.verifier_key or verifier_key(settings)
    try:
        if body.bundle.get("format") == TLOG_PROOF_HEADER:
            proof = body.bundle.get("proof")
            if not isinstance(proof, str):
                raise IntegrityFailure("a tlog-proof bundle carries the proof text in 'proof'")
            index, head, _ = verify_tlog_proof(proof, key)
            return {"valid": True, "kind": "inclusion", "index": index, "tree_size": head.size}
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
def get_summary_pdf(model_id: Id, database: Db, caller: Caller) -> Response:
    pdf = summary_pdf(training_summary(database, caller, model_id))
    return Response(pdf, media_type="application/pdf")


@router.get("/summaries/{model_id}")
def get_summary(model_id: Id, database: Db, caller: Caller) -> dict[str, Any]:
    return training_summary(database, caller, model_id)


@tiles_router.get("/checkpoint", response_class=PlainTextResponse)
def tile_checkpoint(database: Db, settings: AppSettings) -> PlainTextResponse:
    return PlainTextResponse(checkpoint(database, settings).note, headers=_FRESH)


@tiles_router.get("/tile/entries/{path:path}", response_class=Response)
def tile_entries(path: TilePath, database: Db) -> Response:
    index, width = parse_index_path(path)
    data = encode_bundle(read_entries(database, index * TILE_WIDTH, width))
    headers = _IMMUTABLE if width == TILE_WIDTH else _FRESH
    return Response(data, media_type="application/octet-stream", headers=headers)


@tiles_router.get("/tile/{level}/{path:path}", response_class=Response)
def tile_hashes(level: TileLevel, path: TilePath, database: Db) -> Response:
    index, width = parse_index_path(path)
    data = read_tile(database, parse_level(level), index, width)
    # A partial tile of a given width never changes either: later tiles only extend it.
    return Response(data, media_type="application/octet-stream", headers=_IMMUTABLE)


_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_ADD_CHECKPOINT_EXAMPLE = (
    "old 0\n\nexample.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\u2014 example.com/log Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q"
    "1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


@witness_router.post(
    "/add-checkpoint",
    response_class=PlainTextResponse,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/plain": {
                    "schema": {"type": "string", "maxLength": MAX_REQUEST_BYTES},
                    "example": _ADD_CHECKPOINT_EXAMPLE,
                }
            },
        },
        "responses": {
            "200": {
                "description": "The witness's cosignature line(s) on the checkpoint.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            "400": {
                "description": "The old size is above the checkpoint's, or the body is not "
                "an add-checkpoint request.",
                "content": {"application/problem+json": {"schema": _PROBLEM_REF}},
            },
            "409": {
                "description": "The old size is not the one this witness last cosigned: the "
                "body is that size (a `text/x.tlog.size` answer); or the sizes are equal and "
                "the roots differ (a problem document).",
                "content": {
                    SIZE_MEDIA_TYPE: {"schema": {"type": "string", "pattern": "^[0-9]+\n$"}},
                    "application/problem+json": {"schema": _PROBLEM_REF},
                },
            },
        },
    },
)
async def witness_add_checkpoint(request: Request, settings: AppSettings) -> Response:
    """C2SP tlog-witness ``add-checkpoint``: a log this service witnesses submits its new
    checkpoint with the old size and a consistency proof, and gets this witness's cosignature.
    No token: the log's signature on the checkpoint is the authentication (the spec's)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_REQUEST_BYTES:
            raise MalformedRequest(f"an add-checkpoint body is at most {MAX_REQUEST_BYTES} bytes")
    try:
        # File locks and fsync: off the event loop.
        lines = await run_in_threadpool(add_checkpoint, settings, bytes(body))
    except OldSizeMismatch as stale:
        # Exactly the spec's media type (Starlette would add "; charset=utf-8" to text/*).
        return Response(
            f"{stale.latest_size}\n", status_code=409, headers={"content-type": SIZE_MEDIA_TYPE}
        )
    return PlainTextResponse(lines)


@router.get("/entries", response_model=Page[EntryListing])
def list_log_entries(
    database: Db,
    entry_type: Code | None = None,
    licensee_id: Id | None = None,
    model_id: Id | None = None,
    sha256: Code | None = None,
    cursor: Cursor | None = None,
    limit: PageSize = DEFAULT_LIMIT,
) -> Page[EntryListing]:
    """Log entries in log order, one page at a time (public); ``sha256`` finds the dataset
    manifests that declared a file with that content hash."""
    with database.reader() as session:
        return list_entries(
            session,
            entry_type=entry_type,
            licensee_id=licensee_id,
            model_id=model_id,
            sha256=sha256,
            cursor=cursor,
            limit=limit,
        )

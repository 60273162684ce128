"""The API as a contract: every operation's stable id, summary, description, errors, examples.

The OpenAPI document is the contract clients build against, so what it says must not change by
accident. Operation ids are written here, one per operation, as ``<area>.<resource>.<verb>``
(``consent.decide``, ``registry.recordings.show``): renaming a route's function changes
nothing a client sees, and ``tests/api/operation_ids.txt`` pins the whole list so that adding,
removing or renaming an operation shows in review. Each operation also gets a one-line
summary, a description (the route's docstring, else the one written here), the error answers
it can give (each an RFC 9457 problem document) and an example request body.

Errors are documented from what the route depends on: a route that reads the token can answer
401 (``Caller``: a bad token; ``SignedIn`` and the role gates: no token either), a signed-in
route 403 (a role or tenant that may not), a route with path parameters 404 (nothing there);
404, 403 and 409 beyond that are named per operation below; 422 everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from sostenuto.api._routing import api_routes
from sostenuto.api.deps import get_principal, require_signed_in


@dataclass(frozen=True)
class Operation:
    id: str
    summary: str
    description: str | None = None  # where the route has no docstring
    errors: frozenset[int] = field(default_factory=frozenset)  # beyond the derived ones
    example: dict[str, Any] | None = None  # a request body
    answer: Any = None  # a response example (cheap ones only)


def _op(
    id: str,
    summary: str,
    description: str | None = None,
    *,
    errors: tuple[int, ...] = (),
    example: dict[str, Any] | None = None,
    answer: Any = None,
) -> Operation:
    return Operation(id, summary, description, frozenset(errors), example, answer)


_RULE = {
    "scope": "recording",
    "scope_id": 1,
    "uses": ["train-genai"],
    "territories": ["ES"],
    "licensee_id": 1,
    "valid_from": "2026-01-01",
    "note": "licensed for the 2026 training run",
}
_FILE = "(the file's bytes)"

OPERATIONS: dict[str, Operation] = {
    # ------------------------------------------------------------------ meta
    "GET /api/v1/health": _op(
        "meta.health",
        "Check that the service is up",
        "Always answers while the service runs, with its version.",
        answer={"status": "ok", "version": "0.1.0"},
    ),
    "GET /api/v1/whoami": _op(
        "meta.whoami",
        "Show who the caller is",
        "The caller the token names (its role, and the CMO or licensee it is bound to), or "
        "the anonymous public without a token.",
        answer={"name": "AIE admin", "role": "cmo-admin", "cmo_id": 1, "licensee_id": None},
    ),
    # ------------------------------------------------------------------ registry
    "GET /api/v1/registry/cmos": _op("registry.cmos.list", "List CMOs"),
    "POST /api/v1/registry/agreements": _op(
        "registry.agreements.add",
        "Record a representation agreement between CMOs",
        errors=(404, 409),
        example={
            "cmo_id": 1,
            "partner_cmo_id": 2,
            "territories": ["ES"],
            "uses": ["train-genai"],
            "admin_fee": "0.10",
            "valid_from": "2026-01-01",
        },
    ),
    "GET /api/v1/registry/cmos/{cmo_id}/agreements": _op(
        "registry.agreements.list",
        "List a CMO's agreements",
        "The representation agreements a CMO is party to, either side.",
    ),
    "POST /api/v1/registry/performers": _op(
        "registry.performers.add",
        "Register a performer",
        "Register a performer with a CMO; ISNI and IPN are checked and must be unique.",
        errors=(404, 409),
        example={"name": "Ana Ruiz", "isni": "0000000412345671", "nationality": "ES", "cmo_id": 1},
    ),
    "GET /api/v1/registry/performers": _op("registry.performers.search", "Search performers"),
    "GET /api/v1/registry/performers/{performer_id}": _op(
        "registry.performers.show", "Show a performer"
    ),
    "POST /api/v1/registry/mandates": _op(
        "registry.mandates.add",
        "Record a performer's mandate to a CMO",
        errors=(404, 409),
        example={
            "performer_id": 1,
            "cmo_id": 1,
            "territories": ["WW"],
            "uses": ["train-genai", "voice-clone"],
            "valid_from": "2026-01-01",
        },
    ),
    "GET /api/v1/registry/mandates": _op(
        "registry.mandates.list",
        "List mandates",
        "Mandates the caller may see, by CMO, performer and the day they are in force.",
    ),
    "POST /api/v1/registry/mandates/{mandate_id}/confirm": _op(
        "registry.mandates.confirm", "Confirm a pending mandate", errors=(409,)
    ),
    "POST /api/v1/registry/mandates/{mandate_id}/end": _op(
        "registry.mandates.end",
        "End a mandate",
        "End a mandate on a day; it no longer counts from the day after.",
        errors=(409,),
        example={"on": "2026-12-31"},
    ),
    "POST /api/v1/registry/recordings": _op(
        "registry.recordings.add",
        "Register a recording",
        errors=(404, 409),
        example={
            "cmo_id": 1,
            "isrc": "ES-A7Q-24-00001",
            "title": "Lluvia de marzo",
            "duration_ms": 215000,
            "fixation_year": 2024,
            "contributions": [{"performer_id": 1, "featured": True, "kind": "voice"}],
        },
    ),
    "GET /api/v1/registry/recordings": _op("registry.recordings.search", "Search recordings"),
    "GET /api/v1/registry/recordings/{isrc}": _op("registry.recordings.show", "Show a recording"),
    "POST /api/v1/registry/recordings/{isrc}/contributions": _op(
        "registry.contributions.add",
        "Add a contribution to a recording",
        "Name a performer's part in a recording (voice or instrument, featured or not).",
        errors=(409,),
        example={"performer_id": 1, "featured": False, "kind": "instrument", "instrument": "bass"},
    ),
    "POST /api/v1/registry/imports": _op(
        "registry.catalogue.import",
        "Import a catalogue file",
        errors=(404, 409, 415),
        example={"file": _FILE},
    ),
    "GET /api/v1/registry/licensees": _op(
        "registry.licensees.list",
        "List licensees",
        "Licensees the caller may see: a licensee itself, CMO admins and auditors all.",
    ),
    "POST /api/v1/registry/licensees": _op(
        "registry.licensees.add",
        "Register a licensee",
        "Register an AI developer or platform that can be granted licences.",
        errors=(409,),
        example={"name": "Aurora Audio Labs", "kind": "developer", "country": "SE"},
    ),
    "POST /api/v1/registry/licensees/{licensee_id}/models": _op(
        "registry.models.add",
        "Declare a model",
        errors=(409,),
        example={"name": "aurora-gen", "version": "2.1", "purpose": "music generation"},
    ),
    "GET /api/v1/registry/licensees/{licensee_id}/models": _op(
        "registry.models.list", "List a licensee's models", "The models a licensee declared."
    ),
    "POST /api/v1/registry/licences": _op(
        "registry.licences.grant",
        "Grant a licence",
        errors=(404, 409),
        example={
            "cmo_id": 1,
            "licensee_id": 1,
            "uses": ["train-genai"],
            "territories": ["ES"],
            "valid_from": "2026-01-01",
            "tariff_ref": "AIE-GENAI-2026",
        },
    ),
    "GET /api/v1/registry/licences": _op("registry.licences.list", "List licences"),
    "POST /api/v1/registry/licences/{licence_id}/suspend": _op(
        "registry.licences.suspend",
        "Suspend a licence",
        errors=(409,),
        example={"effective_from": "2026-07-01"},
    ),
    "GET /api/v1/registry/audit": _op("registry.audit.list", "Read the audit trail"),
    # ------------------------------------------------------------------ consent
    "POST /api/v1/consent/decisions": _op(
        "consent.decide",
        "Decide one use of one recording",
        errors=(404,),
        example={
            "licensee_id": 1,
            "isrc": "ES-A7Q-24-00001",
            "use": "train-genai",
            "territory": "ES",
            "on_date": "2026-06-01",
        },
    ),
    "GET /api/v1/consent/decisions": _op("consent.decisions.list", "List stored decisions"),
    "POST /api/v1/consent/decisions/batch": _op(
        "consent.decide-batch",
        "Decide one use of many recordings",
        errors=(404,),
        example={
            "licensee_id": 1,
            "recording_ids": [1, 2, 3],
            "use": "train-genai",
            "territory": "ES",
        },
    ),
    "POST /api/v1/consent/performer-decisions": _op(
        "consent.decide-performer",
        "Decide one use of a performer",
        errors=(404,),
        example={
            "licensee_id": 1,
            "isni": "0000000412345671",
            "use": "voice-clone",
            "territory": "ES",
        },
    ),
    "GET /api/v1/consent/decisions/{decision_id}": _op(
        "consent.decisions.show", "Show a stored decision"
    ),
    "GET /api/v1/consent/rules": _op(
        "consent.rules.list",
        "List consent rules",
        "Consent rules (permissions, prohibitions, opt-outs) by scope and licensee; rules "
        "naming a licensee are shown to that licensee, its CMO's admins and auditors only.",
        errors=(403,),
    ),
    "POST /api/v1/consent/rules/permit": _op(
        "consent.rules.permit",
        "Permit a use",
        "Add a permission for a recording, a performer or a CMO's repertoire; the change is "
        "declared in the transparency log and the answer carries its log entry.",
        errors=(404, 409),
        example=_RULE,
    ),
    "POST /api/v1/consent/rules/prohibit": _op(
        "consent.rules.prohibit",
        "Prohibit a use",
        "Add a prohibition (no conditions); the change is declared in the transparency log.",
        errors=(404, 409),
        example={key: value for key, value in _RULE.items() if key != "note"},
    ),
    "POST /api/v1/consent/rules/opt-out": _op(
        "consent.rules.opt-out",
        "Record a performer's opt-out",
        "Reserve a performer's rights against uses (text and data mining by default), in "
        "every territory unless named; the change is declared in the transparency log.",
        errors=(404, 409),
        example={"performer_id": 1, "uses": ["train-ai"], "territories": ["WW"]},
    ),
    "POST /api/v1/consent/rules/{rule_id}/revoke": _op(
        "consent.rules.revoke",
        "Revoke a rule",
        "End a rule from a day (today by default); the change is declared in the log.",
        errors=(409,),
        example={"effective_from": "2026-07-01"},
    ),
    "POST /api/v1/consent/rules/{rule_id}/publish": _op(
        "consent.rules.publish", "Declare a rule in the log again"
    ),
    "POST /api/v1/consent/requests": _op(
        "consent.requests.add",
        "Ask one's CMO for a consent change",
        errors=(404, 409),
        example={"action": "prohibit", "uses": ["voice-clone"], "territories": ["WW"]},
    ),
    "GET /api/v1/consent/requests": _op("consent.requests.list", "List performers' requests"),
    "POST /api/v1/consent/requests/{request_id}/apply": _op(
        "consent.requests.apply",
        "Apply a performer's request",
        errors=(409,),
        example={"note": "confirmed by phone with the performer"},
    ),
    "POST /api/v1/consent/requests/{request_id}/decline": _op(
        "consent.requests.decline",
        "Decline a performer's request",
        errors=(409,),
        example={"reason": "the mandate does not cover voice-clone; renew it first"},
    ),
    "GET /api/v1/consent/exports/{party}/{party_id}": _op(
        "consent.exports.show", "Export reservations as ODRL, TDMRep or AIPREF"
    ),
    "GET /api/v1/consent/jurisdictions": _op(
        "consent.jurisdictions.list", "List jurisdiction rules"
    ),
    # ------------------------------------------------------------------ standards
    "POST /api/v1/standards/content-usage": _op(
        "standards.content-usage.import",
        "State reservations as an AIPREF Content-Usage value",
        "train-ai=n becomes a prohibition of train-genai, search=n of search-index, y a "
        "permission; an unknown label or a malformed value is refused (422). Each rule is "
        "declared in the transparency log.",
        errors=(404, 409),
        example={
            "scope": "cmo",
            "scope_id": 1,
            "content_usage": "train-ai=n",
            "territories": ["ES"],
        },
    ),
    "GET /api/v1/standards/cmos/{cmo_id}/robots.txt": _op(
        "standards.robots.show",
        "robots.txt with AIPREF Content-Usage rules for a CMO's catalogue site",
        "One Content-Usage rule per recording page (draft-ietf-aipref-attach).",
    ),
    "GET /api/v1/standards/cmos/{cmo_id}/tdmrep.json": _op(
        "standards.tdmrep.show", "A CMO's TDMRep well-known entries"
    ),
    "GET /api/v1/standards/{party}/{party_id}/tdm-policy": _op(
        "standards.tdm-policies.show", "The TDMRep policy of a CMO or a performer"
    ),
    "GET /api/v1/standards/cmos/{cmo_id}/recordings/{isrc}": _op(
        "standards.content-usage.show",
        "A recording page's AIPREF preferences",
        "In the Content-Usage header (absent when nothing is stated) and the body.",
    ),
    # ------------------------------------------------------------------ transparency
    "GET /api/v1/log/key": _op(
        "log.key.show",
        "Show the log's verifier key",
        "The note verifier key receipts, checkpoints and tiles are checked against.",
    ),
    "GET /api/v1/log/checkpoint": _op(
        "log.checkpoint.show",
        "Show the latest checkpoint",
        "The log's size, root hash and signed checkpoint note, with any witness cosignatures.",
    ),
    "POST /api/v1/log/entries": _op(
        "log.entries.declare",
        "Declare an entry in the log",
        "Append one declaration (a dataset manifest, a training run, an output) in the "
        "caller's name; the answer is its receipt, with an inclusion proof.",
        errors=(404, 409),
        example={
            "type": "training-run",
            "payload": {"licensee_id": 1, "model_id": 1, "dataset": "corpus-2026-05"},
        },
    ),
    "GET /api/v1/log/entries": _op("log.entries.list", "List log entries"),
    "POST /api/v1/log/batches": _op(
        "log.batches.declare",
        "Declare many entries in the log",
        "Append up to 100 000 declarations at once, all or none; one receipt each.",
        errors=(404, 409),
        example={
            "entries": [
                {"type": "output-declaration", "payload": {"licensee_id": 1, "model_id": 1}}
            ]
        },
    ),
    "GET /api/v1/log/entries/{index}": _op(
        "log.entries.show",
        "Show a log entry",
        "The entry at a position of the log: its type, content and canonical JSON text.",
    ),
    "GET /api/v1/log/proofs/inclusion/{index}": _op(
        "log.proofs.inclusion",
        "Prove an entry's inclusion",
        "A receipt bundle proving the entry at ``index`` is in the tree of ``size`` entries "
        "(the latest checkpoint by default); ``tlog_proof`` holds the same as a C2SP "
        "tlog-proof.",
    ),
    "GET /api/v1/log/proofs/consistency": _op(
        "log.proofs.consistency",
        "Prove two tree sizes consistent",
        "A bundle proving the log of ``second`` entries extends the log of ``first``.",
        errors=(404,),
    ),
    "POST /api/v1/log/cosignatures": _op(
        "log.cosignatures.add",
        "Hand over witness cosignatures",
        example={"note": "sostenuto.example/log\n42\n...\n\n- witness.example ...\n"},
    ),
    "POST /api/v1/log/verify": _op(
        "log.verify",
        "Verify a receipt or consistency bundle",
        example={"bundle": {"format": "sostenuto-receipt/1"}},
        answer={"valid": True, "kind": "inclusion", "index": 41, "tree_size": 42},
    ),
    "GET /api/v1/log/summaries/{model_id}.pdf": _op(
        "log.summaries.pdf",
        "Show a model's training-content summary as PDF",
        "The training-content summary of a model, rendered as a PDF document.",
        errors=(403,),
    ),
    "GET /api/v1/log/summaries/{model_id}": _op(
        "log.summaries.show",
        "Show a model's training-content summary",
        "What the log holds of a model's training content: datasets, rights reservations "
        "honoured, the decisions cited, in the EU AI Act template's sections.",
        errors=(403,),
    ),
    "GET /log/checkpoint": _op(
        "log.tiles.checkpoint",
        "Read the checkpoint (C2SP tlog-tiles)",
        "The signed checkpoint note, as a C2SP tlog-tiles client or a witness reads it.",
    ),
    "GET /log/tile/entries/{path}": _op(
        "log.tiles.entries",
        "Read an entry bundle tile (C2SP tlog-tiles)",
        "A tile of entries, full (immutable) or partial.",
    ),
    "GET /log/tile/{level}/{path}": _op(
        "log.tiles.hashes",
        "Read a hash tile (C2SP tlog-tiles)",
        "A tile of Merkle tree hashes at a level.",
    ),
    "POST /witness/add-checkpoint": _op(
        "log.witness.add-checkpoint",
        "Submit a checkpoint to this witness (C2SP tlog-witness)",
        errors=(403, 404),
    ),
    # ------------------------------------------------------------------ changes
    "GET /api/v1/changes": _op(
        "changes.list",
        "Read a licensee's revocation feed",
        errors=(403,),
    ),
    "POST /api/v1/webhooks": _op(
        "webhooks.add",
        "Subscribe a URL to the revocation feed",
        errors=(404, 409),
        example={"url": "https://ml.example/hooks/sostenuto"},
    ),
    "GET /api/v1/webhooks": _op(
        "webhooks.list",
        "List a licensee's webhook subscriptions",
        "The active subscriptions, without their secrets.",
    ),
    "DELETE /api/v1/webhooks/{subscription_id}": _op(
        "webhooks.delete",
        "Delete a webhook subscription",
        "Nothing more is delivered to it; its deliveries stay listable.",
    ),
    "GET /api/v1/webhooks/{subscription_id}/deliveries": _op(
        "webhooks.deliveries.list",
        "List a subscription's deliveries",
        "Newest first, each with its attempts (when, the receiver's status or the error).",
    ),
    # ------------------------------------------------------------------ label
    "POST /api/v1/label": _op(
        "label.apply",
        "Label a generated output",
        errors=(404, 415),
        example={"file": _FILE, "licensee_id": 1, "model_id": 1},
    ),
    "POST /api/v1/label/inspect": _op(
        "label.inspect", "Inspect a file's labels", errors=(415,), example={"file": _FILE}
    ),
    "GET /api/v1/label/watermarks/{watermark_id}": _op(
        "label.watermarks.show", "Resolve a watermark id"
    ),
    "GET /api/v1/label/licensees/{licensee_id}/watermarks": _op(
        "label.watermarks.list", "List a licensee's watermark ids"
    ),
    # ------------------------------------------------------------------ remuneration
    "GET /api/v1/remuneration/tariffs": _op(
        "remuneration.tariffs.list",
        "List tariffs",
        "Tariffs, for every licence or one; amounts in minor units of their currency.",
        errors=(403,),
    ),
    "POST /api/v1/remuneration/tariffs": _op(
        "remuneration.tariffs.add",
        "Add a tariff to a licence",
        "A training fee (flat or by bands), a revenue share with a minimum, and a fee per "
        "output; amounts are integers in minor units of ``currency``.",
        errors=(404, 409),
        example={
            "licence_id": 1,
            "currency": "EUR",
            "valid_from": "2026-01-01",
            "training_fee_minor": 5000000,
            "revenue_share_bp": 500,
            "revenue_minimum_minor": 100000,
        },
    ),
    "PUT /api/v1/remuneration/rules/{cmo_id}": _op(
        "remuneration.rules.set",
        "Set a CMO's distribution rule",
        "The weights of featured and non-featured performers when a CMO distributes.",
        example={"featured_weight": 2, "non_featured_weight": 1},
    ),
    "POST /api/v1/remuneration/revenue-reports": _op(
        "remuneration.revenue-reports.add",
        "Report revenue for a period",
        "A licensee's revenue under a licence for a period, in minor units of its currency.",
        errors=(404, 409),
        example={
            "licence_id": 1,
            "period": "2026-Q3",
            "currency": "EUR",
            "revenue_minor": 12500000,
        },
    ),
    "POST /api/v1/remuneration/runs": _op(
        "remuneration.runs.create",
        "Run an ended period's distribution from the log",
        errors=(409,),
        example={"period": "2026-Q3"},
    ),
    "GET /api/v1/remuneration/runs/{period}": _op(
        "remuneration.runs.show",
        "Show a period's distribution run",
        "The run of a period: its attribution, summary and the hash of its result.",
    ),
    "GET /api/v1/remuneration/statements/{period}": _op(
        "remuneration.statements.list",
        "List a period's statements",
        "The statements of a period the caller may see, without their documents.",
    ),
    "GET /api/v1/remuneration/statements/{period}/{kind}/{party_id}": _op(
        "remuneration.statements.show",
        "Show a statement",
        "One party's statement for a period, as JSON or CSV (``format``).",
    ),
    "POST /api/v1/remuneration/claims/{period}/settle": _op(
        "remuneration.claims.settle",
        "Settle a held claim",
        "Pay out what was held for a performer no CMO represented, to the CMO that now does.",
        errors=(409,),
        example={"performer_id": 1, "cmo_id": 1},
    ),
    # ------------------------------------------------------------------ voice
    "POST /api/v1/voice/performers/{performer_id}/voiceprints": _op(
        "voice.voiceprints.enrol",
        "Enrol a performer's voice",
        errors=(409, 415),
        example={"clips": [_FILE]},
    ),
    "GET /api/v1/voice/voiceprints": _op("voice.voiceprints.list", "List voiceprints"),
    "POST /api/v1/voice/screenings": _op(
        "voice.screenings.add",
        "Screen a file for enrolled voices",
        errors=(404, 415),
        example={"file": _FILE, "licensee_id": 1, "territory": "ES"},
    ),
    "GET /api/v1/voice/screenings": _op("voice.screenings.list", "List voice screenings"),
    "GET /api/v1/voice/screenings/{screening_id}": _op(
        "voice.screenings.show",
        "Show a voice screening",
        "One screening: the voices found, where, and each one's voice-clone consent.",
    ),
    "GET /api/v1/voice/screenings/{screening_id}/timeline.svg": _op(
        "voice.screenings.timeline", "Draw a voice screening's timeline"
    ),
    "POST /api/v1/voice/screenings/{screening_id}/declarations": _op(
        "voice.screenings.declare", "Declare a screening's unauthorised voices"
    ),
    # ------------------------------------------------------------------ identify
    "POST /api/v1/identify/check-output": _op(
        "identify.outputs.check",
        "Check an output for registered recordings",
        errors=(415,),
        example={"file": _FILE},
    ),
    "GET /api/v1/identify/screens": _op("identify.screens.list", "List corpus screenings"),
    "GET /api/v1/identify/screens/{screen_id}": _op(
        "identify.screens.show", "Show a corpus screening"
    ),
    "GET /api/v1/identify/index": _op("identify.index.show", "Show the catalogue index"),
}

_HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_ERRORS = {
    401: "No API token, or one that is not valid (`Authorization: Bearer ...`).",
    403: "The caller's role or tenant may not do this, or see what it names.",
    404: "Nothing is stored under an id or code the request names.",
    409: "The request conflicts with what is stored (a duplicate, an overlap, a state that "
    "does not allow it).",
    415: "The uploaded file is in a format the service cannot read.",
}
_OPTIONAL_TOKEN_401 = "A token that is not valid (without a token, the caller is the public)."


def _depends_on(dependant: Dependant, call: object) -> bool:
    return any(sub.call is call or _depends_on(sub, call) for sub in dependant.dependencies)


def document_operations(app: FastAPI, document: dict[str, Any]) -> dict[str, Any]:
    """Write each operation's id, summary, description, errors and examples into ``document``
    (after :func:`sostenuto.api.problems.document_problems`)."""
    reads_token: dict[str, bool] = {}
    signs_in: dict[str, bool] = {}
    for routed in api_routes(app):
        if not routed.route.include_in_schema:
            continue
        for method in routed.methods:
            key = f"{method.upper()} {routed.path_format}"
            reads_token[key] = _depends_on(routed.route.dependant, get_principal)
            signs_in[key] = _depends_on(routed.route.dependant, require_signed_in)
    renames: dict[str, str] = {}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in _HTTP_METHODS:
                continue
            key = f"{method.upper()} {path}"
            known = OPERATIONS.get(key)
            if known is not None:
                operation["operationId"] = known.id
                operation["summary"] = known.summary
                if known.description and not operation.get("description"):
                    operation["description"] = known.description
            _document_errors(operation, path, known, reads_token.get(key), signs_in.get(key))
            if known is not None:
                _add_examples(operation, known, renames)
    return _rename_schemas(document, renames)


def _document_errors(
    operation: dict[str, Any],
    path: str,
    known: Operation | None,
    reads_token: bool | None,
    signs_in: bool | None,
) -> None:
    statuses = set(known.errors if known else ())
    if signs_in:
        statuses |= {401, 403}
    elif reads_token:
        statuses.add(401)
    if "{" in path:
        statuses.add(404)
    responses = operation.setdefault("responses", {})
    for status in sorted(statuses):
        text = _OPTIONAL_TOKEN_401 if status == 401 and not signs_in else _ERRORS[status]
        responses[str(status)] = {"description": text, "content": _PROBLEM}
    # ``responses`` in order: successes, then the errors by status.
    operation["responses"] = dict(sorted(responses.items()))


def _add_examples(operation: dict[str, Any], known: Operation, renames: dict[str, str]) -> None:
    body = operation.get("requestBody")
    if body is not None:
        for media, content in body.get("content", {}).items():
            if known.example is not None:
                content["example"] = known.example
            ref = content.get("schema", {}).get("$ref", "")
            old = ref.rsplit("/", 1)[-1]
            if old.startswith("Body_") and media != "application/json":
                # FastAPI names a form by the function's name: name it by the operation.
                renames[old] = "".join(p.capitalize() for p in re.split(r"[.-]", known.id))
                renames[old] += "Form"
    if known.answer is not None:
        for status, response in operation.get("responses", {}).items():
            if status.startswith("2") and "application/json" in response.get("content", {}):
                response["content"]["application/json"]["example"] = known.answer
                break


def _rename_schemas(document: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    if not renames:
        return document
    schemas = document.get("components", {}).get("schemas", {})
    for old, new in renames.items():
        if old in schemas:
            schemas[new] = schemas.pop(old)
            schemas[new]["title"] = new
    refs = {
        f"#/components/schemas/{old}": f"#/components/schemas/{new}" for old, new in renames.items()
    }

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref in refs:
                node["$ref"] = refs[ref]
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(document)
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document

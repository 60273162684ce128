"""Every HTTP operation × every kind of caller, aimed at another tenant's objects.

The operations come from the application's own OpenAPI document: an operation with no row in
:data:`OPS` fails :func:`test_every_operation_has_a_row`, so a new route cannot be left out.
For each operation and caller the request names objects of **another** tenant (licensee A
aims at licensee B's decision, CMO X at CMO Y's member; the anonymous caller, the public
token and the auditor at B's and Y's), with a body that is valid, and the answer must fall in
the class the row expects, one letter per caller in :data:`CALLERS` order:

``U`` unauthenticated
    401: the operation needs a token;
``F`` forbidden
    403 (or 404 for operations flagged ``hides``, where the other tenant's object does not
    exist for the caller by design);
``O`` ok
    2xx;
``P`` public view
    2xx, and the answer holds nothing private of the targeted tenant (each such row says
    what would betray it);
``V`` preview
    2xx, and no consent decision was stored.

The rows are the intended policy (``sostenuto.auth.POLICY``): the anonymous caller and the
public token read only what is public (log, exports, jurisdictions, tariffs, label inspect,
a recording's ISRC and title, a model's public summary); a licensee reads and writes its own
data only; a CMO admin acts for its own CMO and what it represents; an auditor reads
everything and writes nothing (its consent questions are previews); a performer token
(bound to CMO X's or Y's member) aimed at the other CMO's objects gets what the public gets:
it reads and revokes only what concerns itself (``tests/auth/test_performer_role.py``).

Rows that the current code still gets wrong in services owned elsewhere are listed in
:data:`PENDING` and expected to fail (strictly): remove an entry once its fix lands.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sostenuto.api import create_app
from sostenuto.auth import OPERATOR, ROLES, Principal, issue_token
from sostenuto.consent import decide, forget_snapshots, request_change
from sostenuto.declarations import add_subscription, declare
from sostenuto.identify._screen import screens_dir
from sostenuto.registry.demo import load_demo
from sostenuto.remuneration import TariffSpec, TrainingUse, Usage, add_tariff, run_period
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.consent import ConsentRule, Decision, DecisionBatch
from sostenuto.storage.models.label import WatermarkMark
from sostenuto.storage.models.registry import (
    AiModel,
    Cmo,
    Licence,
    Licensee,
    Mandate,
    Recording,
)
from sostenuto.storage.models.remuneration import Statement
from sostenuto.storage.models.voice import VoiceMatch, Voiceprint, VoiceScreening
from sostenuto.transparency import (
    Cosigner,
    checkpoint,
    cosign,
    inclusion_bundle,
    prove_consistency,
    verifier_key,
)
from sostenuto.transparency._witness_service import latest_cosigned
from sostenuto.transparency._witness_submit import add_checkpoint_body
from sostenuto.voice._types import RangeReport, ScreeningReport

CALLERS = (
    "anonymous",
    "public",
    "auditor",
    "licensee-A",
    "licensee-B",
    "cmo-X",
    "cmo-Y",
    "performer-X",
    "performer-Y",
)
# The tenants a caller aims at: the other licensee and the other CMO.
AIMS = {
    "anonymous": ("B", "Y"),
    "public": ("B", "Y"),
    "auditor": ("B", "Y"),
    "licensee-A": ("B", "Y"),
    "cmo-X": ("B", "Y"),
    "licensee-B": ("A", "X"),
    "cmo-Y": ("A", "X"),
    # A performer token bound to CMO X's (Y's) member, aimed at the other CMO's objects.
    "performer-X": ("B", "Y"),
    "performer-Y": ("A", "X"),
}
OWN = {"licensee-A": "A", "licensee-B": "B", "cmo-X": "X", "cmo-Y": "Y"}
START = dt.date(2025, 1, 1)
IN_Q3 = dt.date(2026, 8, 14)
PERIOD = "2026-Q3"
FUTURE = "2031-01-01"


# ---------------------------------------------------------------- the seeded world


@dataclass
class Tenant:
    """What one licensee (A, B) or one CMO (X, Y) owns; ``secrets`` must never leak."""

    id: int
    name: str = ""
    territory: str = ""
    model: int = 0
    recording: int = 0
    isrc: str = ""
    performer: int = 0
    mandate: int = 0
    pending_mandate: int = 0  # a transfer of its member to a third CMO, waiting for it
    licence: int = 0  # CMO: the licence it granted to its paired licensee
    decision: str = ""
    private_rule: int = 0
    private_note: str = ""
    public_rule: int = 0
    # CMO: pending requests of its member (one to apply, one to decline), and their note.
    requests: tuple[int, int] = (0, 0)
    request_note: str = ""
    watermark: str = ""
    voice_screening: str = ""
    corpus_screen: str = ""
    log_index: int = 0
    statements: list[str] = field(default_factory=list)
    money: list[str] = field(default_factory=list)


@dataclass
class World:
    database: Database
    settings: Settings
    app: FastAPI
    client: TestClient
    tokens: dict[str, str]
    tenants: dict[str, Tenant]
    cosigner: Cosigner
    third_cmo: int


@dataclass
class Target:
    """The caller and the objects it aims at."""

    caller: str
    lic: Tenant  # the other licensee
    cmo: Tenant  # the other CMO
    world: World

    @property
    def unique(self) -> str:
        return self.caller.replace("-", " ")


def _wav(seconds: float = 1.0, rate: int = 22_050) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


WAV = _wav()


def _seed(database: Database, settings: Settings) -> tuple[dict[str, str], dict[str, Tenant], int]:
    """The demo registry (three CMOs, two licensees) and, for each tenant, something private:
    X = AIE with licensee A = Aurora, Y = GVL with licensee B = Cadenza."""
    forget_snapshots()
    with database.transaction() as session:
        demo = load_demo(session)
    tokens = {
        "public": demo["public"],
        "auditor": demo["auditor"],
        "licensee-A": demo["licensee:Aurora Audio Labs"],
        "licensee-B": demo["licensee:Cadenza Stream"],
        "cmo-X": demo["cmo-admin:AIE"],
        "cmo-Y": demo["cmo-admin:GVL"],
    }
    t: dict[str, Tenant] = {}
    with database.transaction() as session:
        cmo_ids = {c.code: c.id for c in session.scalars(select(Cmo))}
        lic_ids = {row.name: row.id for row in session.scalars(select(Licensee))}
        pairs = (
            ("A", "Aurora Audio Labs", "X", "AIE", "ES"),
            ("B", "Cadenza Stream", "Y", "GVL", "DE"),
        )
        for lic_key, lic_name, cmo_key, code, territory in pairs:
            lic = t[lic_key] = Tenant(lic_ids[lic_name], name=lic_name, territory=territory)
            cmo = t[cmo_key] = Tenant(cmo_ids[code], name=code, territory=territory)
            lic.model = cmo.model = (
                session.scalars(select(AiModel.id).where(AiModel.licensee_id == lic.id)).first()
                or 0
            )
            recording = session.scalars(
                select(Recording)
                .where(Recording.registered_by_cmo_id == cmo.id)
                .order_by(Recording.id)
            ).first()
            assert recording is not None
            cmo.recording, cmo.isrc = recording.id, recording.isrc
            mandate = session.scalars(
                select(Mandate).where(Mandate.cmo_id == cmo.id).order_by(Mandate.id)
            ).first()
            assert mandate is not None
            cmo.mandate, cmo.performer = mandate.id, mandate.performer_id
            pending = Mandate(
                performer_id=cmo.performer,
                cmo_id=cmo_ids["SAMI"],
                territories=["JP"],
                uses=["train-ai"],
                valid_from=START,
                status="pending",
            )
            session.add(pending)
            session.flush()
            cmo.pending_mandate = pending.id
            licence = session.scalar(
                select(Licence.id).where(Licence.cmo_id == cmo.id, Licence.licensee_id == lic.id)
            )
            assert licence is not None
            cmo.licence = lic.licence = licence
            # A rule the CMO made for its licensee alone, and one for every licensee.
            note = f"private rule of {code} for {lic_name}"
            private = ConsentRule(
                effect="permit",
                scope_kind="cmo",
                scope_id=cmo.id,
                licensee_id=lic.id,
                uses=["fine-tune"],
                territories=[territory],
                valid_from=START,
                conditions=[],
                source="cmo",
                note=note,
                created_by="matrix",
                cmo_id=cmo.id,
            )
            public = ConsentRule(
                effect="prohibit",
                scope_kind="cmo",
                scope_id=cmo.id,
                licensee_id=None,
                uses=["voice-clone"],
                territories=["WW"],
                valid_from=START,
                conditions=[],
                source="cmo",
                note=f"public rule of {code}",
                created_by="matrix",
                cmo_id=cmo.id,
            )
            session.add_all([private, public])
            session.flush()
            cmo.private_rule = lic.private_rule = private.id
            cmo.private_note = lic.private_note = note
            cmo.public_rule = public.id
        third = cmo_ids["SAMI"]
    forget_snapshots()
    for lic_key, cmo_key, use in (("A", "X", "train-genai"), ("B", "Y", "search-index")):
        lic, cmo = t[lic_key], t[cmo_key]
        asker = Principal(f"matrix {lic_key}", "licensee", licensee_id=lic.id)
        with database.transaction() as session:
            result = decide(
                session,
                asker,
                licensee_id=lic.id,
                recording_id=cmo.recording,
                use=use,
                territory=lic.territory,
            )
        assert result.outcome == "permit", result.reason
        lic.decision = cmo.decision = result.id
        manifest = declare(
            database,
            settings,
            asker,
            "dataset-manifest",
            {
                "licensee_id": lic.id,
                "model_id": lic.model,
                "name": f"corpus of {lic.name}",
                "files": [
                    {
                        "sha256": f"{lic.id:064x}",
                        "recording_id": cmo.recording,
                        "decision_id": lic.decision,
                    }
                ],
            },
        )
        declare(
            database,
            settings,
            asker,
            "training-run",
            {
                "licensee_id": lic.id,
                "model_id": lic.model,
                "model_version": "1",
                "manifests": [manifest.entry_id],
                "started_on": "2026-08-01",
            },
        )
        lic.log_index = manifest.index
    with database.transaction() as session:
        for number, (lic_key, cmo_key) in enumerate((("A", "X"), ("B", "Y")), 1):
            lic, cmo = t[lic_key], t[cmo_key]
            mark = 0x0A0A0000 + number
            session.add(
                WatermarkMark(
                    watermark_id=mark,
                    licensee_id=lic.id,
                    licensee_name=lic.name,
                    model="matrix model",
                    source_type="trainedAlgorithmicMedia",
                    created_at=dt.datetime.now(dt.UTC),
                    created_by="matrix",
                )
            )
            lic.watermark = f"{mark:08x}"
            session.add(
                Voiceprint(
                    performer_id=cmo.performer,
                    model_name="matrix",
                    model_version="1",
                    dim=4,
                    embedding=np.full(4, 0.5, dtype="<f4").tobytes(),
                    clip_sha256=["0" * 64],
                    voiced_seconds=30.0,
                    is_current=True,
                    created_by="matrix",
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
            screening_id = f"vsc_{lic_key.lower() * 24}"
            now = dt.datetime.now(dt.UTC)
            report = ScreeningReport(
                id=screening_id,
                filename="found.wav",
                audio_sha256=f"{number:064x}",
                duration_s=2.0,
                voiced_seconds=2.0,
                model_name="matrix",
                model_version="1",
                emphasis="none",
                threshold=0.5,
                voices_searched=2,
                licensee_id=lic.id,
                territory=lic.territory,
                on_date=IN_Q3,
                screened_at=now,
                ranges=[
                    RangeReport(
                        0.0,
                        2.0,
                        "unauthorised",
                        performer_id=cmo.performer,
                        performer_name="matrix",
                        score=0.9,
                        reason="no consent",
                    )
                ],
            )
            session.add(
                VoiceScreening(
                    id=screening_id,
                    screened_at=now,
                    screened_by=f"matrix {lic_key}",
                    audio_sha256=report.audio_sha256,
                    filename="found.wav",
                    duration_s=2.0,
                    licensee_id=lic.id,
                    territory=lic.territory,
                    on_date=IN_Q3,
                    model_name="matrix",
                    model_version="1",
                    threshold=0.5,
                    report=report.as_json(),
                )
            )
            session.flush()
            session.add(
                VoiceMatch(
                    screening_id=screening_id,
                    performer_id=cmo.performer,
                    start_s=0.0,
                    end_s=2.0,
                    score=0.9,
                    status="unauthorised",
                )
            )
            lic.voice_screening = cmo.voice_screening = screening_id
            screen_id = lic_key.lower() * 16
            folder = screens_dir(settings) / screen_id
            folder.mkdir(parents=True)
            (folder / "report.json").write_text(
                json.dumps(
                    {
                        "screen_id": screen_id,
                        "meta": {
                            "licensee_id": lic.id,
                            "licensee": lic.name,
                            "screened_at": now.isoformat(),
                        },
                        "summary": {"permitted": 0},
                        "files": [],
                    }
                )
            )
            lic.corpus_screen = screen_id
        # Money: X's licensee pays in EUR, Y's in SEK, amounts no one else has.
        for lic_key, currency, fee in (("A", "EUR", 3_333_333), ("B", "SEK", 7_777_777)):
            add_tariff(
                session,
                OPERATOR,
                TariffSpec(
                    licence_id=t[lic_key].licence,
                    currency=currency,
                    valid_from=dt.date(2026, 1, 1),
                    training_fee_minor=fee,
                ),
            )
            for key in (lic_key, "X" if lic_key == "A" else "Y"):
                t[key].money = [currency, str(fee)]
    usage = Usage(
        training=[
            TrainingUse(t["A"].model, t["X"].recording, IN_Q3),
            TrainingUse(t["B"].model, t["Y"].recording, IN_Q3),
        ]
    )
    run_period(database, settings, OPERATOR, PERIOD, usage=usage, declare=False)
    with database.reader() as session:
        for statement in session.scalars(select(Statement)):
            kind, party = statement.party_kind, statement.party_id
            owners = [
                key
                for key, tenant in t.items()
                if (kind == "cmo" and key in "XY" and tenant.id == party)
                or (kind == "licensee" and key in "AB" and tenant.id == party)
                or (kind == "performer" and key in "XY" and tenant.performer == party)
            ]
            for key in owners:
                t[key].statements.append(statement.sha256)
    with database.transaction() as session:
        for key in "XY":
            tokens[f"performer-{key}"] = issue_token(
                session,
                role="performer",
                label=f"matrix performer {key}",
                performer_id=t[key].performer,
            )
            member = Principal(
                f"matrix performer {key}", "performer", performer_id=t[key].performer
            )
            t[key].request_note = f"request of {t[key].name}'s member"
            t[key].requests = tuple(  # type: ignore[assignment]
                request_change(
                    session,
                    member,
                    action="prohibit",
                    uses=["voice-clone"],
                    territories=[t[key].territory],
                    note=t[key].request_note,
                ).id
                for _ in range(2)
            )
    return tokens, t, third


def _world(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("matrix")
    shutil.copyfile(sqlite_template, folder / "matrix.sqlite3")
    database = Database(f"sqlite:///{folder / 'matrix.sqlite3'}")
    cosigner = Cosigner.generate("witness.matrix.example")
    settings = Settings(data_dir=folder / "data", witness_keys=str(cosigner.public_key))
    tokens, tenants, third = _seed(database, settings)
    settings.witnessed_logs = verifier_key(settings)  # the world's witness follows its log
    app = create_app(settings, database)
    client = TestClient(app, raise_server_exceptions=False)
    yield World(database, settings, app, client, tokens, tenants, cosigner, third)
    database.dispose()
    forget_snapshots()


@pytest.fixture(scope="module")
def world(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from _world(sqlite_template, tmp_path_factory)


def _target(world: World, caller: str) -> Target:
    lic, cmo = AIMS[caller]
    return Target(caller, world.tenants[lic], world.tenants[cmo], world)


# ---------------------------------------------------------------- the operations

Request = dict[str, Any]
Leak = Callable[[str, Target], str | None]


@dataclass(frozen=True)
class Op:
    expected: str  # one letter per caller, CALLERS order
    request: Callable[[Target], Request]
    leak: Leak | None = None  # for P rows: what the answer must not hold
    hides: bool = False  # 404 counts as forbidden: the object does not exist for the caller
    # Who owns the target ("lic" or "cmo"): the control test sends licensee A's request with
    # that owner's token (licensee B or CMO Y) and expects it through the authorisation, so a
    # refusal in the matrix is about who asks, never about a request that is wrong anyway.
    owner: str | None = None


def _get(path: str, **params: Any) -> Callable[[Target], Request]:
    return lambda t: {"path": path.format(t=t), "params": params}


def _leaks(*strings: Callable[[Target], list[str]]) -> Leak:
    def check(text: str, t: Target) -> str | None:
        for make in strings:
            for secret in make(t):
                if secret and secret in text:
                    return f"the answer holds {secret!r}"
        return None

    return check


def _manifest(t: Target) -> dict[str, Any]:
    if t.caller.startswith("cmo"):
        return {
            "type": "consent-change",
            "payload": {
                "cmo_id": t.cmo.id,
                "change": "opt-out",
                "scope": "repertoire",
                "uses": ["train-ai"],
                "effective_on": "2026-09-01",
            },
        }
    return {
        "type": "dataset-manifest",
        "payload": {
            "licensee_id": t.lic.id,
            "name": f"declared by {t.unique}",
            "files": [{"sha256": "f" * 64}],
        },
    }


def _licences(t: Target) -> Request:
    if t.caller.startswith("licensee"):
        return {"path": "/api/v1/registry/licences", "params": {"licensee_id": t.lic.id}}
    return {"path": "/api/v1/registry/licences", "params": {"cmo_id": t.cmo.id}}


def _statement(t: Target) -> Request:
    kind, party = ("licensee", t.lic.id) if t.caller.startswith("licensee") else ("cmo", t.cmo.id)
    return {"path": f"/api/v1/remuneration/statements/{PERIOD}/{kind}/{party}"}


def _decision_body(t: Target) -> dict[str, Any]:
    use = "train-genai" if t.lic.territory == "ES" else "search-index"
    return {
        "licensee_id": t.lic.id,
        "recording_id": t.cmo.recording,
        "use": use,
        "territory": t.lic.territory,
    }


def _rule_body(t: Target) -> dict[str, Any]:
    return {
        "scope": "cmo",
        "scope_id": t.cmo.id,
        "uses": ["train-genai"],
        "territories": [t.cmo.territory],
        "licensee_id": t.lic.id,
    }


def _tile_path(t: Target) -> str:
    size = checkpoint(t.world.database, t.world.settings).size
    assert 0 < size < 256
    return f"000.p/{size}"


def _cosigned(t: Target) -> Request:
    note = checkpoint(t.world.database, t.world.settings).note
    signed = cosign(note, t.world.cosigner, timestamp=int(time.time()))
    return {"path": "/api/v1/log/cosignatures", "json": {"note": signed}}


def _add_checkpoint(t: Target) -> Request:
    """The world's log submits its checkpoint to the world's own witness, from the size the
    witness last cosigned (C2SP tlog-witness: no token, the log's signature is the check)."""
    signed = checkpoint(t.world.database, t.world.settings)
    done = latest_cosigned(t.world.settings, signed.note.split("\n", 1)[0])
    old = done[0] if done else 0
    proof = prove_consistency(t.world.database, old, signed.size) if 0 < old < signed.size else []
    body = add_checkpoint_body(old, proof, signed.note)
    return {"path": "/witness/add-checkpoint", "content": body}


_subscriptions: dict[tuple[int, int, str], int] = {}


def _subscription(t: Target, purpose: str) -> int:
    """A webhook subscription of the targeted licensee (one per world and purpose)."""
    key = (id(t.world), t.lic.id, purpose)
    if key not in _subscriptions:
        owner = Principal(f"matrix {t.lic.name}", "licensee", licensee_id=t.lic.id)
        with t.world.database.transaction() as session:
            made, _ = add_subscription(
                session, owner, url=f"https://receiver.example/{purpose.replace(' ', '-')}"
            )
        _subscriptions[key] = made.id
    return _subscriptions[key]


_no_contributors = _leaks(lambda t: ['"contributions"'])
_other_decision = _leaks(lambda t: [t.lic.decision])

OPS: dict[str, Op] = {
    # ---------------------------------------------------------------- meta
    "GET /api/v1/health": Op("OOOOOOOOO", _get("/api/v1/health")),
    "GET /api/v1/whoami": Op("OOOOOOOOO", _get("/api/v1/whoami")),
    # ---------------------------------------------------------------- registry
    "GET /api/v1/registry/cmos": Op("OOOOOOOOO", _get("/api/v1/registry/cmos")),
    "POST /api/v1/registry/agreements": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": "/api/v1/registry/agreements",
            "json": {
                "cmo_id": t.cmo.id,
                "partner_cmo_id": t.world.third_cmo,
                "territories": [t.cmo.territory],
                "uses": ["train-ai"],
                "admin_fee": "0.10",
                "valid_from": FUTURE,
            },
        },
        owner="cmo",
    ),
    "GET /api/v1/registry/cmos/{cmo_id}/agreements": Op(
        "UFOFFFFFF",
        _get("/api/v1/registry/cmos/{t.cmo.id}/agreements"),
        owner="cmo",
    ),
    "POST /api/v1/registry/performers": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": "/api/v1/registry/performers",
            "json": {"name": f"Performer by {t.unique}", "cmo_id": t.cmo.id},
        },
        owner="cmo",
    ),
    "GET /api/v1/registry/performers/{performer_id}": Op(
        "UFOFFFFFF",
        _get("/api/v1/registry/performers/{t.cmo.performer}"),
        owner="cmo",
    ),
    "POST /api/v1/registry/mandates": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": "/api/v1/registry/mandates",
            "json": {
                "performer_id": t.cmo.performer,
                "cmo_id": t.cmo.id,
                "territories": ["JP"],
                "uses": ["style-imitation"],
                "valid_from": FUTURE,
            },
        },
        owner="cmo",
    ),
    "GET /api/v1/registry/mandates": Op(
        "UFOFFFFFF",
        lambda t: {"path": "/api/v1/registry/mandates", "params": {"cmo_id": t.cmo.id}},
        owner="cmo",
    ),
    "POST /api/v1/registry/mandates/{mandate_id}/confirm": Op(
        "UFFFFFFFF",
        lambda t: {"path": f"/api/v1/registry/mandates/{t.cmo.pending_mandate}/confirm"},
        owner="cmo",
    ),
    "POST /api/v1/registry/mandates/{mandate_id}/end": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": f"/api/v1/registry/mandates/{t.cmo.mandate}/end",
            "json": {"on": "2030-12-31"},
        },
        owner="cmo",
    ),
    "POST /api/v1/registry/recordings": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": "/api/v1/registry/recordings",
            "json": {
                "cmo_id": t.cmo.id,
                "isrc": f"ES-A7Q-26-{CALLERS.index(t.caller) + 1:05d}",
                "title": f"Recorded by {t.unique}",
            },
        },
        owner="cmo",
    ),
    "GET /api/v1/registry/recordings/{isrc}": Op(
        "PPOPPPPPP", _get("/api/v1/registry/recordings/{t.cmo.isrc}"), leak=_no_contributors
    ),
    "POST /api/v1/registry/recordings/{isrc}/contributions": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": f"/api/v1/registry/recordings/{t.cmo.isrc}/contributions",
            "json": {"performer_id": t.cmo.performer, "kind": "voice"},
        },
        owner="cmo",
    ),
    "POST /api/v1/registry/imports": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": "/api/v1/registry/imports",
            "params": {"cmo_id": t.cmo.id, "format": "csv"},
            "files": {"file": ("catalogue.csv", b"isrc,title\nDE-B3X-26-00901,Imported\n")},
        },
        owner="cmo",
    ),
    "GET /api/v1/registry/licensees": Op(
        "UFOPPOOFF", _get("/api/v1/registry/licensees"), leak=_leaks(lambda t: [t.lic.name])
    ),
    "POST /api/v1/registry/licensees": Op(
        "UFFFFOOFF",
        lambda t: {
            "path": "/api/v1/registry/licensees",
            "json": {"name": f"Licensee added by {t.unique}", "kind": "developer"},
        },
    ),
    "POST /api/v1/registry/licensees/{licensee_id}/models": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": f"/api/v1/registry/licensees/{t.lic.id}/models",
            "json": {"name": f"model by {t.unique}", "version": "1", "purpose": "music"},
        },
        owner="lic",
    ),
    "GET /api/v1/registry/licensees/{licensee_id}/models": Op(
        "UFOFFOOFF",
        _get("/api/v1/registry/licensees/{t.lic.id}/models"),
        owner="lic",
    ),
    "POST /api/v1/registry/licences": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": "/api/v1/registry/licences",
            "json": {
                "cmo_id": t.cmo.id,
                "licensee_id": t.lic.id,
                "uses": ["train-ai"],
                "territories": [t.cmo.territory],
                "valid_from": FUTURE,
            },
        },
        owner="cmo",
    ),
    "GET /api/v1/registry/licences": Op("UFOFFFFFF", _licences, owner="lic"),
    "POST /api/v1/registry/licences/{licence_id}/suspend": Op(
        "UFFFFFFFF",
        lambda t: {"path": f"/api/v1/registry/licences/{t.cmo.licence}/suspend"},
        owner="cmo",
    ),
    "GET /api/v1/registry/recordings": Op(
        "FFOFFFFFF",
        lambda t: {"path": "/api/v1/registry/recordings", "params": {"cmo_id": t.cmo.id}},
        owner="cmo",
    ),
    "GET /api/v1/registry/performers": Op(
        "UFOFFFFFF",
        lambda t: {"path": "/api/v1/registry/performers", "params": {"cmo_id": t.cmo.id}},
        owner="cmo",
    ),
    "GET /api/v1/registry/audit": Op("UFOFFFFFF", _get("/api/v1/registry/audit")),
    # ---------------------------------------------------------------- consent
    "POST /api/v1/consent/decisions": Op(
        "UFVFFFFFF",
        lambda t: {"path": "/api/v1/consent/decisions", "json": _decision_body(t)},
        owner="lic",
    ),
    "POST /api/v1/consent/decisions/batch": Op(
        "UFVFFFFFF",
        lambda t: {
            "path": "/api/v1/consent/decisions/batch",
            "json": {
                **{k: v for k, v in _decision_body(t).items() if k != "recording_id"},
                "recording_ids": [t.cmo.recording],
            },
        },
        owner="lic",
    ),
    "POST /api/v1/consent/performer-decisions": Op(
        "UFVFFFFFF",
        lambda t: {
            "path": "/api/v1/consent/performer-decisions",
            "json": {
                "licensee_id": t.lic.id,
                "performer_id": t.cmo.performer,
                "use": "voice-clone",
                "territory": t.lic.territory,
            },
        },
        owner="lic",
    ),
    "GET /api/v1/consent/decisions": Op(
        "UFOFFOOPP",  # a performer: only decisions on its own recordings
        lambda t: {"path": "/api/v1/consent/decisions", "params": {"licensee_id": t.lic.id}},
        leak=_leaks(lambda t: [t.lic.decision]),
        owner="lic",
    ),
    "GET /api/v1/consent/decisions/{decision_id}": Op(
        "UFOFFFFFF",
        _get("/api/v1/consent/decisions/{t.lic.decision}"),
        hides=True,
        owner="lic",
    ),
    "GET /api/v1/consent/rules": Op(
        "FFOFFPPFF",
        lambda t: {"path": "/api/v1/consent/rules", "params": {"licensee_id": t.lic.id}},
        leak=_leaks(lambda t: [t.lic.private_note]),
        owner="lic",
    ),
    "POST /api/v1/consent/rules/permit": Op(
        "UFFFFFFFF",
        lambda t: {"path": "/api/v1/consent/rules/permit", "json": _rule_body(t)},
        owner="cmo",
    ),
    "POST /api/v1/consent/rules/prohibit": Op(
        "UFFFFFFFF",
        lambda t: {"path": "/api/v1/consent/rules/prohibit", "json": _rule_body(t)},
        owner="cmo",
    ),
    "POST /api/v1/consent/rules/opt-out": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": "/api/v1/consent/rules/opt-out",
            "json": {"performer_id": t.cmo.performer},
        },
        owner="cmo",
    ),
    "POST /api/v1/consent/rules/{rule_id}/revoke": Op(
        "UFFFFFFFF",
        lambda t: {"path": f"/api/v1/consent/rules/{t.cmo.private_rule}/revoke", "json": {}},
        hides=True,
        owner="cmo",
    ),
    "POST /api/v1/consent/requests": Op(
        "UFFFFFFOO",  # a performer asks its own CMO, for itself only
        lambda t: {
            "path": "/api/v1/consent/requests",
            "json": {"action": "prohibit", "uses": ["voice-clone"], "note": t.unique},
        },
    ),
    "GET /api/v1/consent/requests": Op(
        "UFOFFPPPP",
        _get("/api/v1/consent/requests"),
        leak=_leaks(lambda t: [t.cmo.request_note]),
    ),
    "POST /api/v1/consent/requests/{request_id}/apply": Op(
        "UFFFFFFFF",
        lambda t: {"path": f"/api/v1/consent/requests/{t.cmo.requests[0]}/apply", "json": {}},
        hides=True,
        owner="cmo",
    ),
    "POST /api/v1/consent/requests/{request_id}/decline": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": f"/api/v1/consent/requests/{t.cmo.requests[1]}/decline",
            "json": {"reason": "the mandate is being renewed"},
        },
        hides=True,
        owner="cmo",
    ),
    "POST /api/v1/consent/rules/{rule_id}/publish": Op(
        "UFFFFFFFF",
        lambda t: {"path": f"/api/v1/consent/rules/{t.cmo.public_rule}/publish"},
        hides=True,
        owner="cmo",
    ),
    "GET /api/v1/consent/exports/{party}/{party_id}": Op(
        "OOOOOOOOO", _get("/api/v1/consent/exports/cmo/{t.cmo.id}")
    ),
    "GET /api/v1/consent/jurisdictions": Op("OOOOOOOOO", _get("/api/v1/consent/jurisdictions")),
    "POST /api/v1/standards/content-usage": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": "/api/v1/standards/content-usage",
            "json": {
                "scope": "cmo",
                "scope_id": t.cmo.id,
                "content_usage": "train-ai=n",
                "territories": [t.cmo.territory],
            },
        },
        owner="cmo",
    ),
    "GET /api/v1/standards/cmos/{cmo_id}/robots.txt": Op(
        "OOOOOOOOO", _get("/api/v1/standards/cmos/{t.cmo.id}/robots.txt")
    ),
    "GET /api/v1/standards/cmos/{cmo_id}/tdmrep.json": Op(
        "OOOOOOOOO", _get("/api/v1/standards/cmos/{t.cmo.id}/tdmrep.json")
    ),
    "GET /api/v1/standards/{party}/{party_id}/tdm-policy": Op(
        "OOOOOOOOO", _get("/api/v1/standards/cmos/{t.cmo.id}/tdm-policy")
    ),
    "GET /api/v1/standards/cmos/{cmo_id}/recordings/{isrc}": Op(
        "OOOOOOOOO", _get("/api/v1/standards/cmos/{t.cmo.id}/recordings/ES-A7Q-19-00101")
    ),
    # ---------------------------------------------------------------- transparency log
    "GET /api/v1/log/entries": Op(
        "OOOOOOOOO",
        lambda t: {"path": "/api/v1/log/entries", "params": {"licensee_id": t.lic.id}},
    ),
    "GET /api/v1/log/key": Op("OOOOOOOOO", _get("/api/v1/log/key")),
    "GET /api/v1/log/checkpoint": Op("OOOOOOOOO", _get("/api/v1/log/checkpoint")),
    "POST /api/v1/log/entries": Op(
        "UFFFFFFFF",
        lambda t: {"path": "/api/v1/log/entries", "json": _manifest(t)},
        owner="lic",
    ),
    "POST /api/v1/log/batches": Op(
        "UFFFFFFFF",
        lambda t: {"path": "/api/v1/log/batches", "json": {"entries": [_manifest(t)]}},
        owner="lic",
    ),
    "GET /api/v1/log/entries/{index}": Op(
        "OOOOOOOOO", _get("/api/v1/log/entries/{t.lic.log_index}")
    ),
    "GET /api/v1/log/proofs/inclusion/{index}": Op(
        "OOOOOOOOO", _get("/api/v1/log/proofs/inclusion/{t.lic.log_index}")
    ),
    "GET /api/v1/log/proofs/consistency": Op(
        "OOOOOOOOO", _get("/api/v1/log/proofs/consistency", first=1)
    ),
    "POST /api/v1/log/cosignatures": Op("UFOFFFFFF", _cosigned),
    "POST /api/v1/log/verify": Op(
        "OOOOOOOOO",
        lambda t: {
            "path": "/api/v1/log/verify",
            "json": {"bundle": inclusion_bundle(t.world.database, t.lic.log_index)},
        },
    ),
    "GET /api/v1/log/summaries/{model_id}.pdf": Op(
        "OOOOOOOOO", _get("/api/v1/log/summaries/{t.lic.model}.pdf")
    ),
    "GET /api/v1/log/summaries/{model_id}": Op(
        "PPOPPPPPP", _get("/api/v1/log/summaries/{t.lic.model}"), leak=_other_decision
    ),
    "GET /log/checkpoint": Op("OOOOOOOOO", _get("/log/checkpoint")),
    "POST /witness/add-checkpoint": Op("OOOOOOOOO", _add_checkpoint),
    "GET /log/tile/entries/{path}": Op(
        "OOOOOOOOO", lambda t: {"path": f"/log/tile/entries/{_tile_path(t)}"}
    ),
    "GET /log/tile/{level}/{path}": Op(
        "OOOOOOOOO", lambda t: {"path": f"/log/tile/0/{_tile_path(t)}"}
    ),
    # ---------------------------------------------------------------- revocation feed
    "GET /api/v1/changes": Op(
        "UFOFFFFFF",
        lambda t: {"path": "/api/v1/changes", "params": {"licensee_id": t.lic.id}},
        owner="lic",
    ),
    "POST /api/v1/webhooks": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": "/api/v1/webhooks",
            "json": {"url": "https://receiver.example/matrix", "licensee_id": t.lic.id},
        },
        owner="lic",
    ),
    "GET /api/v1/webhooks": Op(
        "UFFFFFFFF",
        lambda t: {"path": "/api/v1/webhooks", "params": {"licensee_id": t.lic.id}},
        owner="lic",
    ),
    "DELETE /api/v1/webhooks/{subscription_id}": Op(
        "UFFFFFFFF",
        lambda t: {"path": f"/api/v1/webhooks/{_subscription(t, 'to delete')}"},
        hides=True,
        owner="lic",
    ),
    "GET /api/v1/webhooks/{subscription_id}/deliveries": Op(
        "UFFFFFFFF",
        lambda t: {"path": f"/api/v1/webhooks/{_subscription(t, 'to list')}/deliveries"},
        hides=True,
        owner="lic",
    ),
    # ---------------------------------------------------------------- labels
    "POST /api/v1/label": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": "/api/v1/label",
            "data": {
                "licensee_id": str(t.lic.id),
                "model_id": str(t.lic.model),
                "layers": "metadata",
            },
            "files": {"file": ("output.wav", WAV, "audio/wav")},
        },
        owner="lic",
    ),
    "POST /api/v1/label/inspect": Op(
        "OOOOOOOOO",
        lambda t: {
            "path": "/api/v1/label/inspect",
            "params": {"watermark": "false"},
            "files": {"file": ("found.wav", WAV, "audio/wav")},
        },
    ),
    "GET /api/v1/label/watermarks/{watermark_id}": Op(
        "OOOOOOOOO", _get("/api/v1/label/watermarks/{t.lic.watermark}")
    ),
    "GET /api/v1/label/licensees/{licensee_id}/watermarks": Op(
        "UFOFFFFFF",
        _get("/api/v1/label/licensees/{t.lic.id}/watermarks"),
        owner="lic",
    ),
    # ---------------------------------------------------------------- remuneration
    "GET /api/v1/remuneration/tariffs": Op("OOOOOOOOO", _get("/api/v1/remuneration/tariffs")),
    "POST /api/v1/remuneration/tariffs": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": "/api/v1/remuneration/tariffs",
            "json": {"licence_id": t.cmo.licence, "currency": "EUR", "valid_from": "2030-01-01"},
        },
        owner="cmo",
    ),
    "PUT /api/v1/remuneration/rules/{cmo_id}": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": f"/api/v1/remuneration/rules/{t.cmo.id}",
            "json": {"featured_weight": 3, "non_featured_weight": 1},
        },
        owner="cmo",
    ),
    "POST /api/v1/remuneration/revenue-reports": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": "/api/v1/remuneration/revenue-reports",
            "json": {
                "licence_id": t.cmo.licence,
                "period": "2026-Q4",
                "currency": t.cmo.money[0],
                "revenue_minor": 100,
            },
        },
        owner="lic",
    ),
    # Any CMO's admin runs an ended period from the log (one no one has run: the first admin
    # runs it, the second finds it unchanged); a run covers every CMO, so no tenant to aim at.
    "POST /api/v1/remuneration/runs": Op(
        "UFFFFOOFF",
        lambda t: {"path": "/api/v1/remuneration/runs", "json": {"period": "2025-Q4"}},
    ),
    "GET /api/v1/remuneration/runs/{period}": Op(
        "UFOPPPPFF",
        _get(f"/api/v1/remuneration/runs/{PERIOD}"),
        leak=_leaks(lambda t: t.cmo.money),
    ),
    "GET /api/v1/remuneration/statements/{period}": Op(
        "UFOPPPPPP",  # each sees its own statements only
        _get(f"/api/v1/remuneration/statements/{PERIOD}"),
        leak=_leaks(lambda t: t.lic.statements + t.cmo.statements),
    ),
    "GET /api/v1/remuneration/statements/{period}/{kind}/{party_id}": Op(
        "UFOFFFFFF", _statement, owner="lic"
    ),
    "POST /api/v1/remuneration/claims/{period}/settle": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": f"/api/v1/remuneration/claims/{PERIOD}/settle",
            "json": {"performer_id": t.cmo.performer, "cmo_id": t.cmo.id},
        },
    ),
    # ---------------------------------------------------------------- voice
    "POST /api/v1/voice/performers/{performer_id}/voiceprints": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": f"/api/v1/voice/performers/{t.cmo.performer}/voiceprints",
            "files": [("clips", ("voice.wav", WAV, "audio/wav"))],
        },
    ),
    "GET /api/v1/voice/voiceprints": Op(
        "UFOFFFFFF",
        lambda t: {
            "path": "/api/v1/voice/voiceprints",
            "params": {"performer_id": t.cmo.performer},
        },
        owner="cmo",
    ),
    "POST /api/v1/voice/screenings": Op(
        "UFFFFFFFF",
        lambda t: {
            "path": "/api/v1/voice/screenings",
            "data": {"licensee_id": str(t.lic.id), "territory": t.lic.territory},
            "files": {"file": ("found.wav", WAV, "audio/wav")},
        },
    ),
    "GET /api/v1/voice/screenings": Op(
        "UFOPPPPFF",
        _get("/api/v1/voice/screenings"),
        leak=_leaks(lambda t: [t.lic.voice_screening]),
    ),
    "GET /api/v1/voice/screenings/{screening_id}": Op(
        "UFOFFFFFF",
        _get("/api/v1/voice/screenings/{t.lic.voice_screening}"),
        hides=True,
        owner="lic",
    ),
    "GET /api/v1/voice/screenings/{screening_id}/timeline.svg": Op(
        "UFOFFFFFF",
        _get("/api/v1/voice/screenings/{t.lic.voice_screening}/timeline.svg"),
        hides=True,
        owner="lic",
    ),
    "POST /api/v1/voice/screenings/{screening_id}/declarations": Op(
        "UFFFFFFFF",
        lambda t: {"path": f"/api/v1/voice/screenings/{t.lic.voice_screening}/declarations"},
        hides=True,
        owner="lic",
    ),
    # ---------------------------------------------------------------- identification
    "POST /api/v1/identify/check-output": Op(
        "UFOOOOOFF",
        lambda t: {
            "path": "/api/v1/identify/check-output",
            "files": {"file": ("generated.wav", WAV, "audio/wav")},
        },
    ),
    "GET /api/v1/identify/screens": Op(
        "UFOPPFFFF", _get("/api/v1/identify/screens"), leak=_leaks(lambda t: [t.lic.corpus_screen])
    ),
    "GET /api/v1/identify/screens/{screen_id}": Op(
        "UFOFFFFFF",
        _get("/api/v1/identify/screens/{t.lic.corpus_screen}"),
        owner="lic",
    ),
    "GET /api/v1/identify/index": Op("UFOOOOOFF", _get("/api/v1/identify/index")),
}

# Rows the current code gets wrong, in services others are fixing: (operation, caller).
PENDING: set[tuple[str, str]] = set()


def _operations(app: FastAPI) -> set[str]:
    return {
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def test_every_operation_has_a_row(world: World) -> None:
    found = _operations(world.app)
    assert found - set(OPS) == set(), "operations without a row in OPS"
    assert set(OPS) - found == set(), "rows in OPS for operations that no longer exist"
    assert set(ROLES) == {"cmo-admin", "licensee", "auditor", "public", "performer"}, (
        "a new role needs its callers (its own tenant and another) in CALLERS"
    )
    for key, op in OPS.items():
        assert len(op.expected) == len(CALLERS) and set(op.expected) <= set("UFOPV"), key
        assert ("P" in op.expected) == (op.leak is not None), f"{key}: P rows need a leak check"


def _stored_decisions(database: Database) -> int:
    with database.reader() as session:
        single = session.scalar(select(func.count()).select_from(Decision)) or 0
        batches = session.scalar(select(func.count()).select_from(DecisionBatch)) or 0
    return int(single) + int(batches)


def _cases() -> Iterator[Any]:
    for key in OPS:
        for position, caller in enumerate(CALLERS):
            marks = []
            if (key, caller) in PENDING:
                marks.append(pytest.mark.xfail(strict=True, reason="fix pending elsewhere"))
            yield pytest.param(key, caller, position, id=f"{key} as {caller}", marks=marks)


@pytest.mark.parametrize(("key", "caller", "position"), list(_cases()))
def test_operation_as_caller(world: World, key: str, caller: str, position: int) -> None:
    op = OPS[key]
    expected = op.expected[position]
    target = _target(world, caller)
    request = op.request(target)
    method = key.split()[0]
    headers = {"Authorization": f"Bearer {world.tokens[caller]}"} if caller != "anonymous" else {}
    before = _stored_decisions(world.database) if expected == "V" else 0
    response = world.client.request(
        method,
        request["path"],
        params=request.get("params"),
        json=request.get("json"),
        data=request.get("data"),
        content=request.get("content"),
        files=request.get("files"),
        headers=headers,
    )
    status = response.status_code
    said = f"{key} as {caller} -> {status}: {response.text[:300]}"
    if expected == "U":
        assert status == 401, said
    elif expected == "F":
        assert status == 403 or (op.hides and status == 404), said
    else:
        assert 200 <= status < 300, said
    if expected == "P":
        assert op.leak is not None
        betrayed = op.leak(response.text, target)
        assert betrayed is None, f"{said}\n{betrayed}"
    if expected == "V":
        assert _stored_decisions(world.database) == before, f"{said}\na decision was stored"


@pytest.fixture(scope="module")
def control_world(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """A second, fresh world: the owners' requests change it."""
    yield from _world(sqlite_template, tmp_path_factory)


def _controls() -> Iterator[Any]:
    for key, op in OPS.items():
        if op.owner is not None:
            yield pytest.param(key, id=key)


@pytest.mark.parametrize("key", list(_controls()))
def test_the_owner_gets_through(control_world: World, key: str) -> None:
    """Licensee A's request, sent by the owner of its target, passes the authorisation."""
    op = OPS[key]
    target = _target(control_world, "licensee-A")
    request = op.request(target)
    owner = {"lic": "licensee-B", "cmo": "cmo-Y"}[op.owner or ""]
    response = control_world.client.request(
        key.split()[0],
        request["path"],
        params=request.get("params"),
        json=request.get("json"),
        data=request.get("data"),
        files=request.get("files"),
        headers={"Authorization": f"Bearer {control_world.tokens[owner]}"},
    )
    # 409: the request reached a check of the stored state, past the authorisation.
    assert 200 <= response.status_code < 300 or response.status_code == 409, (
        f"{key} as {owner} -> {response.status_code}: {response.text[:300]}"
    )


# ---------------------------------------------------------------- authorisation before validation

# Writes the public may make on purpose (they store nothing), and what an auditor may post:
# its witness cosignatures, and questions that store nothing (previews, output checks).
PUBLIC_WRITES = {
    "POST /api/v1/label/inspect",
    "POST /api/v1/log/verify",
    "POST /witness/add-checkpoint",  # C2SP tlog-witness: the log's signature is the check
}
AUDITOR_WRITES = PUBLIC_WRITES | {
    "POST /api/v1/log/cosignatures",
    "POST /api/v1/identify/check-output",
    "POST /api/v1/consent/decisions",
    "POST /api/v1/consent/decisions/batch",
    "POST /api/v1/consent/performer-decisions",
}


# A performer revokes the rules that concern it, and nothing else.
PERFORMER_WRITES = PUBLIC_WRITES | {
    "POST /api/v1/consent/rules/{rule_id}/revoke",
    "POST /api/v1/consent/requests",
}


@pytest.mark.parametrize(
    ("caller", "allowed"),
    [("public", PUBLIC_WRITES), ("auditor", AUDITOR_WRITES), ("performer-X", PERFORMER_WRITES)],
)
def test_roles_that_never_write_are_refused_before_the_body_is_read(
    world: World, caller: str, allowed: set[str]
) -> None:
    """A malformed request from a role that may never make it gets 403, not 422: the answer
    says nothing about the objects it names (whether a rule exists, a licensee has one...)."""
    headers = {"Authorization": f"Bearer {world.tokens[caller]}"}
    told = []
    for key in sorted(_operations(world.app)):
        method, path = key.split(" ", 1)
        if method == "GET" or key in allowed:
            continue
        url = path.replace("{", "").replace("}", "")  # every path parameter malformed
        response = world.client.request(
            method, url, json={"uses": 7, "territories": "nowhere"}, headers=headers
        )
        if response.status_code != 403:
            told.append(f"{key} -> {response.status_code}")
    assert not told, f"{caller} token answered other than 403:\n" + "\n".join(told)


def test_a_public_token_learns_nothing_about_private_rules(world: World) -> None:
    headers = {"Authorization": f"Bearer {world.tokens['public']}"}
    rule = world.tenants["B"].private_rule
    for body in ({"effective_from": "1999-01-01"}, {"effective_from": "not a date"}, {}):
        revoke = world.client.post(
            f"/api/v1/consent/rules/{rule}/revoke", json=body, headers=headers
        )
        missing = world.client.post(
            "/api/v1/consent/rules/999999/revoke", json=body, headers=headers
        )
        assert revoke.status_code == missing.status_code == 403
    assert (
        world.client.post("/api/v1/consent/rules/permit", json={}, headers=headers).status_code
        == 403
    )
    listed = world.client.get(
        "/api/v1/consent/rules", params={"licensee_id": world.tenants["B"].id}, headers=headers
    )
    assert listed.status_code == 403 or (
        listed.status_code == 200 and world.tenants["B"].private_note not in listed.text
    )
    everyone = world.client.get("/api/v1/consent/rules", headers=headers)
    assert everyone.status_code == 200
    assert all(rule["licensee_id"] is None for rule in everyone.json())

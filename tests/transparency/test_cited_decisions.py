"""Issue "Consent integrity": what a declaration may cite.

1. A dataset manifest cites only decisions that still hold on the day it is declared: a
   permit whose rule was revoked, or whose licence was suspended, from that day on is refused,
   while earlier entries and their receipts stay as they were.
2. A manifest (and the training run that uses it) for model M cites only decisions taken for
   M or for no model: a permit obtained under one version's licence never covers another.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from sostenuto import consent, transparency
from sostenuto.api import create_app
from sostenuto.auth import issue_token
from sostenuto.declarations import declare, declare_batch
from sostenuto.errors import InvalidInput
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import AiModel, Licence
from sostenuto.storage.models.transparency import LogEntry
from sostenuto.transparency import inclusion_bundle, verifier_key, verify_receipt
from tests.transparency.conftest import World, manifest, sha
from tests.transparency.test_cli import Cli


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _files(world: World, decisions: list[str], tag: str) -> list[dict[str, object]]:
    return [
        {
            "sha256": sha(f"{tag}-{i}"),
            "recording_id": world.recordings[i],
            "decision_id": decision,
        }
        for i, decision in enumerate(decisions)
    ]


def _fine_tune_permit(database: Database, world: World, recording: int) -> tuple[int, str]:
    """A CMO permits fine-tuning on a recording (no licence covers it); the licensee asks."""
    with database.transaction() as session:
        rule = consent.permit(
            session,
            world.cmo_admin,
            scope="recording",
            scope_id=recording,
            uses=["fine-tune"],
        )
    with database.transaction() as session:
        decision = consent.decide(
            session,
            world.developer,
            licensee_id=world.licensee,
            recording_id=recording,
            use="fine-tune",
            territory="FR",
        )
    assert decision.outcome == "permit", decision.reason
    return rule.id, decision.id


def test_revocation_after_use_keeps_the_earlier_receipt_verifying(
    database: Database, settings: Settings, world: World
) -> None:
    recording = world.recordings[0]
    rule_id, permit_id = _fine_tune_permit(database, world, recording)
    earlier = {
        "licensee_id": world.licensee,
        "model_id": world.model,
        "name": "before the revocation",
        "files": [{"sha256": sha("a"), "recording_id": recording, "decision_id": permit_id}],
    }
    first = declare(database, settings, world.developer, "dataset-manifest", earlier)
    receipt = inclusion_bundle(database, first.index)

    with database.transaction() as session:
        consent.revoke_rule(session, world.cmo_admin, rule_id, effective_from=_today())

    later = {
        "licensee_id": world.licensee,
        "model_id": world.model,
        "name": "after the revocation",
        "files": [
            {"sha256": sha("b"), "recording_id": recording, "decision_id": permit_id},
        ],
    }
    with pytest.raises(InvalidInput, match=rf"file 0: decision {permit_id} no longer holds") as e:
        declare(database, settings, world.developer, "dataset-manifest", later)
    assert e.value.details["decision_id"] == permit_id
    assert e.value.details["file"] == 0

    # The earlier entry is untouched: its receipt still verifies offline with the log key,
    # and so does a fresh one for the same index.
    key = verifier_key(settings)
    assert verify_receipt(receipt, key).index == first.index
    assert verify_receipt(inclusion_bundle(database, first.index), key).index == first.index
    # Declaring the earlier manifest again appends nothing: it names the existing entry.
    again = declare(database, settings, world.developer, "dataset-manifest", earlier)
    assert (again.index, again.entry_id, again.new) == (first.index, first.entry_id, False)
    assert _entries(database) == 1
    # The revoked permit is not rewritten: it still says what it said when it was taken.
    with database.reader() as session:
        assert consent.get_decision(session, world.developer, permit_id).outcome == "permit"


def _entries(database: Database) -> int:
    with database.reader() as session:
        return int(session.scalar(select(func.count()).select_from(LogEntry)) or 0)


def test_a_suspended_licence_no_longer_backs_its_decisions(
    database: Database, settings: Settings, world: World
) -> None:
    declare(database, settings, world.developer, "dataset-manifest", manifest(world, "early"))
    with database.transaction() as session:
        session.execute(
            update(Licence)
            .where(Licence.licensee_id == world.licensee)
            .values(suspended_from=_today(), status="suspended")
        )
    consent.forget_snapshots()
    payload = manifest(world, "late", files=2)
    with pytest.raises(InvalidInput, match=r"file 0: decision .* no longer holds"):
        declare(database, settings, world.developer, "dataset-manifest", payload)
    # In a batch the entry is named too, and nothing of the batch is appended.
    good_output = {
        "licensee_id": world.licensee,
        "model_id": world.model,
        "output_sha256": sha("out"),
        "generated_on": "2026-02-01",
    }
    with pytest.raises(InvalidInput, match=r"entry 1: file 0: decision") as e:
        declare_batch(
            database,
            settings,
            world.developer,
            [("output-declaration", good_output), ("dataset-manifest", payload)],
        )
    assert e.value.details["entry"] == 1
    assert _entries(database) == 1


def _second_version(database: Database, world: World) -> tuple[int, str, str]:
    """Model v2 of the same licensee; a fine-tuning licence for v1 alone, and its permit."""
    with database.transaction() as session:
        v2 = AiModel(licensee_id=world.licensee, name="tune-0", version="2", purpose="music")
        session.add(v2)
        session.add(
            Licence(
                cmo_id=world.cmo,
                licensee_id=world.licensee,
                model_id=world.model,
                uses=["fine-tune"],
                territories=["WW"],
                valid_from=dt.date(2025, 1, 1),
            )
        )
        session.flush()
        v2_id = v2.id
    consent.forget_snapshots()
    with database.transaction() as session:
        for_v1 = consent.decide(
            session,
            world.developer,
            licensee_id=world.licensee,
            recording_id=world.recordings[0],
            use="fine-tune",
            territory="FR",
            model_id=world.model,
        )
        for_v2 = consent.decide(
            session,
            world.developer,
            licensee_id=world.licensee,
            recording_id=world.recordings[0],
            use="fine-tune",
            territory="FR",
            model_id=v2_id,
        )
    assert for_v1.outcome == "permit", for_v1.reason
    assert for_v2.outcome == "deny"
    return v2_id, for_v1.id, for_v2.id


def test_a_manifest_cites_only_decisions_for_its_model(
    database: Database, settings: Settings, world: World
) -> None:
    v2, v1_permit, _ = _second_version(database, world)

    def corpus(model: int | None, decision: str) -> dict[str, object]:
        payload: dict[str, object] = {
            "licensee_id": world.licensee,
            "name": f"for {model}",
            "files": [
                {"sha256": sha("x"), "recording_id": world.recordings[0], "decision_id": decision}
            ],
        }
        if model is not None:
            payload["model_id"] = model
        return payload

    refused = rf"decision {v1_permit} was taken for model {world.model}, not for model {v2}"
    with pytest.raises(InvalidInput, match=refused):
        declare(database, settings, world.developer, "dataset-manifest", corpus(v2, v1_permit))
    # A manifest naming no model could feed any version: it may not cite a v1-only permit.
    with pytest.raises(InvalidInput, match=rf"was taken for model {world.model}"):
        declare(database, settings, world.developer, "dataset-manifest", corpus(None, v1_permit))
    assert _entries(database) == 0
    # For v1 it holds; a decision taken for no model holds for every version.
    declare(database, settings, world.developer, "dataset-manifest", corpus(world.model, v1_permit))
    any_model = _files(world, world.permits[:2], "any")
    declare(
        database,
        settings,
        world.developer,
        "dataset-manifest",
        {"licensee_id": world.licensee, "model_id": v2, "name": "v2", "files": any_model},
    )
    assert _entries(database) == 2


def test_a_training_run_uses_only_manifests_of_its_model(
    database: Database, settings: Settings, world: World
) -> None:
    v2, v1_permit, _ = _second_version(database, world)
    v1_manifest = declare(
        database,
        settings,
        world.developer,
        "dataset-manifest",
        {
            "licensee_id": world.licensee,
            "model_id": world.model,
            "name": "v1 corpus",
            "files": _files(world, [v1_permit], "v1"),
        },
    ).entry_id
    unbound = declare(
        database,
        settings,
        world.developer,
        "dataset-manifest",
        {"licensee_id": world.licensee, "name": "any", "files": _files(world, world.permits, "a")},
    ).entry_id

    def run(model: int, manifests: list[str]) -> dict[str, object]:
        return {
            "licensee_id": world.licensee,
            "model_id": model,
            "model_version": "2",
            "manifests": manifests,
            "started_on": "2026-02-01",
        }

    with pytest.raises(InvalidInput, match=rf"manifest {v1_manifest} was declared for model"):
        declare(
            database, settings, world.developer, "training-run", run(v2, [unbound, v1_manifest])
        )
    declare(database, settings, world.developer, "training-run", run(v2, [unbound]))
    declare(database, settings, world.developer, "training-run", run(world.model, [v1_manifest]))


def test_the_log_alone_takes_only_entries_that_cite_no_decision(
    database: Database, settings: Settings, world: World
) -> None:
    """``transparency.declare`` knows nothing of consent: an entry citing a decision is sent to
    ``sostenuto.declarations``; everything else it still takes as before."""
    sent_on = r"file 0 cites consent decision .* through sostenuto.declarations"
    with pytest.raises(InvalidInput, match=sent_on):
        transparency.declare(
            database, settings, world.developer, "dataset-manifest", manifest(world)
        )
    with pytest.raises(InvalidInput, match=r"entry 1: file 0 cites consent decision") as e:
        transparency.declare_batch(
            database,
            settings,
            world.developer,
            [
                ("dataset-manifest", {**manifest(world), "files": _unidentified(1)}),
                ("dataset-manifest", manifest(world)),
            ],
        )
    assert e.value.details["entry"] == 1
    assert _entries(database) == 0
    receipt = transparency.declare(
        database,
        settings,
        world.developer,
        "dataset-manifest",
        {**manifest(world), "files": _unidentified(2)},
    )
    assert receipt.index == 0


def _unidentified(count: int) -> list[dict[str, object]]:
    return [{"sha256": sha(f"free-{i}"), "source": "synthetic"} for i in range(count)]


def test_the_front_ends_check_cited_decisions(
    database: Database,
    settings: Settings,
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rule_id, permit_id = _fine_tune_permit(database, world, world.recordings[1])
    with database.transaction() as session:
        consent.revoke_rule(session, world.cmo_admin, rule_id, effective_from=_today())
        token = issue_token(session, role="licensee", label="dev", licensee_id=world.licensee)
    payload = {
        "licensee_id": world.licensee,
        "model_id": world.model,
        "name": "after",
        "files": [
            {"sha256": sha("z"), "recording_id": world.recordings[1], "decision_id": permit_id}
        ],
    }
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings, database)) as client:
        single = client.post(
            "/api/v1/log/entries",
            json={"type": "dataset-manifest", "payload": payload},
            headers=headers,
        )
        assert single.status_code == 422, single.text
        assert "no longer holds" in single.json()["detail"]
        batch = client.post(
            "/api/v1/log/batches",
            json={"entries": [{"type": "dataset-manifest", "payload": payload}] * 2},
            headers=headers,
        )
        assert batch.status_code == 422 and "entry 0: file 0" in batch.json()["detail"]

    if database.url.startswith("sqlite"):
        (tmp_path / "manifest.json").write_text(json.dumps(payload))
        env = {
            "SOSTENUTO_DATA_DIR": str(settings.data_dir),
            "SOSTENUTO_DATABASE_URL": database.url,
            "COLUMNS": "300",
        }
        ran = Cli(monkeypatch, capsys)(
            env, "log", "declare", "dataset-manifest", str(tmp_path / "manifest.json")
        )
        assert ran.returncode != 0 and "no longer holds" in ran.stderr
    assert _entries(database) == 0


def test_batch_decisions_are_checked_per_file(
    database: Database, settings: Settings, world: World
) -> None:
    """Decisions from a batch are cited by id ``<batch>.<i>``; the one that no longer holds is
    named by entry and file, however many others still hold."""
    with database.transaction() as session:
        rule = consent.permit(
            session,
            world.cmo_admin,
            scope="recording",
            scope_id=world.recordings[3],
            uses=["fine-tune"],
        )
        for recording in world.recordings[:3]:
            consent.permit(
                session, world.cmo_admin, scope="recording", scope_id=recording, uses=["fine-tune"]
            )
    with database.transaction() as session:
        batch = consent.decide_batch(
            session,
            world.developer,
            licensee_id=world.licensee,
            recording_ids=world.recordings,
            use="fine-tune",
            territory="FR",
        )
    assert batch.permitted == 4
    ids = [result.id for result in batch]

    def corpus(name: str, order: list[int]) -> tuple[str, dict[str, object]]:
        files = [
            {
                "sha256": sha(f"{name}-{i}"),
                "recording_id": world.recordings[i],
                "decision_id": ids[i],
            }
            for i in order
        ]
        return ("dataset-manifest", {"licensee_id": world.licensee, "name": name, "files": files})

    declare_batch(database, settings, world.developer, [corpus("a", [0, 1]), corpus("b", [2, 3])])
    with database.transaction() as session:
        consent.revoke_rule(session, world.cmo_admin, rule.id, effective_from=_today())
    with pytest.raises(InvalidInput, match=rf"entry 1: file 2: decision {ids[3]} no longer holds"):
        declare_batch(
            database,
            settings,
            world.developer,
            [corpus("c", [0, 1, 2]), corpus("d", [0, 1, 3, 2])],
        )
    declare_batch(database, settings, world.developer, [corpus("e", [0, 1, 2])])
    assert _entries(database) == 3

"""The log on SQLite and PostgreSQL: declaring, idempotence, proofs, refusals."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import func, select

from sostenuto.auth import PUBLIC
from sostenuto.declarations import declare, declare_batch
from sostenuto.errors import Forbidden, IntegrityFailure, InvalidInput, NotFound
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.transparency import LogCheckpoint, LogEntry
from sostenuto.transparency import (
    checkpoint,
    consistency_bundle,
    inclusion_bundle,
    leaf_hash,
    prove_consistency,
    prove_inclusion,
    root_at,
    verifier_key,
    verify_checkpoint,
    verify_consistency,
    verify_consistency_bundle,
    verify_inclusion,
    verify_receipt,
)
from tests.transparency.conftest import World, manifest, sha


def _count(database: Database) -> int:
    with database.reader() as session:
        return int(session.scalar(select(func.count()).select_from(LogEntry)) or 0)


def _output(world: World, i: int) -> dict[str, object]:
    return {
        "licensee_id": world.licensee,
        "model_id": world.model,
        "output_sha256": sha(f"out-{i}"),
        "generated_on": "2026-02-01",
        "label_id": f"label-{i}",
        "resemblances": [{"recording_id": world.recordings[0], "score": 0.4}],
    }


def test_declare_prove_and_verify_offline(
    database: Database, settings: Settings, world: World
) -> None:
    first = declare(database, settings, world.developer, "dataset-manifest", manifest(world))
    assert (first.index, first.tree_size, first.new) == (0, 1, True)
    run = {
        "licensee_id": world.licensee,
        "model_id": world.model,
        "model_version": "1.0",
        "manifests": [first.entry_id],
        "started_on": "2026-01-10",
        "rights_reservation_protocols": ["tdmrep", "aipref"],
    }
    second = declare(database, settings, world.developer, "training-run", run)
    outputs = declare_batch(
        database,
        settings,
        world.developer,
        [("output-declaration", _output(world, i)) for i in range(40)],
    )
    assert [r.index for r in outputs] == list(range(2, 42))
    assert {r.tree_size for r in outputs} == {42}
    # One signed checkpoint per batch: 1, 2 and 42.
    with database.reader() as session:
        sizes = sorted(session.scalars(select(LogCheckpoint.size)))
    assert sizes == [1, 2, 42]

    key = verifier_key(settings)
    head = verify_checkpoint(checkpoint(database, settings).note, key)
    assert head.size == 42 and head.root == root_at(database, 42)
    for index in (0, 1, 17, 41):
        bundle = inclusion_bundle(database, index)
        assert verify_receipt(bundle, key).index == index
    assert verify_receipt(inclusion_bundle(database, 1, 2), key).checkpoint.size == 2
    old, new = verify_consistency_bundle(consistency_bundle(database, 2, 42), key)
    assert (old.size, new.size) == (2, 42)
    assert second.entry_id == leaf_hash(inclusion_bundle(database, 1)["entry"].encode()).hex()

    # The key file is private to its owner.
    mode = stat.S_IMODE(os.stat(settings.keys_dir / "log-ed25519.key").st_mode)
    assert mode == 0o600


def test_redeclaring_returns_the_existing_receipt(
    database: Database, settings: Settings, world: World
) -> None:
    a = declare(database, settings, world.developer, "dataset-manifest", manifest(world))
    b = declare(database, settings, world.developer, "dataset-manifest", manifest(world))
    assert (b.index, b.entry_id, b.new) == (a.index, a.entry_id, False)
    batch = declare_batch(
        database,
        settings,
        world.developer,
        [("output-declaration", _output(world, 1))] * 3 + [("dataset-manifest", manifest(world))],
    )
    assert [r.index for r in batch] == [1, 1, 1, 0]
    assert _count(database) == 2


def test_tampered_receipts_are_rejected(
    database: Database, settings: Settings, world: World
) -> None:
    declare_batch(
        database,
        settings,
        world.developer,
        [("output-declaration", _output(world, i)) for i in range(5)],
    )
    key = verifier_key(settings)
    bundle = inclusion_bundle(database, 3)
    forged = dict(bundle, entry=bundle["entry"].replace("label-3", "label-4"))
    forged.pop("leaf_hash")
    with pytest.raises(IntegrityFailure):
        verify_receipt(forged, key)
    with pytest.raises(IntegrityFailure):
        verify_receipt(dict(bundle, index=2), key)
    other = Settings(data_dir=settings.data_dir.parent / "elsewhere")
    with pytest.raises((IntegrityFailure, InvalidInput)):
        verify_receipt(bundle, verifier_key(other))


def test_bad_input_is_refused_and_nothing_is_appended(
    database: Database, settings: Settings, world: World
) -> None:
    good = manifest(world)
    cases: list[tuple[object, type[Exception], str]] = [
        (dict(good, files=[]), InvalidInput, "files"),
        (dict(good, files=[{"sha256": "xyz"}]), InvalidInput, "sha256"),
        (dict(good, extra=1), InvalidInput, "extra"),
        (
            dict(good, files=[{"sha256": sha("f"), "recording_id": world.recordings[0]}]),
            InvalidInput,
            "decision_id",
        ),
        (
            dict(
                good,
                files=[
                    {
                        "sha256": sha("f"),
                        "recording_id": world.recordings[0],
                        "decision_id": "no-such-decision",
                    }
                ],
            ),
            NotFound,
            "no-such-decision",
        ),
        (
            dict(
                good,
                files=[
                    {
                        "sha256": sha("f"),
                        "recording_id": world.recordings[0],
                        "decision_id": world.deny,
                    }
                ],
            ),
            InvalidInput,
            "did not permit",
        ),
        (
            dict(
                good,
                files=[
                    {
                        "sha256": sha("f"),
                        "recording_id": world.recordings[1],
                        "decision_id": world.foreign_permit,
                    }
                ],
            ),
            InvalidInput,
            "for licensee",
        ),
        (
            dict(
                good,
                files=[
                    {
                        "sha256": sha("f"),
                        "recording_id": world.recordings[2],
                        "decision_id": world.permits[0],
                    }
                ],
            ),
            InvalidInput,
            "is about recording",
        ),
        (dict(good, model_id=world.other_model), InvalidInput, "belongs to licensee"),
    ]
    for payload, error, words in cases:
        with pytest.raises(error, match=words):
            declare(database, settings, world.developer, "dataset-manifest", payload)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="unknown entry type"):
        declare(database, settings, world.developer, "diary", {})
    run = {
        "licensee_id": world.licensee,
        "model_id": world.model,
        "model_version": "1",
        "manifests": [sha("never declared")],
        "started_on": "2026-01-01",
    }
    with pytest.raises(NotFound, match="not in the log"):
        declare(database, settings, world.developer, "training-run", run)
    # A bad entry anywhere in a batch stops the whole batch.
    with pytest.raises(InvalidInput, match="entry 2"):
        declare_batch(
            database,
            settings,
            world.developer,
            [
                ("output-declaration", _output(world, 0)),
                ("dataset-manifest", good),
                ("dataset-manifest", dict(good, files=[])),
            ],
        )
    assert _count(database) == 0


def test_roles_are_enforced(database: Database, settings: Settings, world: World) -> None:
    with pytest.raises(Forbidden, match=r"cannot declare"):
        declare(database, settings, world.other_developer, "dataset-manifest", manifest(world))
    for who in (world.cmo_admin, world.auditor, PUBLIC):
        with pytest.raises(Forbidden):
            declare(database, settings, who, "dataset-manifest", manifest(world))
    change = {
        "cmo_id": world.cmo,
        "change": "opt-out",
        "performer_id": world.performers[0],
        "uses": ["train-genai"],
        "effective_on": "2026-03-01",
    }
    with pytest.raises(Forbidden):
        declare(database, settings, world.developer, "consent-change", change)
    with pytest.raises(Forbidden):
        declare(
            database,
            settings,
            world.cmo_admin,
            "consent-change",
            dict(change, cmo_id=world.other_cmo),
        )
    with pytest.raises(InvalidInput, match="use"):
        declare(database, settings, world.cmo_admin, "consent-change", dict(change, uses=["dance"]))
    assert _count(database) == 0
    receipt = declare(database, settings, world.cmo_admin, "consent-change", change)
    assert receipt.index == 0
    statement = {
        "cmo_id": world.cmo,
        "licensee_id": world.licensee,
        "statement_id": "S-1",
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
        "currency": "EUR",
        "total": "1234.50",
        "document_sha256": sha("statement"),
    }
    assert (
        declare(database, settings, world.cmo_admin, "remuneration-statement", statement).index == 1
    )
    match = {
        "licensee_id": world.licensee,
        "performer_id": world.performers[1],
        "output_sha256": sha("o"),
        "score": 0.91,
        "action": "blocked",
    }
    assert declare(database, settings, world.developer, "voice-match", match).index == 2


def test_proofs_from_the_database_across_tile_boundaries(
    sqlite_database: Database, settings: Settings, world_sqlite: World
) -> None:
    database, world = sqlite_database, world_sqlite
    sizes = []
    for batch in (1, 255, 1, 300, 70, 1):
        declare_batch(
            database,
            settings,
            world.developer,
            [("output-declaration", _output(world, sum(sizes) + i)) for i in range(batch)],
        )
        sizes.append(batch)
    total = sum(sizes)
    roots = {}
    with database.reader() as session:
        leaves = [
            bytes(h) for h in session.scalars(select(LogEntry.leaf_hash).order_by(LogEntry.idx))
        ]
    from sostenuto.transparency import memory_nodes, root_hash

    reference = memory_nodes(leaves)
    for size in (1, 2, 255, 256, 257, 512, 557, 627, total):
        roots[size] = root_at(database, size)
        assert roots[size] == root_hash(reference, size)
    for index in (0, 255, 256, 511, 600, total - 1):
        verify_inclusion(
            index, total, leaves[index], prove_inclusion(database, index), roots[total]
        )
    for first in (1, 255, 256, 257, 512, 557):
        verify_consistency(
            first, total, roots[first], roots[total], prove_consistency(database, first)
        )


@pytest.fixture
def world_sqlite(sqlite_database: Database) -> World:
    from tests.transparency.conftest import build_world

    return build_world(sqlite_database)

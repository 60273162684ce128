"""Concurrent writers (an API server's thread pool) append without losing or duplicating."""

from __future__ import annotations

import threading

from sqlalchemy import select

from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.transparency import LogEntry
from sostenuto.transparency import (
    LeafInput,
    append_prepared,
    checkpoint,
    memory_nodes,
    root_hash,
    verifier_key,
    verify_checkpoint,
)


def test_parallel_batches_serialise_into_one_tree(database: Database, settings: Settings) -> None:
    verifier_key(settings)
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for batch in range(8):
                leaves = [
                    LeafInput(b'{"w":%d,"b":%d,"i":%d}' % (worker, batch, i), "test")
                    for i in range(1 + (worker * 7 + batch) % 40)
                ]
                # Every batch also repeats one leaf of the first batch: idempotent, not doubled.
                leaves.append(LeafInput(b'{"w":%d,"b":0,"i":0}' % worker, "test"))
                append_prepared(database, settings, leaves)
        except BaseException as error:  # reported below, in the test thread
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    expected = sum(1 + (w * 7 + b) % 40 for w in range(4) for b in range(8))
    with database.reader() as session:
        rows = session.execute(
            select(LogEntry.idx, LogEntry.leaf_hash).order_by(LogEntry.idx)
        ).all()
    assert [r[0] for r in rows] == list(range(expected))
    head = verify_checkpoint(checkpoint(database, settings).note, verifier_key(settings))
    assert head.size == expected
    assert head.root == root_hash(memory_nodes([bytes(r[1]) for r in rows]), expected)


def test_first_readers_of_an_empty_log_agree_on_its_checkpoint(
    database: Database, settings: Settings
) -> None:
    """Several workers reading an empty log's checkpoint at once all get the one size-0
    checkpoint (each signing and storing its own would collide)."""
    notes: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def reader() -> None:
        try:
            start.wait()
            notes.append(checkpoint(database, settings).note)
        except BaseException as error:  # reported below, in the test thread
            errors.append(error)

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len(set(notes)) == 1
    assert verify_checkpoint(notes[0], verifier_key(settings)).size == 0

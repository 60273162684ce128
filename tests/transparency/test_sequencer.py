"""Group commit: callers that arrive while a batch commits share the next one, each with
its own receipts; one caller's failure is not another's."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import update

from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.transparency import LogState
from sostenuto.transparency import (
    LeafInput,
    append_prepared,
    checkpoint,
    prove_inclusion,
    verifier_key,
    verify_checkpoint,
)
from sostenuto.transparency._merkle import leaf_hash, root_from_inclusion
from sostenuto.transparency._sequencer import sequencer
from sostenuto.transparency._store import _lock_state, checkpoint_at

WRITERS = 8


def _leaf(n: int) -> LeafInput:
    return LeafInput(b'{"writer":%d}' % n, "test")


def _hold_the_log(database: Database, release: threading.Event, held: threading.Event) -> None:
    """Hold the log's append lock (as a slow batch would) until ``release``."""
    with database.transaction() as session:
        _lock_state(session)
        session.execute(update(LogState).values(updated_at=LogState.updated_at))
        held.set()
        release.wait(30)


def _wait_for(condition: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_callers_queued_behind_a_commit_share_the_next_batch(
    database: Database, settings: Settings
) -> None:
    append_prepared(database, settings, [_leaf(-1)])  # the state row exists
    release, held = threading.Event(), threading.Event()
    blocker = threading.Thread(target=_hold_the_log, args=(database, release, held))
    blocker.start()
    held.wait(10)
    receipts: dict[int, Any] = {}

    def writer(n: int) -> None:
        receipts[n] = append_prepared(database, settings, [_leaf(n)])[0]

    before = sequencer(database).stats()
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    # One leader waits for the lock; everyone else queues behind it.
    _wait_for(lambda: sequencer(database).waiting() == WRITERS - 1)
    release.set()
    for thread in threads:
        thread.join(30)
    blocker.join(30)
    after = sequencer(database).stats()
    assert after.submissions - before.submissions == WRITERS
    assert after.batches - before.batches == 2  # the leader's own, then the seven together

    # Distinct indices, every receipt proven in the tree it names.
    assert sorted(r.index for r in receipts.values()) == list(range(1, WRITERS + 1))
    head = verify_checkpoint(checkpoint(database, settings).note, verifier_key(settings))
    assert head.size == WRITERS + 1
    for n, receipt in receipts.items():
        proof = prove_inclusion(database, receipt.index, receipt.tree_size)
        root = root_from_inclusion(
            receipt.index, receipt.tree_size, leaf_hash(_leaf(n).body), proof
        )
        with database.reader() as session:
            signed = checkpoint_at(session, receipt.tree_size)
        assert root == verify_checkpoint(signed.note, verifier_key(settings)).root


def test_a_bad_submission_fails_alone(database: Database, settings: Settings) -> None:
    append_prepared(database, settings, [_leaf(-1)])
    release, held = threading.Event(), threading.Event()
    blocker = threading.Thread(target=_hold_the_log, args=(database, release, held))
    blocker.start()
    held.wait(10)
    outcomes: dict[int, Any] = {}

    def writer(n: int) -> None:
        # Writer 3's leaf has no body: it cannot be hashed, let alone stored.
        leaf = LeafInput(None, "test") if n == 3 else _leaf(n)  # type: ignore[arg-type]
        try:
            outcomes[n] = append_prepared(database, settings, [leaf])[0]
        except Exception as error:
            outcomes[n] = error

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    _wait_for(lambda: sequencer(database).waiting() == 4)
    release.set()
    for thread in threads:
        thread.join(30)
    blocker.join(30)
    assert isinstance(outcomes.pop(3), TypeError)
    assert sorted(r.index for r in outcomes.values()) == [1, 2, 3, 4]
    assert checkpoint(database, settings).size == 5


def test_a_duplicate_in_the_same_batch_is_logged_once(
    database: Database, settings: Settings
) -> None:
    append_prepared(database, settings, [_leaf(-1)])
    release, held = threading.Event(), threading.Event()
    blocker = threading.Thread(target=_hold_the_log, args=(database, release, held))
    blocker.start()
    held.wait(10)
    receipts: list[Any] = []
    lock = threading.Lock()

    def writer() -> None:
        receipt = append_prepared(database, settings, [_leaf(7)])[0]
        with lock:
            receipts.append(receipt)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    _wait_for(lambda: sequencer(database).waiting() == 3)
    release.set()
    for thread in threads:
        thread.join(30)
    blocker.join(30)
    assert {r.index for r in receipts} == {1}
    assert sum(r.new for r in receipts) == 1
    assert checkpoint(database, settings).size == 2

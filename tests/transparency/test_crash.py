"""Crash safety: a child appending in a loop is SIGKILLed at random points, many times.

After every kill the log is reopened: every entry the child acknowledged (it reports an
index only after the commit returned) must be there with its exact bytes, the tree must
verify against its signed checkpoint, and the new tree must extend the one before the kill.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.transparency import LogEntry
from sostenuto.transparency import (
    LeafInput,
    append_prepared,
    checkpoint,
    memory_nodes,
    prove_consistency,
    root_at,
    root_hash,
    verifier_key,
    verify_checkpoint,
    verify_consistency,
)
from sostenuto.transparency._store import tree_state


def _body(index: int) -> bytes:
    return b'{"crash-test":%d,"pad":"%s"}' % (index, b"x" * (index % 37))


def _appender(url: str, data_dir: str, ack_fd: int, seed: int) -> None:
    """Child: append batches of random size for ever; report each batch once committed."""
    rng = random.Random(seed)
    database = Database(url)
    settings = Settings(data_dir=Path(data_dir))
    while True:
        with database.reader() as session:
            size, _ = tree_state(session)
        count = rng.choice([1, 1, 2, 7, 40, 255, 300])
        leaves = [LeafInput(_body(i), "crash-test") for i in range(size, size + count)]
        receipts = append_prepared(database, settings, leaves)
        os.write(ack_fd, b"%d\n" % receipts[-1].index)


def test_acknowledged_entries_survive_sigkill(
    sqlite_database: Database, settings: Settings
) -> None:
    url = sqlite_database.url
    sqlite_database.dispose()
    key = verifier_key(settings)  # the key exists before any child runs
    context = multiprocessing.get_context("fork")
    rng = random.Random(20261125)
    acknowledged = -1
    previous = (0, root_hash(memory_nodes([]), 0))
    deadline = time.monotonic() + 10
    kills = 0
    while time.monotonic() < deadline or kills < 5:
        read_fd, write_fd = os.pipe()
        child = context.Process(
            target=_appender, args=(url, str(settings.data_dir), write_fd, rng.randrange(1 << 30))
        )
        child.start()
        os.close(write_fd)
        time.sleep(rng.uniform(0.05, 0.6))
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        assert child.exitcode == -signal.SIGKILL
        kills += 1
        with os.fdopen(read_fd, "rb") as pipe:
            acks = [int(line) for line in pipe.read().split()]
        if acks:
            acknowledged = max(acknowledged, *acks)

        database = Database(url)
        try:
            with database.reader() as session:
                size, root = tree_state(session)
                rows = session.execute(
                    select(LogEntry.idx, LogEntry.body, LogEntry.leaf_hash).order_by(LogEntry.idx)
                ).all()
            # Every acknowledged entry is there, in order, with its bytes; nothing is torn.
            assert size > acknowledged
            assert [r[0] for r in rows] == list(range(size))
            assert all(bytes(r[1]) == _body(r[0]) for r in rows)
            leaves = [bytes(r[2]) for r in rows]
            assert root == root_hash(memory_nodes(leaves), size) == root_at(database, size)
            head = verify_checkpoint(checkpoint(database, settings).note, key)
            assert (head.size, head.root) == (size, root)
            if previous[0]:
                proof = prove_consistency(database, previous[0], size)
                verify_consistency(previous[0], size, previous[1], root, proof)
            previous = (size, root)
        finally:
            database.dispose()
    print(f"{kills} kills, {acknowledged + 1} entries acknowledged, final size {previous[0]}")
    assert kills >= 5 and acknowledged > 0


@pytest.fixture(autouse=True)
def _no_fork_warning() -> None:
    # Forking a process that has threads is what this test does on purpose (the child only
    # uses objects it creates itself).
    import warnings

    warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)

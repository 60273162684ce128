"""Group commit for the log: concurrent appends in one process share a transaction and a
signed checkpoint, and each caller still gets its own receipts.

Appends are serialised by the state row's lock (``_store._lock_state``), so N concurrent
callers each paying one commit, one fsync and one signature queue behind each other. Here
a caller that finds no append in flight becomes the *leader*: it appends everything queued
so far in one transaction. Callers arriving meanwhile queue up and are taken by the next
leader when the running batch commits. A lone caller waits for nothing (no timer); under
load the wait is bounded by one commit of the batch ahead, and a batch by ``max_leaves``.

Receipts are returned only after the batch commits. If a combined batch fails, each
caller's part is retried on its own, so one caller's problem is not another's.
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from sostenuto.storage import Database
from sostenuto.transparency._note import Signer
from sostenuto.transparency._store import Appended, LeafInput, SignedCheckpoint, append_leaves

# Enough to amortise a commit; small enough that one batch's transaction stays short.
MAX_LEAVES = 4096


@dataclass
class _Submission:
    leaves: Sequence[LeafInput]
    done: threading.Event = field(default_factory=threading.Event)
    appended: list[Appended] | None = None
    checkpoint: SignedCheckpoint | None = None
    error: BaseException | None = None


@dataclass(frozen=True)
class SequencerStats:
    """Counters for benchmarks and operators: how much batching happened."""

    batches: int
    submissions: int
    leaves: int


class Sequencer:
    """Combines concurrent appends to one database into batches (see the module's doc)."""

    def __init__(self, max_leaves: int = MAX_LEAVES) -> None:
        self._max_leaves = max_leaves
        self._lock = threading.Lock()
        self._queue: deque[_Submission] = deque()
        self._leading = False
        self._batches = 0
        self._submissions = 0
        self._leaves = 0

    def append(
        self, database: Database, signer: Signer, leaves: Sequence[LeafInput]
    ) -> tuple[list[Appended], SignedCheckpoint]:
        """Append ``leaves`` (in one batch with whatever else is queued) once committed."""
        mine = _Submission(leaves)
        with self._lock:
            self._queue.append(mine)
            lead = not self._leading
            if lead:
                self._leading = True
        if lead:
            self._lead(database, signer)
        mine.done.wait()
        if mine.error is not None:
            raise mine.error
        assert mine.appended is not None and mine.checkpoint is not None
        return mine.appended, mine.checkpoint

    def waiting(self) -> int:
        """Submissions queued behind the batch being committed."""
        with self._lock:
            return len(self._queue)

    def stats(self) -> SequencerStats:
        with self._lock:
            return SequencerStats(self._batches, self._submissions, self._leaves)

    def _lead(self, database: Database, signer: Signer) -> None:
        """Append batches until the queue is empty, then give up the lead."""
        try:
            while True:
                with self._lock:
                    batch = self._take()
                    if not batch:
                        self._leading = False
                        return
                self._commit(database, signer, batch)
        except BaseException as error:
            # The leader was interrupted (KeyboardInterrupt, SystemExit): no one may wait
            # for it forever.
            with self._lock:
                stranded, self._queue = self._queue, deque()
                self._leading = False
            for submission in stranded:
                submission.error = error
                submission.done.set()
            raise

    def _take(self) -> list[_Submission]:
        """The queue's head up to ``max_leaves`` (always at least one submission)."""
        taken: list[_Submission] = []
        count = 0
        while self._queue and (not taken or count + len(self._queue[0].leaves) <= self._max_leaves):
            submission = self._queue.popleft()
            taken.append(submission)
            count += len(submission.leaves)
        return taken

    def _commit(self, database: Database, signer: Signer, batch: list[_Submission]) -> None:
        try:
            try:
                self._append_together(database, signer, batch)
            except Exception as error:
                if len(batch) == 1:
                    batch[0].error = error
                    return
                for submission in batch:
                    try:
                        self._append_together(database, signer, [submission])
                    except Exception as alone:
                        submission.error = alone
        finally:
            for submission in batch:
                if submission.appended is None and submission.error is None:
                    submission.error = RuntimeError("the log append was interrupted")
                submission.done.set()

    def _append_together(
        self, database: Database, signer: Signer, batch: list[_Submission]
    ) -> None:
        leaves = [leaf for submission in batch for leaf in submission.leaves]
        with database.transaction() as session:
            appended, checkpoint = append_leaves(session, signer, leaves)
        start = 0
        for submission in batch:
            end = start + len(submission.leaves)
            submission.appended = appended[start:end]
            submission.checkpoint = checkpoint
            start = end
        with self._lock:
            self._batches += 1
            self._submissions += len(batch)
            self._leaves += len(leaves)


# One per Database object, dropped with it.
_sequencers: weakref.WeakKeyDictionary[Database, Sequencer] = weakref.WeakKeyDictionary()
_sequencers_lock = threading.Lock()


def sequencer(database: Database) -> Sequencer:
    """The process's sequencer for ``database``."""
    with _sequencers_lock:
        found = _sequencers.get(database)
        if found is None:
            found = _sequencers[database] = Sequencer()
        return found

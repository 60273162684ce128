"""Consent at corpus scale: stream items through ``consent.decide-batch`` in chunks.

Memory holds at most three chunks (the one being yielded, the one being decided in the
background, the one being read), whatever the corpus size. Unknown ISRCs and recording ids are
taken out of a chunk and reported as ``unregistered`` (the server names them, 100 at a time, in
its 404 problem); ISRCs of the wrong shape never leave the machine. Nothing is ever
permitted by default.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sostenuto_client._errors import InvalidInput, NotFound, UsageError
from sostenuto_client._items import (
    CorpusItem,
    ItemLike,
    Outcome,
    Status,
    as_item,
    isrc_item,
    normalise_isrc,
)
from sostenuto_client._journal import PROGRESS, Journal, cached, field, read_outcomes

if TYPE_CHECKING:
    from sostenuto_client._generated import ConsentApi, LogApi
    from sostenuto_client._manifest import Declared

MAX_CHUNK = 1_000_000  # the server's bound on one batch


class ConsentFilter:
    """The items a licensee may use for one ``use`` in one ``territory``.

    Iterate it for the permitted items (each an :class:`Outcome` with its ``decision_id``), or
    call :meth:`outcomes` for every item. With ``checkpoint=PATH`` a run that was killed
    continues where it stopped: items already handled are neither asked nor yielded again
    (the one being handled at the kill is). ``counts`` says how many of each status so far.
    """

    def __init__(
        self,
        consent: ConsentApi,
        items: Iterable[ItemLike],
        *,
        licensee_id: int,
        use: str,
        territory: str,
        model_id: int | None = None,
        on_date: dt.date | None = None,
        checkpoint: str | Path | None = None,
        chunk_size: int = 10_000,
    ) -> None:
        if not 1 <= chunk_size <= MAX_CHUNK:
            raise UsageError(f"chunk_size must be 1..{MAX_CHUNK}, got {chunk_size}")
        self._consent = consent
        self._items = items
        self.licensee_id = licensee_id
        self.use = use
        self.territory = territory
        self.model_id = model_id
        self.on_date = on_date
        self.chunk_size = chunk_size
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        if checkpoint is None:
            # The journal is also where permitted items wait to be declared: keep it on disk.
            self._scratch = tempfile.TemporaryDirectory(prefix="sostenuto-filter-")
            checkpoint = Path(self._scratch.name) / "journal.csv"
        self.checkpoint = Path(checkpoint)
        self._started = False

    def _params(self) -> dict[str, Any]:
        return {
            "licensee_id": self.licensee_id,
            "use": self.use,
            "territory": self.territory,
            "model_id": self.model_id,
            "on_date": self.on_date.isoformat() if self.on_date else None,
        }

    @property
    def counts(self) -> dict[Status, int]:
        """How many items of each status the journal holds."""
        return dict(self._journal.counts) if self._started else {}

    def __iter__(self) -> Iterator[Outcome]:
        return self._run(only_permitted=True)

    def outcomes(self) -> Iterator[Outcome]:
        """Every item's outcome, in input order (permitted or not)."""
        return self._run(only_permitted=False)

    def permitted(self) -> Iterator[Outcome]:
        """The permitted items recorded so far, read back from the checkpoint (all runs)."""
        return read_outcomes(self.checkpoint, "permitted")

    def report(self, status: Status | None = None) -> Iterator[Outcome]:
        """Recorded outcomes (of one status, if given), read back from the checkpoint."""
        return read_outcomes(self.checkpoint, status)

    def run(self) -> dict[Status, int]:
        """Decide every item without yielding any; the counts per status."""
        for _ in self.outcomes():
            pass
        return self.counts

    def _run(self, *, only_permitted: bool) -> Iterator[Outcome]:
        if self._started:
            raise UsageError("a filter runs once; make a new one (with the same checkpoint)")
        self._started = True
        self._journal = Journal(self.checkpoint, self._params())
        source = iter(self._items)
        start = self._journal.done
        # Resume: what the journal holds was done by an earlier run.
        if start:
            next(itertools.islice(source, start - 1, start), None)
        # One thread only waits on the server, so the next chunk is being decided while this
        # one is handed out; everything per item happens here, off the critical path.
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sostenuto-filter")
        try:
            pending = self._submit(pool, source, start)
            while pending is not None:
                chunk, future = pending
                pending = self._submit(pool, source, chunk.first + len(chunk.values))
                rows, handed, counts = chunk.settle(future.result(), not only_permitted)
                journal = self._journal
                journal.append(rows)
                for status, count in counts.items():
                    journal.counts[status] += count
                mark, progress = PROGRESS.pack_into, journal.progress
                for outcome in handed:
                    # Everything before this item is done; the item itself once the caller
                    # asks for the next one (a kill while it handles this one hands it out
                    # again). Inline, not journal.mark(): this runs once per item.
                    mark(progress, 0, outcome.index)
                    yield outcome
                journal.mark(chunk.first + len(chunk.values))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self._journal.close()

    def _submit(
        self, pool: ThreadPoolExecutor, source: Iterator[ItemLike], first: int
    ) -> tuple[_Chunk, Future[list[_Answer]]] | None:
        values = list(itertools.islice(source, self.chunk_size))
        if not values:
            return None
        chunk = _Chunk(first, values)
        return chunk, pool.submit(self._fetch, chunk.asks)

    def _fetch(self, asks: list[_Ask]) -> list[_Answer]:
        return [self._ask(ask) for ask in asks if ask.values]

    def _ask(self, wanted: _Ask) -> _Answer:
        """One batch call for the identifiers ``wanted``; the server names unknown
        or refused identifiers, which are reported and taken out before asking again."""
        excluded: list[tuple[int, Status, str]] = []
        key = wanted.key
        while wanted.values:
            try:
                answer = self._decide_batch(key, wanted.values)
                return _Answer(wanted.offsets, answer, excluded)
            except (NotFound, InvalidInput) as error:
                unknown, status, reason = _excluded(key, error)
                pairs = list(zip(wanted.offsets, wanted.values, strict=True))
                excluded += [(o, status, reason) for o, value in pairs if value in unknown]
                kept = [(o, value) for o, value in pairs if value not in unknown]
                wanted = _Ask(key, [o for o, _ in kept], [value for _, value in kept])
        return _Answer(wanted.offsets, None, excluded)

    def _decide_batch(self, key: str, values: list[Any]) -> dict[str, Any]:
        # consent.decide-batch, sent without an Idempotency-Key: asking again is safe (the
        # same answer, recorded again), and a key would make the server keep every answer
        # (about 26 bytes an item) for a day.
        from sostenuto_client._generated import OPERATIONS

        body = {**self._params(), key: values}
        answer: dict[str, Any] = self._consent._transport.call(
            OPERATIONS["consent.decide-batch"], path={}, query={}, body=body, keyed=False
        )
        return answer

    def declare(
        self,
        log: LogApi,
        *,
        name: str,
        model_id: int | None = None,
        receipt: str | Path | None = None,
        proofs: bool = True,
    ) -> Declared:
        """Declare the permitted items as a dataset manifest (see :func:`declare_manifest`)."""
        from sostenuto_client._manifest import declare_manifest

        return declare_manifest(
            log,
            _Permitted(self.checkpoint),
            licensee_id=self.licensee_id,
            model_id=model_id if model_id is not None else self.model_id,
            name=name,
            receipt=receipt,
            proofs=proofs,
        )


@dataclass(slots=True)
class _Ask:
    """Identifiers of one kind (``isrcs`` or ``recording_ids``) to ask about, and the
    offsets of their items in the chunk."""

    key: str
    offsets: Sequence[int]
    values: list[Any]


@dataclass(slots=True)
class _Answer:
    """A batch answer for the offsets asked, and those taken out."""

    offsets: Sequence[int]
    answer: dict[str, Any] | None
    excluded: list[tuple[int, Status, str]]


class _Chunk:
    """Up to ``chunk_size`` items from input position ``first``, sorted into what to ask the
    server (by ISRC, by recording id) and what is settled here (malformed, unidentified).

    Plain ISRCs and ids stay as given: an item becomes a :class:`CorpusItem` and an
    :class:`Outcome` only when it is handed out (at 10^6 items, objects are the cost)."""

    def __init__(self, first: int, values: list[ItemLike]) -> None:
        self.first = first
        self.values = values
        self.settled: dict[int, tuple[Status, str]] = {}
        # Only ISRC strings in the stored form (the common case): one regex over the whole
        # chunk instead of one per item, and settle() may take its fast path.
        if _all_stored_isrcs(values):
            self.plain = True
            self.asks = [_Ask("isrcs", range(len(values)), values)]
            return
        if all(type(value) is str for value in values):
            normalised = [normalise_isrc(value) for value in values]  # type: ignore[arg-type]
            self.plain = None not in normalised
            if self.plain:
                self.asks = [_Ask("isrcs", range(len(values)), normalised)]
                return
        self.plain = False
        by_isrc: list[tuple[int, Any]] = []
        by_id: list[tuple[int, Any]] = []
        for offset, value in enumerate(values):
            item = value if isinstance(value, CorpusItem) else None
            raw_isrc = value if isinstance(value, str) else item.isrc if item else None
            if raw_isrc is not None:
                isrc = normalise_isrc(raw_isrc)
                if isrc is None:
                    self.settled[offset] = ("invalid", "not shaped like an ISRC")
                else:
                    by_isrc.append((offset, isrc))
                continue
            recording_id = item.recording_id if item else as_item(value).recording_id
            if recording_id is not None:
                by_id.append((offset, recording_id))
            else:
                self.settled[offset] = ("unidentified", "no ISRC and no recording id")
        self.asks = [
            _Ask(key, [o for o, _ in pairs], [value for _, value in pairs])
            for key, pairs in (("isrcs", by_isrc), ("recording_ids", by_id))
        ]

    def settle(
        self, answers: list[_Answer], hand_out_all: bool
    ) -> tuple[str, list[Outcome], dict[Status, int]]:
        """The journal rows of every item (in input order), the outcomes to hand out, and
        the count of each status."""
        if self.plain and not self.settled and len(answers) == 1 and not answers[0].excluded:
            return self._settle_plain(answers[0], hand_out_all)
        size = len(self.values)
        status: list[Status] = ["unidentified"] * size
        reason = [""] * size
        decision = [""] * size
        recording: list[int | None] = [None] * size
        isrc: list[str | None] = [None] * size
        for offset, (settled, why) in self.settled.items():
            status[offset], reason[offset] = settled, why
        for answered in answers:
            for offset, excluded, why in answered.excluded:
                status[offset], reason[offset] = excluded, why
            answer = answered.answer
            if answer is None:
                continue
            batch_id = answer["batch_id"]
            bases = answer["bases"]
            verdicts: list[Status] = [
                "permitted" if basis["outcome"] == "permit" else "denied" for basis in bases
            ]
            why_of = [str(basis.get("reason", "")) for basis in bases]
            ids = answer["recording_ids"]
            isrcs = answer.get("isrcs") or [None] * len(ids)
            for position, (offset, basis) in enumerate(
                zip(answered.offsets, answer["basis_index"], strict=True)
            ):
                status[offset] = verdicts[basis]
                reason[offset] = why_of[basis]
                decision[offset] = f"{batch_id}.{position}"
                recording[offset] = ids[position]
                isrc[offset] = isrcs[position]
        assigned = len(self.settled) + sum(len(a.offsets) + len(a.excluded) for a in answers)
        assert assigned == size, "every item has an outcome"
        rows: list[str] = []
        handed: list[Outcome] = []
        counts: dict[Status, int] = {}
        first = self.first
        for offset, value in enumerate(self.values):
            item = value if isinstance(value, CorpusItem) else None
            given = value if isinstance(value, str) else item.isrc if item else None
            rid = recording[offset] or (value if type(value) is int else None)
            if item is not None:
                rid = rid or item.recording_id
                sha256, source = item.sha256 or "", cached(item.source)
                path = field(item.path) if item.path else ""
            else:
                sha256, source, path = "", "licensed", ""
            shown = isrc[offset] or (field(given) if given else "")
            rows.append(
                f"{first + offset},{status[offset]},{shown},{rid or ''},{decision[offset]},"
                f"{sha256},{source},{path},{cached(reason[offset])}\n"
            )
            counts[status[offset]] = counts.get(status[offset], 0) + 1
            if hand_out_all or status[offset] == "permitted":
                handed.append(
                    Outcome(
                        first + offset,
                        item or as_item(value),
                        status[offset],
                        decision[offset] or None,
                        rid,
                        isrc[offset],
                        reason[offset],
                    )
                )
        return "".join(rows), handed, counts

    def _settle_plain(
        self, answered: _Answer, hand_out_all: bool
    ) -> tuple[str, list[Outcome], dict[Status, int]]:
        """:meth:`settle` for a chunk of registered, well-formed ISRC strings (the common
        case): one answer, positions equal to offsets, rows written from the bases."""
        answer = answered.answer
        assert answer is not None
        first, values = self.first, self.values
        prefix = f"{answer['batch_id']}."
        bases = answer["bases"]
        verdicts: list[Status] = [
            "permitted" if basis["outcome"] == "permit" else "denied" for basis in bases
        ]
        why_of = [str(basis.get("reason", "")) for basis in bases]
        heads = [f",{verdict}," for verdict in verdicts]
        tails = [f",,licensed,,{cached(why)}\n" for why in why_of]  # empty sha256, path
        ids, isrcs, index = answer["recording_ids"], answer["isrcs"], answer["basis_index"]
        size = len(index)
        rows = "".join(
            [
                f"{n}{heads[b]}{isrc},{rid},{prefix}{p}{tails[b]}"
                for n, p, b, isrc, rid in zip(
                    range(first, first + size), range(size), index, isrcs, ids, strict=True
                )
            ]
        )
        counts: dict[Status, int] = {}
        for basis, count in enumerate(_bincount(index, len(bases))):
            if count:
                counts[verdicts[basis]] = counts.get(verdicts[basis], 0) + count
        wanted = {b for b, verdict in enumerate(verdicts) if hand_out_all or verdict == "permitted"}
        handed = [
            Outcome(
                first + p,
                isrc_item(values[p]),  # type: ignore[arg-type]
                verdicts[b],
                f"{prefix}{p}",
                ids[p],
                isrcs[p],
                why_of[b],
            )
            for p, b in enumerate(index)
            if b in wanted
        ]
        return rows, handed, counts


_STORED_ISRCS = re.compile(r"(?:[A-Z]{2}[A-Z0-9]{3}[0-9]{7}\n)*")


def _all_stored_isrcs(values: list[ItemLike]) -> bool:
    """Whether every value is an ISRC string in the stored form (12 characters, upper case)."""
    if not values:
        return True
    try:
        joined = "\n".join(values)  # type: ignore[arg-type]  # TypeError: not all strings
    except TypeError:
        return False
    # A value holding a newline would pass the pattern as two: the count rules it out.
    return (
        joined.count("\n") == len(values) - 1 and _STORED_ISRCS.fullmatch(joined + "\n") is not None
    )


def _bincount(index: list[int], size: int) -> list[int]:
    counts = [0] * size
    for basis in index:
        counts[basis] += 1
    return counts


class _Permitted:
    """The permitted outcomes of a journal, readable as often as needed (from disk)."""

    def __init__(self, journal: Path) -> None:
        self.journal = journal

    def __iter__(self) -> Iterator[Outcome]:
        return read_outcomes(self.journal, "permitted")


def _excluded(key: str, error: NotFound | InvalidInput) -> tuple[set[Any], Status, str]:
    """The identifiers a refused batch names as unknown (404) or malformed (422), with the
    status to report them under; the error itself when it names none (nothing to take out)."""
    if isinstance(error, NotFound):
        unknown = set(error.details.get(f"unknown_{key}", []))
        status: Status = "unregistered"
        reason = "not registered"
    else:
        value = error.details.get("value")
        unknown = {value} if error.details.get("field") == "isrc" and value else set()
        status, reason = "invalid", error.detail
    if not unknown:
        raise error
    return unknown, status, reason

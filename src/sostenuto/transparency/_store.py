"""The log in the database: crash-safe batched appends, tile reads and proofs.

Every append is one transaction: entries, changed tiles, the new tree state and the signed
checkpoint commit together or not at all, so a crash leaves the previous tree intact. The
transaction starts by writing the state row, which takes the write lock first on SQLite
(no read-then-upgrade race) and locks the row on PostgreSQL: appends are serialised.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sostenuto.errors import InvalidInput, NotFound
from sostenuto.storage import Database
from sostenuto.storage.models.transparency import (
    LogCheckpoint,
    LogEntry,
    LogFileHash,
    LogState,
    LogTile,
)
from sostenuto.transparency._merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
)
from sostenuto.transparency._note import Checkpoint, Signer, sign_note
from sostenuto.transparency._tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileReader,
    grow_tiles,
    rightmost_tiles,
    tile_nodes,
)

_STATE_ID = 1
_IN_CHUNK = 500


@dataclass(frozen=True)
class LeafInput:
    """A leaf to append: its bytes and the columns that index it."""

    body: bytes
    entry_type: str
    licensee_id: int | None = None
    cmo_id: int | None = None
    model_id: int | None = None


@dataclass(frozen=True)
class Appended:
    """Where a leaf landed; ``new`` is false when an identical entry was already there."""

    index: int
    leaf_hash: bytes
    new: bool


@dataclass(frozen=True)
class SignedCheckpoint:
    size: int
    root: bytes
    note: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _session_tiles(session: Session) -> TileReader:
    # Straight to the driver: a proof on a large log misses the tile cache about once, and
    # building an ORM/Core statement would cost more than SQLite spends reading the tile.
    # The connection is taken on the first read only, so cache hits never touch the pool.
    statement: list[tuple[Connection, str]] = []

    def read(level: int, index: int) -> tuple[int, bytes] | None:
        if not statement:
            connection = session.connection()
            mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
            statement.append(
                (
                    connection,
                    f"SELECT width, hashes FROM {LogTile.__tablename__} "
                    f"WHERE level = {mark} AND idx = {mark}",
                )
            )
        connection, sql = statement[0]
        row = connection.exec_driver_sql(sql, (level, index)).first()
        return None if row is None else (int(row[0]), bytes(row[1]))

    return read


def _lock_state(session: Session) -> tuple[int, bytes]:
    """Take the append lock and return (size, root)."""
    locked = session.execute(
        update(LogState).where(LogState.id == _STATE_ID).values(id=LogState.id)
    )
    if locked.rowcount == 0:  # type: ignore[attr-defined]
        # First append: several writers may get here at once, so insert-if-absent.
        dialect = session.get_bind().dialect.name
        insert_state = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(
            insert_state(LogState)
            .values(id=_STATE_ID, size=0, root=EMPTY_ROOT, updated_at=_now())
            .on_conflict_do_nothing(index_elements=["id"])
        )
        # Whoever inserted it, the row now exists: lock it like any later append does.
        session.execute(update(LogState).where(LogState.id == _STATE_ID).values(id=LogState.id))
    size, root = session.execute(
        select(LogState.size, LogState.root).where(LogState.id == _STATE_ID)
    ).one()
    return int(size), bytes(root)


def _existing(session: Session, hashes: Sequence[bytes]) -> dict[bytes, int]:
    found: dict[bytes, int] = {}
    for start in range(0, len(hashes), _IN_CHUNK):
        chunk = hashes[start : start + _IN_CHUNK]
        rows = session.execute(
            select(LogEntry.leaf_hash, LogEntry.idx).where(LogEntry.leaf_hash.in_(chunk))
        )
        found.update((bytes(h), int(i)) for h, i in rows)
    return found


_ENTRY_COLUMNS = (
    "idx",
    "leaf_hash",
    "entry_type",
    "licensee_id",
    "cmo_id",
    "model_id",
    "body",
    "submitted_at",
)


def _insert_entries(session: Session, rows: list[tuple[object, ...]]) -> None:
    """Insert entry rows straight through the driver's executemany.

    The ORM's bulk path spends more time building parameters than SQLite spends storing
    10 000 rows; the values here are plain ints, bytes and strings that both drivers take.
    """
    connection = session.connection()
    dialect = connection.dialect
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {LogEntry.__tablename__} ({', '.join(_ENTRY_COLUMNS)}) "
        f"VALUES ({', '.join([mark] * len(_ENTRY_COLUMNS))})"
    )
    connection.exec_driver_sql(sql, rows)


def _index_file_hashes(session: Session, rows: list[tuple[object, ...]]) -> None:
    """Record each file hash a new dataset-manifest entry declares (``tlog_file_hash``)."""
    found: list[dict[str, object]] = []
    for row in rows:
        if row[2] != "dataset-manifest":
            continue
        body = orjson.loads(row[6])  # type: ignore[arg-type]
        files = body.get("payload", {}).get("files", [])
        found.extend(
            {"sha256": sha, "idx": row[0]} for sha in sorted({item["sha256"] for item in files})
        )
    if found:
        session.execute(insert(LogFileHash), found)


def append_leaves(
    session: Session, signer: Signer, leaves: Sequence[LeafInput]
) -> tuple[list[Appended], SignedCheckpoint]:
    """Append ``leaves`` in the caller's transaction; one signed checkpoint for the batch.

    Leaves already in the log (same leaf hash) keep their index; duplicates inside the batch
    are appended once.
    """
    size, root = _lock_state(session)
    hashes = [leaf_hash(leaf.body) for leaf in leaves]
    known = _existing(session, hashes)
    results: list[Appended] = []
    rows: list[tuple[object, ...]] = []
    new_hashes: list[bytes] = []
    at = _now()
    # SQLite takes the text form SQLAlchemy's DateTime type reads back; psycopg a datetime.
    stamp: object = at
    if session.get_bind().dialect.name == "sqlite":
        stamp = at.strftime("%Y-%m-%d %H:%M:%S.%f")
    next_index = size
    for leaf, digest in zip(leaves, hashes, strict=True):
        if digest in known:
            results.append(Appended(known[digest], digest, False))
            continue
        known[digest] = next_index
        results.append(Appended(next_index, digest, True))
        rows.append(
            (
                next_index,
                digest,
                leaf.entry_type,
                leaf.licensee_id,
                leaf.cmo_id,
                leaf.model_id,
                leaf.body,
                stamp,
            )
        )
        new_hashes.append(digest)
        next_index += 1
    if not rows:
        return results, latest_checkpoint_in(session) or _sign(session, signer, size, root)
    _insert_entries(session, rows)
    _index_file_hashes(session, rows)
    changed = grow_tiles(size, new_hashes, _session_tiles(session))
    before = {(level, index) for level, index, _ in rightmost_tiles(size)}
    inserts = []
    for (level, index), (width, stored) in changed.items():
        if (level, index) in before:
            session.execute(
                update(LogTile)
                .where(LogTile.level == level, LogTile.idx == index)
                .values(width=width, hashes=stored)
            )
        else:
            inserts.append({"level": level, "idx": index, "width": width, "hashes": stored})
    if inserts:
        session.execute(insert(LogTile), inserts)
    stored_read = _session_tiles(session)

    def overlay(level: int, index: int) -> tuple[int, bytes] | None:
        return changed.get((level, index)) or stored_read(level, index)

    new_root = root_hash(tile_nodes(overlay), next_index)
    session.execute(
        update(LogState)
        .where(LogState.id == _STATE_ID)
        .values(size=next_index, root=new_root, updated_at=at)
    )
    return results, _sign(session, signer, next_index, new_root)


def _sign(session: Session, signer: Signer, size: int, root: bytes) -> SignedCheckpoint:
    note = sign_note(Checkpoint(signer.name, size, root).body(), signer)
    existing = session.get(LogCheckpoint, size)
    if existing is None:
        session.add(LogCheckpoint(size=size, root=root, note=note, created_at=_now()))
        session.flush()
    return SignedCheckpoint(size, root, note)


def latest_checkpoint_in(session: Session) -> SignedCheckpoint | None:
    row = session.execute(
        select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1)
    ).scalar_one_or_none()
    return None if row is None else SignedCheckpoint(row.size, bytes(row.root), row.note)


class TileCache:
    """Tiles as readers last saw them, kept in memory.

    Committed tiles only ever grow: a full tile never changes, and a partial tile of width
    ``w`` is a prefix of every later version of it (hashes and inner levels alike). So a
    cached tile serves any tree size whose tile is no wider than the cached one. The log
    never shrinks either, so a size once seen needs no new look-up of the tree state.
    """

    def __init__(self, capacity: int = 8192) -> None:
        self.capacity = capacity
        self.known_size = 0
        self._tiles: OrderedDict[tuple[int, int], tuple[int, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def reader(self, session: Session, size: int) -> TileReader:
        """A reader for nodes of the tree of ``size`` leaves."""
        direct = _session_tiles(session)
        # A proof reads two or three tiles some twenty times: keep them at hand, unlocked.
        local: dict[tuple[int, int], tuple[int, bytes] | None] = {}

        def read(level: int, index: int) -> tuple[int, bytes] | None:
            key = (level, index)
            if key in local:
                return local[key]
            local[key] = found = shared(level, index)
            return found

        def shared(level: int, index: int) -> tuple[int, bytes] | None:
            key = (level, index)
            needed = min(TILE_WIDTH, (size >> (TILE_HEIGHT * level)) - index * TILE_WIDTH)
            with self._lock:
                hit = self._tiles.get(key)
                if hit is not None and hit[0] >= needed:
                    self._tiles.move_to_end(key)
                    return hit
            found = direct(level, index)
            if found is not None:
                with self._lock:
                    self._tiles[key] = found
                    self._tiles.move_to_end(key)
                    if len(self._tiles) > self.capacity:
                        self._tiles.popitem(last=False)
            return found

        return read

    def check_size(self, session: Session, size: int | None) -> int:
        """``size`` if the log has reached it (default: the current size)."""
        if size is not None and 0 < size <= self.known_size:
            return size
        current, _ = tree_state(session)
        with self._lock:
            self.known_size = max(self.known_size, current)
        if size is None:
            return current
        if not 0 < size <= current:
            raise InvalidInput(f"tree size {size} is not between 1 and the log's size {current}")
        return size


_caches: weakref.WeakKeyDictionary[Database, TileCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def tile_cache(database: Database) -> TileCache:
    with _caches_lock:
        cache = _caches.get(database)
        if cache is None:
            cache = _caches[database] = TileCache()
        return cache


def tree_state(session: Session) -> tuple[int, bytes]:
    row = session.execute(
        select(LogState.size, LogState.root).where(LogState.id == _STATE_ID)
    ).first()
    return (0, EMPTY_ROOT) if row is None else (int(row[0]), bytes(row[1]))


def prove_inclusion(database: Database, index: int, size: int | None = None) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in the tree of ``size`` (default: current)."""
    cache = tile_cache(database)
    with database.reader() as session:
        size = cache.check_size(session, size)
        return inclusion_proof(tile_nodes(cache.reader(session, size)), index, size)


def prove_consistency(database: Database, first: int, second: int | None = None) -> list[bytes]:
    """The consistency proof from tree size ``first`` to ``second`` (default: current)."""
    cache = tile_cache(database)
    with database.reader() as session:
        second = cache.check_size(session, second)
        return consistency_proof(tile_nodes(cache.reader(session, second)), first, second)


def root_at(database: Database, size: int) -> bytes:
    """The root hash of the tree of ``size`` leaves, recomputed from the tiles."""
    if size == 0:
        return EMPTY_ROOT
    cache = tile_cache(database)
    with database.reader() as session:
        size = cache.check_size(session, size)
        return root_hash(tile_nodes(cache.reader(session, size)), size)


def entry_at(session: Session, index: int) -> LogEntry:
    row = session.get(LogEntry, index)
    if row is None:
        raise NotFound(f"the log has no entry {index}")
    return row


def checkpoint_at(session: Session, size: int | None) -> SignedCheckpoint:
    """The signed checkpoint of ``size`` (default: the latest)."""
    if size is None:
        found = latest_checkpoint_in(session)
        if found is None:
            raise NotFound("the log has no checkpoint yet: nothing was appended")
        return found
    row = session.get(LogCheckpoint, size)
    if row is None:
        raise NotFound(f"no checkpoint was signed at tree size {size}")
    return SignedCheckpoint(row.size, bytes(row.root), row.note)


def read_tile(database: Database, level: int, index: int, width: int) -> bytes:
    """The C2SP tile ``level/index`` of ``width`` hashes (a prefix of the stored tile)."""
    # A tile is published only once the tree has reached it.
    reach = (index * TILE_WIDTH + width) << (TILE_HEIGHT * level)
    cache = tile_cache(database)
    with database.reader() as session:
        if reach > cache.known_size:
            cache.check_size(session, None)
        if reach > cache.known_size:
            raise NotFound(f"tile {level}/{index} of width {width} is not in the log yet")
        found = cache.reader(session, reach)(level, index)
    if found is None or found[0] < width:
        raise NotFound(f"tile {level}/{index} of width {width} is not in the log")
    return found[1][: width * 32]


def read_entries(database: Database, start: int, count: int) -> list[bytes]:
    """Entry bodies ``start .. start + count - 1``."""
    with database.reader() as session:
        rows = session.execute(
            select(LogEntry.idx, LogEntry.body)
            .where(LogEntry.idx >= start, LogEntry.idx < start + count)
            .order_by(LogEntry.idx)
        ).all()
    if len(rows) != count:
        raise NotFound(f"entries {start}..{start + count - 1} are not all in the log")
    return [bytes(body) for _, body in rows]

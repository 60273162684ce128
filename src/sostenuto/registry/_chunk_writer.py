"""Writing one chunk of an import: performers resolved, recordings and contributions stored.

Everything here runs inside the chunk's transaction; nothing is committed on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Table, any_, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from sostenuto.errors import InvalidInput
from sostenuto.registry._grouping import Group
from sostenuto.registry._readers import Contributor, RowError
from sostenuto.storage.models.registry import Contribution, Performer, Recording

AMBIGUOUS = 0  # a name shared by several performers of the CMO: ids start at 1

_recording: Table = Recording.__table__  # type: ignore[assignment]
_contribution: Table = Contribution.__table__  # type: ignore[assignment]
_performer: Table = Performer.__table__  # type: ignore[assignment]


class PerformerIndex:
    """Performers known so far, by ISNI, IPN and (within the importing CMO) by name."""

    def __init__(self, connection: Connection, cmo_id: int) -> None:
        self.known: dict[tuple[str, str], int] = {}
        for isni, pid in connection.execute(
            select(_performer.c.isni, _performer.c.id).where(_performer.c.isni.is_not(None))
        ):
            self.known[("isni", isni)] = pid
        for ipn, pid in connection.execute(
            select(_performer.c.ipn, _performer.c.id).where(_performer.c.ipn.is_not(None))
        ):
            self.known[("ipn", ipn)] = pid
        for name, pid in connection.execute(
            select(_performer.c.name, _performer.c.id).where(
                _performer.c.registered_by_cmo_id == cmo_id
            )
        ):
            self._add_name(self.known, name, pid)

    @staticmethod
    def _add_name(table: dict[tuple[str, str], int], name: str, pid: int) -> None:
        key = ("name", name)
        table[key] = pid if table.get(key, pid) == pid else AMBIGUOUS

    def lookup(self, contributor: Contributor) -> int | None:
        """The performer's id, ``None`` if unknown; raises if a bare name is ambiguous."""
        for key in contributor.lookup_keys:
            pid = self.known.get(key)
            if pid == AMBIGUOUS:
                raise InvalidInput(
                    f"several performers of this CMO are named {contributor.name!r}: "
                    "give the ISNI or IPN"
                )
            if pid is not None:
                return pid
        return None

    def learn(self, contributor: Contributor, pid: int) -> None:
        for key in contributor.keys:
            if key[0] == "name":
                self._add_name(self.known, key[1], pid)
            else:
                self.known.setdefault(key, pid)


@dataclass
class ChunkResult:
    imported: list[str] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    new_performers: list[tuple[Contributor, int]] = field(default_factory=list)
    contributions: int = 0


Resolved = list[tuple[int, Contributor, int]]  # (line, contributor, performer id) per entry
_RECORDING_FIELDS = ("title", "duration_ms", "fixation_year", "audio_sha256")


def write_chunk(
    connection: Connection, cmo_id: int, groups: list[Group], performers: PerformerIndex
) -> ChunkResult:
    """Store one chunk of recordings; what cannot be stored becomes a row error."""
    result = ChunkResult()
    existing = {
        row.isrc: row
        for row in connection.execute(
            select(
                _recording.c.id,
                _recording.c.isrc,
                _recording.c.title,
                _recording.c.duration_ms,
                _recording.c.fixation_year,
                _recording.c.audio_sha256,
                _recording.c.registered_by_cmo_id,
            ).where(_among(connection, _recording.c.isrc, [g.isrc for g in groups]))
        )
    }
    accepted, new_performers = _resolve(groups, existing, cmo_id, performers, result)
    ids = _create_performers(connection, cmo_id, new_performers)
    result.new_performers = list(zip(new_performers, ids, strict=True))

    def real(pid: int) -> int:  # unknown performers carry negative ids until created
        return pid if pid > 0 else ids[-pid - 1]

    sqlite = connection.dialect.name == "sqlite"
    new_contributions: list[tuple[Any, ...]] = []
    fresh = [(g, r) for g, r in accepted if g.isrc not in existing]
    recording_ids = _insert_recordings(connection, cmo_id, [g for g, _ in fresh])
    for group, resolved in fresh:
        recording_id = recording_ids[group.isrc]
        result.imported.append(group.isrc)
        for _, c, pid in resolved:
            new_contributions.append(_contribution_row(recording_id, real(pid), c, sqlite))
    known = [
        (g, [(line, c, real(pid)) for line, c, pid in r]) for g, r in accepted if g.isrc in existing
    ]
    if known:
        _compare_known(connection, known, existing, result, new_contributions, sqlite)
    _insert_many(connection, _contribution, CONTRIBUTION_COLUMNS, new_contributions)
    result.contributions += len(new_contributions)
    return result


def _resolve(
    groups: list[Group],
    existing: dict[str, Any],
    cmo_id: int,
    performers: PerformerIndex,
    result: ChunkResult,
) -> tuple[list[tuple[Group, Resolved]], list[Contributor]]:
    """Each accepted recording with its performers' ids, and the performers to create."""
    pending: dict[tuple[str, str], int] = {}
    new_performers: list[Contributor] = []
    accepted: list[tuple[Group, Resolved]] = []
    for group in groups:
        owner = existing[group.isrc].registered_by_cmo_id if group.isrc in existing else cmo_id
        if owner != cmo_id:
            result.errors.append(
                RowError(
                    group.line,
                    f"ISRC {group.isrc} belongs to the catalogue of "
                    + (f"CMO {owner}" if owner else "no CMO")
                    + "; a CMO imports only into its own catalogue",
                )
            )
            continue
        try:
            found = [performers.lookup(contributor) for _, contributor in group.contributors]
        except InvalidInput as error:
            result.errors.append(RowError(group.line, error.message))
            continue
        # Resolve without touching the chunk's state, so a refused group leaves no trace.
        group_new: list[Contributor] = []
        local: dict[tuple[str, str], int] = {}
        resolved: Resolved = []
        used: set[int] = set()
        twice: tuple[int, str] | None = None
        for (line, contributor), pid in zip(group.contributors, found, strict=True):
            if pid is None:
                pid = next(
                    (
                        table[key]
                        for key in contributor.lookup_keys
                        for table in (pending, local)
                        if key in table
                    ),
                    None,
                )
            if pid is None:
                group_new.append(contributor)
                pid = -(len(new_performers) + len(group_new))
                for key in contributor.keys:
                    local.setdefault(key, pid)
            if pid in used:
                twice = (line, contributor.name)
                break
            used.add(pid)
            resolved.append((line, contributor, pid))
        if twice is not None:
            result.errors.append(
                RowError(
                    twice[0],
                    f"{twice[1]!r} names a performer already listed for {group.isrc}; "
                    "the recording is skipped",
                )
            )
            continue
        new_performers.extend(group_new)
        for key, pid in local.items():
            pending.setdefault(key, pid)
        accepted.append((group, resolved))
    return accepted, new_performers


def _create_performers(
    connection: Connection, cmo_id: int, new_performers: list[Contributor]
) -> list[int]:
    """Insert the chunk's new performers (registered by the CMO) and return their ids."""
    if not new_performers:
        return []
    if _copies(connection):
        ids = _reserve_ids(connection, _performer, len(new_performers))
        _copy_rows(
            connection,
            _performer,
            ("id", "name", "isni", "ipn", "registered_by_cmo_id"),
            [
                (pid, c.name, c.isni, c.ipn, cmo_id)
                for pid, c in zip(ids, new_performers, strict=True)
            ],
        )
        return ids
    # RETURNING rows come back in no promised order: match them on what was inserted,
    # which is unique among one chunk's new performers.
    returned = connection.execute(
        insert(_performer).returning(
            _performer.c.id, _performer.c.name, _performer.c.isni, _performer.c.ipn
        ),
        [
            {
                "name": c.name,
                "isni": c.isni,
                "ipn": c.ipn,
                "nationality": None,
                "residence": None,
                "registered_by_cmo_id": cmo_id,
            }
            for c in new_performers
        ],
    )
    by_values = {(row.name, row.isni, row.ipn): row.id for row in returned}
    return [by_values[(c.name, c.isni, c.ipn)] for c in new_performers]


def _insert_recordings(connection: Connection, cmo_id: int, groups: list[Group]) -> dict[str, int]:
    """Insert new recordings; their ids by ISRC."""
    if not groups:
        return {}
    if _copies(connection):
        # Ids drawn from the table's sequence up front: no reading back what was written.
        ids = _reserve_ids(connection, _recording, len(groups))
        _copy_rows(
            connection,
            _recording,
            ("id", *RECORDING_COLUMNS),
            [
                (rid, g.isrc, g.title, g.duration_ms, g.fixation_year, g.audio_sha256, cmo_id)
                for rid, g in zip(ids, groups, strict=True)
            ],
        )
        return {g.isrc: rid for rid, g in zip(ids, groups, strict=True)}
    _insert_many(
        connection,
        _recording,
        RECORDING_COLUMNS,
        [(g.isrc, g.title, g.duration_ms, g.fixation_year, g.audio_sha256, cmo_id) for g in groups],
    )
    return {
        isrc: recording_id
        for isrc, recording_id in connection.execute(
            select(_recording.c.isrc, _recording.c.id).where(
                _among(connection, _recording.c.isrc, [g.isrc for g in groups])
            )
        )
    }


def _compare_known(
    connection: Connection,
    known: list[tuple[Group, Resolved]],
    existing: dict[str, Any],
    result: ChunkResult,
    new_contributions: list[tuple[Any, ...]],
    sqlite: bool,
) -> None:
    """Recordings already stored: write only what the file changes or adds."""
    stored_parts = {
        (part.recording_id, part.performer_id): part
        for part in connection.execute(
            select(
                _contribution.c.id,
                _contribution.c.recording_id,
                _contribution.c.performer_id,
                _contribution.c.featured,
                _contribution.c.kind,
                _contribution.c.instrument,
                _contribution.c.weight,
            ).where(
                _among(
                    connection,
                    _contribution.c.recording_id,
                    [existing[g.isrc].id for g, _ in known],
                )
            )
        )
    }
    recording_updates: list[dict[str, Any]] = []
    contribution_updates: list[dict[str, Any]] = []
    for group, resolved in known:
        stored = existing[group.isrc]
        changes: dict[str, list[Any]] = {}
        for name in _RECORDING_FIELDS:
            value = getattr(group, name)
            if value is not None and value != getattr(stored, name):
                changes[name] = [getattr(stored, name), value]
        added = changed = 0
        for _, c, performer_id in resolved:
            part = stored_parts.get((stored.id, performer_id))
            if part is None:
                new_contributions.append(_contribution_row(stored.id, performer_id, c, sqlite))
                added += 1
            elif (
                part.featured != c.featured
                or part.kind != c.kind
                or part.instrument != c.instrument
                or Decimal(str(part.weight)) != c.weight
            ):
                contribution_updates.append(
                    {
                        "_id": part.id,
                        "featured": c.featured,
                        "kind": c.kind,
                        "instrument": c.instrument,
                        "weight": c.weight,
                    }
                )
                changed += 1
        if changes:
            recording_updates.append(
                {"_id": stored.id}
                | {
                    name: changes[name][1] if name in changes else getattr(stored, name)
                    for name in _RECORDING_FIELDS
                }
            )
        if changes or added or changed:
            result.updated.append(
                {
                    "isrc": group.isrc,
                    "fields": changes,
                    "contributions_added": added,
                    "contributions_changed": changed,
                }
            )
        else:
            result.unchanged += 1
    if recording_updates:
        connection.execute(
            update(_recording)
            .where(_recording.c.id == bindparam("_id"))
            .values({name: bindparam(name) for name in _RECORDING_FIELDS}),
            recording_updates,
        )
    if contribution_updates:
        connection.execute(
            update(_contribution)
            .where(_contribution.c.id == bindparam("_id"))
            .values(
                featured=bindparam("featured"),
                kind=bindparam("kind"),
                instrument=bindparam("instrument"),
                weight=bindparam("weight"),
            ),
            contribution_updates,
        )
    result.contributions += len(contribution_updates)


RECORDING_COLUMNS = (
    "isrc",
    "title",
    "duration_ms",
    "fixation_year",
    "audio_sha256",
    "registered_by_cmo_id",
)
CONTRIBUTION_COLUMNS = ("recording_id", "performer_id", "featured", "kind", "instrument", "weight")


def _contribution_row(
    recording_id: int, performer_id: int, c: Contributor, sqlite: bool
) -> tuple[Any, ...]:
    # The SQLite driver stores no Decimal: a weight has 6 decimals, exact enough as a float.
    weight = float(c.weight) if sqlite else c.weight
    return (recording_id, performer_id, c.featured, c.kind, c.instrument, weight)


def _insert_many(
    connection: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """A Core ``insert()`` executed for many rows in one call.

    On SQLite the statement is compiled once and its rows go to the driver's ``executemany``
    as plain tuples: SQLAlchemy's per-row parameter processing cost as much as SQLite's own
    work. On PostgreSQL the rows stream through ``COPY … FROM STDIN`` on the same connection
    (so in the chunk's transaction), which skips per-statement parsing and round trips.
    Elsewhere the Core statement runs with parameter dictionaries, as usual.
    """
    if not rows:
        return
    if _copies(connection):
        _copy_rows(connection, table, columns, rows)
        return
    statement = insert(table).values({name: bindparam(name) for name in columns})
    if connection.dialect.name != "sqlite":
        connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    compiled = statement.compile(dialect=connection.dialect)
    if tuple(compiled.positiontup or ()) != columns:
        raise RuntimeError(f"unexpected parameter order for {table.name}: {compiled.positiontup}")
    connection.exec_driver_sql(str(compiled), rows)


# The benchmark turns COPY off to compare it with executemany on the same data.
COPY_ON_POSTGRESQL = True


def _copies(connection: Connection) -> bool:
    """Whether rows go to the database by ``COPY`` (PostgreSQL) rather than ``INSERT``."""
    return connection.dialect.name == "postgresql" and COPY_ON_POSTGRESQL


def _among(connection: Connection, column: ColumnElement[Any], values: list[Any]) -> Any:
    """``column IN values``; on PostgreSQL as ``= ANY(array)``, one parameter whatever the
    count: an ``IN`` list of a chunk's 10 000 values cost more to build and parse than the
    query took to run."""
    if connection.dialect.name != "postgresql":
        return column.in_(values)
    return column == any_(bindparam(None, values, type_=ARRAY(column.type)))


def _reserve_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """``count`` fresh ids from the sequence behind ``table.id``, in ascending order.

    Sequences are not transactional: ids of a chunk that rolls back are skipped, never reused,
    as with any insert."""
    return list(
        connection.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence(%(table)s, 'id')) "
            "FROM generate_series(1, %(count)s)",
            {"table": table.name, "count": count},
        ).scalars()
    )


def _copy_rows(
    connection: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Stream ``rows`` into ``table`` by ``COPY … FROM STDIN`` on the chunk's own connection.

    The driver's errors come as SQLAlchemy's (``IntegrityError`` and the like), as from any
    other statement of the chunk."""
    import psycopg
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    driver = connection.connection.driver_connection
    assert driver is not None
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as error:
        raise DBAPIError.instance(
            f"COPY {table.name} ({', '.join(columns)}) FROM STDIN", None, error, psycopg.Error
        ) from error

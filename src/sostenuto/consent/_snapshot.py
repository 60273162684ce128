"""A compiled, read-only picture of everything a consent decision reads.

Decisions must be fast (10^5 per second), so they never query the registry row by row. The
snapshot holds the recording → contributors relation and the mandates as NumPy arrays, and
licences, agreements, rules and jurisdiction rules as small Python tuples. It is built from
committed data on a connection of its own and cached per engine; a cheap version query (the
newest audit event, the newest ids and the rule counts) tells when it must be rebuilt.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import orjson
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from sostenuto.storage.models.consent import ConsentRule, JurisdictionRule
from sostenuto.storage.models.registry import (
    Cmo,
    Licence,
    Licensee,
    ReciprocalAgreement,
)

if TYPE_CHECKING:
    from sostenuto.consent._engine import Context

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Open-ended periods end on the last representable day.
FOREVER = dt.date.max.toordinal()

_VERSION_SQL = text(
    "SELECT"
    " (SELECT max(id) FROM audit_event),"
    " (SELECT count(*) FROM consent_rule), (SELECT max(id) FROM consent_rule),"
    " (SELECT count(*) FROM jurisdiction_rule),"
    " (SELECT max(id) FROM recording), (SELECT max(id) FROM contribution),"
    " (SELECT max(id) FROM performer), (SELECT max(id) FROM mandate),"
    " (SELECT max(id) FROM licence), (SELECT max(id) FROM reciprocal_agreement),"
    " (SELECT max(id) FROM cmo), (SELECT max(id) FROM licensee)"
)


def day(value: dt.date | None, default: int = FOREVER) -> int:
    return value.toordinal() if value is not None else default


@dataclass(frozen=True, slots=True)
class RuleRow:
    id: int
    effect: str
    scope: str
    scope_id: int
    licensee_id: int | None
    uses: frozenset[str]
    territories: frozenset[str]
    start: int
    end: int
    revoked: int
    conditions: tuple[str, ...]
    source: str
    # The CMO whose act this is (None: the operator's, unbounded); see Context.
    cmo_id: int | None = None


@dataclass(frozen=True, slots=True)
class LicenceRow:
    id: int
    cmo_id: int
    licensee_id: int
    uses: frozenset[str]
    territories: frozenset[str]
    start: int
    end: int
    suspended: int  # first day the licence no longer counts (FOREVER: never suspended)
    extended: bool
    conditions: tuple[str, ...]
    model_id: int | None = None  # None: every model of the licensee


@dataclass(frozen=True, slots=True)
class AgreementRow:
    id: int
    cmo_id: int  # represents ...
    partner_cmo_id: int  # ... the members of this CMO
    territories: frozenset[str]
    uses: frozenset[str]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class JurisdictionRow:
    territory: str
    extended_licensing: bool
    ecl_uses: frozenset[str]


@dataclass
class Snapshot:
    """Registry and consent data compiled for decisions; never mutated after building."""

    version: tuple[Any, ...]
    rec_ptr: IntArray  # contributors of recording r: contrib_perf[rec_ptr[r]:rec_ptr[r + 1]]
    rec_known: BoolArray
    contrib_perf: IntArray
    perf_known: BoolArray
    perf_mptr: IntArray  # mandates of performer p: rows perf_mptr[p]:perf_mptr[p + 1]
    m_perf: IntArray
    m_cmo: IntArray
    m_start: IntArray
    m_end: IntArray
    m_term: IntArray
    terms: list[tuple[frozenset[str], frozenset[str]]]  # (territories, uses) of mandates
    cmo_country: dict[int, str]
    licensees: frozenset[int]
    licences: list[LicenceRow]
    agreements: list[AgreementRow]
    rules: list[RuleRow]
    jurisdictions: dict[str, JurisdictionRow]
    contexts: OrderedDict[tuple[int, str, str, int, int | None], Context] = field(
        default_factory=OrderedDict
    )
    lock: threading.Lock = field(default_factory=threading.Lock)

    @cached_property
    def rules_by_id(self) -> dict[int, RuleRow]:
        return {rule.id: rule for rule in self.rules}

    @property
    def max_cmo(self) -> int:
        return max(self.cmo_country, default=0)

    def has_recording(self, recording_id: int) -> bool:
        return 0 <= recording_id < len(self.rec_known) and bool(self.rec_known[recording_id])

    def has_performer(self, performer_id: int) -> bool:
        return 0 <= performer_id < len(self.perf_known) and bool(self.perf_known[performer_id])

    def contributors(self, recording_id: int) -> list[int]:
        start, end = self.rec_ptr[recording_id], self.rec_ptr[recording_id + 1]
        performers: list[int] = self.contrib_perf[start:end].tolist()
        return performers

    def mandate_rows(self, performer_id: int) -> range:
        if not 0 <= performer_id < len(self.perf_known):
            return range(0)
        return range(int(self.perf_mptr[performer_id]), int(self.perf_mptr[performer_id + 1]))


def _csr(keys: IntArray, size: int) -> IntArray:
    """Row pointers for rows sorted by ``keys`` (each key in ``0..size-1``)."""
    counts = np.bincount(keys, minlength=size)
    ptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr


def _raw_rows(connection: Connection, sql: str) -> list[Any]:
    """Rows as the driver's plain tuples: for millions of rows, SQLAlchemy's Row objects and
    result processing would cost more than the query."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        rows = list(cursor.fetchall())
        return rows
    finally:
        cursor.close()


def _int_column(connection: Connection, sql: str) -> IntArray:
    rows = _raw_rows(connection, sql)
    return np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))


def _pairs(
    connection: Connection, table: str, first: str, second: str
) -> tuple[IntArray, IntArray]:
    """Two integer columns, sorted by the first then the second."""
    # One packed integer a row halves what the driver builds and Python unpacks.
    packed = _int_column(connection, f"SELECT {first} * 4294967296 + {second} FROM {table}")
    packed.sort()
    return packed >> 32, packed & 0xFFFFFFFF


def _codes(values: Iterable[str] | None) -> frozenset[str]:
    return frozenset(values or ())


@dataclass
class _Large:
    """The registry's large relations, rebuilt only when they change."""

    rec_ptr: IntArray
    rec_known: BoolArray
    contrib_perf: IntArray
    perf_known: BoolArray
    perf_mptr: IntArray
    m_perf: IntArray
    m_cmo: IntArray
    m_start: IntArray
    m_end: IntArray
    m_term: IntArray
    terms: list[tuple[frozenset[str], frozenset[str]]]


def _decoder() -> Any:
    """Decode a JSON list or ISO date column the driver returned as text (SQLite) or already
    decoded (PostgreSQL); identical texts are decoded once."""
    cache: dict[str, Any] = {}

    def decode(value: Any, kind: str) -> Any:
        if not isinstance(value, str):
            return value
        found = cache.get(value)
        if found is None:
            found = orjson.loads(value) if kind == "json" else dt.date.fromisoformat(value[:10])
            cache[value] = found
        return found

    return decode


def _load_large(connection: Connection) -> _Large:
    recording_ids = _int_column(connection, "SELECT id FROM recording")
    performer_ids = _int_column(connection, "SELECT id FROM performer")
    contrib_rec, contrib_perf = _pairs(connection, "contribution", "recording_id", "performer_id")
    max_recording = int(recording_ids.max()) if len(recording_ids) else 0
    max_performer = int(performer_ids.max()) if len(performer_ids) else 0
    rec_known = np.zeros(max_recording + 1, dtype=np.bool_)
    rec_known[recording_ids] = True
    perf_known = np.zeros(max_performer + 1, dtype=np.bool_)
    perf_known[performer_ids] = True
    # Without one read snapshot (SQLite reads each statement afresh), rows committed between
    # these queries may refer to ids not read yet: leave them to the next rebuild, which the
    # version (read before everything) will ask for.
    keep = (contrib_rec <= max_recording) & (contrib_perf <= max_performer)
    if not keep.all():
        contrib_rec, contrib_perf = contrib_rec[keep], contrib_perf[keep]
    rec_ptr = _csr(contrib_rec, max_recording + 1)

    mandates = _raw_rows(
        connection,
        "SELECT performer_id, cmo_id, valid_from, valid_to, territories, uses FROM mandate"
        " WHERE status = 'active' ORDER BY performer_id, id",
    )
    decode = _decoder()
    term_index: dict[tuple[frozenset[str], frozenset[str]], int] = {}
    count = len(mandates)
    m_perf = np.empty(count, dtype=np.int64)
    m_cmo = np.empty(count, dtype=np.int64)
    m_start = np.empty(count, dtype=np.int64)
    m_end = np.empty(count, dtype=np.int64)
    m_term = np.empty(count, dtype=np.int64)
    terms_seen: dict[tuple[Any, Any], int] = {}
    for row_number, (performer, cmo, start, end, territories, uses) in enumerate(mandates):
        m_perf[row_number] = performer
        m_cmo[row_number] = cmo
        m_start[row_number] = day(decode(start, "date"), 0)
        m_end[row_number] = day(decode(end, "date"))
        raw = (
            territories if isinstance(territories, str) else tuple(territories),
            uses if isinstance(uses, str) else tuple(uses),
        )
        index = terms_seen.get(raw)
        if index is None:
            term = (_codes(decode(territories, "json")), _codes(decode(uses, "json")))
            index = term_index.setdefault(term, len(term_index))
            terms_seen[raw] = index
        m_term[row_number] = index
    inside = m_perf <= max_performer
    if not inside.all():
        m_perf, m_cmo, m_start, m_end, m_term = (
            column[inside] for column in (m_perf, m_cmo, m_start, m_end, m_term)
        )
    return _Large(
        rec_ptr=rec_ptr,
        rec_known=rec_known,
        contrib_perf=contrib_perf,
        perf_known=perf_known,
        perf_mptr=_csr(m_perf, max_performer + 1),
        m_perf=m_perf,
        m_cmo=m_cmo,
        m_start=m_start,
        m_end=m_end,
        m_term=m_term,
        terms=list(term_index),
    )


def build_snapshot(
    connection: Connection, version: tuple[Any, ...], reuse: Snapshot | None = None
) -> Snapshot:
    """Read everything decisions need; the large relations come from ``reuse`` when given."""
    if reuse is not None:
        large = _Large(
            rec_ptr=reuse.rec_ptr,
            rec_known=reuse.rec_known,
            contrib_perf=reuse.contrib_perf,
            perf_known=reuse.perf_known,
            perf_mptr=reuse.perf_mptr,
            m_perf=reuse.m_perf,
            m_cmo=reuse.m_cmo,
            m_start=reuse.m_start,
            m_end=reuse.m_end,
            m_term=reuse.m_term,
            terms=reuse.terms,
        )
    else:
        large = _load_large(connection)

    cmo_country = {
        cmo_id: country for cmo_id, country in connection.execute(select(Cmo.id, Cmo.country))
    }
    licensees = frozenset(connection.execute(select(Licensee.id)).scalars())
    licences = [
        LicenceRow(
            id=row.id,
            cmo_id=row.cmo_id,
            licensee_id=row.licensee_id,
            uses=_codes(row.uses),
            territories=_codes(row.territories),
            start=day(row.valid_from, 0),
            end=day(row.valid_to),
            # A suspension counts from its day on, never before (a row suspended without a
            # day, from before registry_0003, counts as suspended from its start).
            suspended=day(row.suspended_from)
            if row.suspended_from is not None or row.status == "active"
            else day(row.valid_from, 0),
            extended=bool(row.extended),
            conditions=tuple(row.conditions or ()),
            model_id=row.model_id,
        )
        for row in connection.execute(select(Licence).order_by(Licence.id))
    ]
    agreements = [
        AgreementRow(
            id=row.id,
            cmo_id=row.cmo_id,
            partner_cmo_id=row.partner_cmo_id,
            territories=_codes(row.territories),
            uses=_codes(row.uses),
            start=day(row.valid_from, 0),
            end=day(row.valid_to),
        )
        for row in connection.execute(select(ReciprocalAgreement).order_by(ReciprocalAgreement.id))
    ]
    rules = [
        RuleRow(
            id=row.id,
            effect=row.effect,
            scope=row.scope_kind,
            scope_id=row.scope_id,
            licensee_id=row.licensee_id,
            uses=_codes(row.uses),
            territories=_codes(row.territories),
            start=day(row.valid_from, 0),
            end=day(row.valid_to),
            revoked=day(row.revoked_from),
            conditions=tuple(row.conditions or ()),
            source=row.source,
            cmo_id=row.cmo_id,
        )
        for row in connection.execute(select(ConsentRule).order_by(ConsentRule.id))
    ]
    jurisdictions = {
        row.territory: JurisdictionRow(
            territory=row.territory,
            extended_licensing=bool(row.extended_licensing),
            ecl_uses=_codes(row.ecl_uses),
        )
        for row in connection.execute(select(JurisdictionRule))
    }
    return Snapshot(
        version=version,
        rec_ptr=large.rec_ptr,
        rec_known=large.rec_known,
        contrib_perf=large.contrib_perf,
        perf_known=large.perf_known,
        perf_mptr=large.perf_mptr,
        m_perf=large.m_perf,
        m_cmo=large.m_cmo,
        m_start=large.m_start,
        m_end=large.m_end,
        m_term=large.m_term,
        terms=large.terms,
        cmo_country=cmo_country,
        licensees=licensees,
        licences=licences,
        agreements=agreements,
        rules=rules,
        jurisdictions=jurisdictions,
    )


# Positions in the version of the newest recording, contribution, performer and mandate ids.
_LARGE_VERSION = slice(4, 8)
# Audit entity types whose changes touch the large relations.
_LARGE_ENTITIES = frozenset({"recording", "contribution", "performer", "mandate", "catalogue"})


def _large_unchanged(connection: Connection, cached: Snapshot, version: tuple[Any, ...]) -> bool:
    """Whether only small tables changed since ``cached`` (a rule, a licence, ...): then the
    large arrays are kept and a rule change costs milliseconds, not a full rebuild."""
    if cached.version[_LARGE_VERSION] != version[_LARGE_VERSION]:
        return False
    changed = connection.execute(
        text("SELECT DISTINCT entity_type FROM audit_event WHERE id > :last"),
        {"last": cached.version[0] or 0},
    ).scalars()
    return not (set(changed) & _LARGE_ENTITIES)


_CACHE: weakref.WeakKeyDictionary[Engine, Snapshot] = weakref.WeakKeyDictionary()
_BUILD_LOCK = threading.Lock()


def current_snapshot(session: Session) -> Snapshot:
    """The snapshot of the session's database, rebuilt when committed data changed.

    The version query and the build run on a connection of their own, so a decision sees
    committed registry and consent data only, never the caller's unfinished transaction.
    """
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with engine.connect() as connection:
        version = tuple(connection.execute(_VERSION_SQL).one())
        cached = _CACHE.get(engine)
        if cached is not None and cached.version == version:
            return cached
    with _BUILD_LOCK:
        cached = _CACHE.get(engine)
        if cached is not None and cached.version == version:
            return cached
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                # One consistent view of every table read below.
                connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                # Read the version again inside the transaction that reads the data, so the
                # snapshot is labelled with the state it was built from.
                version = tuple(connection.execute(_VERSION_SQL).one())
                reuse = cached if cached and _large_unchanged(connection, cached, version) else None
                snapshot = build_snapshot(connection, version, reuse)
        _CACHE[engine] = snapshot
        return snapshot


def forget_snapshots() -> None:
    """Drop every cached snapshot (tests and benchmarks that time a cold start)."""
    _CACHE.clear()

"""What an export covers: the exporting party, its rules with their targets, and the pages.

Only rules that hold for any licensee and are in force on the day or later are public: a rule
for one licensee belongs to that licensee's deal. A CMO's export holds its CMO-scope rules,
the performer rules of its current members and the recording rules of the recordings it
registered or its members play on; a performer's export holds their own rules, the CMO-scope
rules of their current CMOs and the rules of the recordings they play on.

Each recording also gets a *page* (``/recordings/<ISRC>`` on the catalogue site) with every
rule that reaches it, because crawlers read preferences per URL (robots.txt, tdmrep.json,
the Content-Usage header), not per performer.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sostenuto.consent._rules import current_cmos
from sostenuto.errors import InvalidInput, NotFound
from sostenuto.storage.models.consent import ConsentRule
from sostenuto.storage.models.registry import Cmo, Contribution, Mandate, Performer, Recording

BASE = "https://sostenuto.dev"
_CHUNK = 500


@dataclass(frozen=True)
class Target:
    kind: str  # recording, performer, cmo
    id: int
    uid: str  # urn:isrc:... or a collection IRI


@dataclass(frozen=True)
class Page:
    """A recording's page on the catalogue site and the rules that reach it."""

    recording_id: int
    isrc: str
    rules: tuple[ConsentRule, ...]

    @property
    def location(self) -> str:
        return f"/recordings/{self.isrc}"

    @property
    def uid(self) -> str:
        return f"urn:isrc:{self.isrc}"


@dataclass
class Scope:
    party_kind: str  # cmo or performer
    party_id: int
    name: str
    email: str | None
    pairs: list[tuple[Target, ConsentRule]] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)

    @property
    def party(self) -> str:
        return f"{BASE}/id/{self.party_kind}/{self.party_id}"


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _rules_in_force(session: Session, scope: str, ids: list[int], on: dt.date) -> list[ConsentRule]:
    query = select(ConsentRule).where(
        ConsentRule.scope_kind == scope,
        ConsentRule.licensee_id.is_(None),
        or_(ConsentRule.valid_to.is_(None), ConsentRule.valid_to >= on),
        or_(ConsentRule.revoked_from.is_(None), ConsentRule.revoked_from > on),
    )
    found: list[ConsentRule] = []
    for chunk in _chunks(ids):
        found.extend(session.scalars(query.where(ConsentRule.scope_id.in_(chunk))))
    return found


def _members(session: Session, cmo_id: int, on: dt.date) -> list[int]:
    query = select(Mandate.performer_id).where(
        Mandate.cmo_id == cmo_id,
        Mandate.status == "active",
        Mandate.valid_from <= on,
        or_(Mandate.valid_to.is_(None), Mandate.valid_to >= on),
    )
    return sorted(set(session.scalars(query)))


def _contributors(session: Session, recordings: list[int]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(recordings):
        query = select(Contribution.recording_id, Contribution.performer_id).where(
            Contribution.recording_id.in_(chunk)
        )
        for recording_id, performer_id in session.execute(query):
            found[recording_id].add(performer_id)
    return found


def _played_by(session: Session, performers: list[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(performers):
        query = select(Contribution.recording_id).where(Contribution.performer_id.in_(chunk))
        found.update(session.scalars(query))
    return found


def _isrcs(session: Session, recordings: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in _chunks(recordings):
        query = select(Recording.id, Recording.isrc).where(Recording.id.in_(chunk))
        found.update({rid: isrc for rid, isrc in session.execute(query)})
    return found


def collect(session: Session, cmo_id: int | None, performer_id: int | None, on: dt.date) -> Scope:
    """The exporting party, each public rule with its target, and each recording page."""
    if (cmo_id is None) == (performer_id is None):
        raise InvalidInput("export the reservations of exactly one CMO or one performer")
    pairs: list[tuple[Target, ConsentRule]] = []
    # Rules reaching every member (CMO scope), keyed by the performers they reach.
    reach_all: list[ConsentRule] = []
    if cmo_id is not None:
        cmo = session.get(Cmo, cmo_id)
        if cmo is None:
            raise NotFound(f"no CMO with id {cmo_id}")
        scope = Scope("cmo", cmo_id, cmo.name, _email(cmo.identifiers))
        performers = _members(session, cmo_id, on)
        target = Target("cmo", cmo_id, f"{BASE}/id/cmo/{cmo_id}/members")
        reach_all = _rules_in_force(session, "cmo", [cmo_id], on)
        pairs += [(target, rule) for rule in reach_all]
        registered = session.scalars(
            select(Recording.id).where(Recording.registered_by_cmo_id == cmo_id)
        )
        recordings = sorted(set(registered) | _played_by(session, performers))
    else:
        assert performer_id is not None
        performer = session.get(Performer, performer_id)
        if performer is None:
            raise NotFound(f"no performer with id {performer_id}")
        # The performer's name stays out of the public record: the IRI identifies them.
        scope = Scope("performer", performer_id, f"Performer {performer_id}", None)
        performers = [performer_id]
        target = Target("performer", performer_id, f"{BASE}/id/performer/{performer_id}/recordings")
        cmos = sorted(current_cmos(session, performer_id, on))
        reach_all = _rules_in_force(session, "cmo", cmos, on)
        pairs += [(target, rule) for rule in reach_all]
        recordings = sorted(_played_by(session, performers))
    by_performer: dict[int, list[ConsentRule]] = defaultdict(list)
    for rule in _rules_in_force(session, "performer", performers, on):
        target = Target(
            "performer", rule.scope_id, f"{BASE}/id/performer/{rule.scope_id}/recordings"
        )
        pairs.append((target, rule))
        by_performer[rule.scope_id].append(rule)
    isrcs = _isrcs(session, recordings)
    by_recording: dict[int, list[ConsentRule]] = defaultdict(list)
    for rule in _rules_in_force(session, "recording", recordings, on):
        pairs.append((Target("recording", rule.scope_id, f"urn:isrc:{isrcs[rule.scope_id]}"), rule))
        by_recording[rule.scope_id].append(rule)
    pairs.sort(key=lambda pair: pair[1].id)
    members = set(performers)
    contributors = _contributors(session, recordings)
    for recording_id in recordings:
        players = contributors.get(recording_id, set())
        rules = list(by_recording.get(recording_id, []))
        for player in sorted(players & members):
            rules += by_performer.get(player, [])
        if players & members:
            rules += reach_all
        if rules:
            unique = {rule.id: rule for rule in rules}
            page = Page(recording_id, isrcs[recording_id], tuple(unique[k] for k in sorted(unique)))
            scope.pages.append(page)
    scope.pairs = pairs
    scope.pages.sort(key=lambda page: page.isrc)
    return scope


def _email(identifiers: dict[str, object] | None) -> str | None:
    value = (identifiers or {}).get("email")
    return value if isinstance(value, str) and "@" in value else None

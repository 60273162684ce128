"""Properties of consent integrity, on the real clock:

- a CMO's act never changes a decision about a performer it does not represent (outside
  the standing its country's extended licensing gives it over non-members);
- no act dated today changes any decision for an earlier date.

One world is built per test; each example applies a few acts through the services as the
CMO admins would, checks, then removes what it added.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update

from sostenuto import registry
from sostenuto.auth import OPERATOR
from sostenuto.consent import (
    decide_batch,
    decide_performer,
    forget_snapshots,
    load_jurisdictions,
    opt_out,
    permit,
    prohibit,
    revoke_rule,
)
from sostenuto.errors import SostenutoError
from sostenuto.storage import Database
from sostenuto.storage.models.consent import ConsentRule
from sostenuto.storage.models.registry import Licence, Mandate
from sostenuto.vocabulary import use_ancestry
from tests.consent.conftest import EVERY_USE, World, admin

TODAY = dt.datetime.now(dt.UTC).date()
EARLIER = (TODAY - dt.timedelta(days=1), TODAY - dt.timedelta(days=400))
USES = ["train-ai", "train-genai", "voice-clone", "search-index", "generate-derivative"]
TERRITORIES = ["WW", "SE", "DK", "ES"]
QUESTIONS = [
    (u, t) for u in ("train-genai", "voice-clone", "search-index") for t in TERRITORIES[1:]
]
CMOS = ("SE", "DK", "ES")
PERFORMERS = 6
RECORDINGS = 7
REALM_LICENCES = 4
# (performer, CMO, territories, uses): p5 is nobody's member; p3 is a member in two places.
MANDATES = [
    (0, "SE", ("SE",), EVERY_USE),
    (1, "SE", ("WW",), ("train-genai",)),
    (2, "DK", ("DK", "SE"), EVERY_USE),
    (3, "DK", ("DK",), EVERY_USE),
    (3, "ES", ("ES",), EVERY_USE),
    (4, "ES", ("WW",), EVERY_USE),
]


@dataclass(frozen=True)
class Act:
    kind: str  # permit, prohibit, opt-out, licence, extended-licence, suspend, revoke
    cmo: str
    scope: str
    target: int
    uses: tuple[str, ...]
    territories: tuple[str, ...]


@pytest.fixture
def realm(sqlite_database: Database) -> dict[str, int]:
    world = World(sqlite_database)
    ids = {code: world.cmo(f"{code}-CMO", code) for code in CMOS}
    ids["L"] = world.licensee("Lab")
    long_ago = dt.date(2020, 1, 1)
    for number in range(PERFORMERS):
        ids[f"p{number}"] = world.performer(f"Performer {number}")
    for performer, cmo, territories, uses in MANDATES:
        world.mandate(
            ids[f"p{performer}"], ids[cmo], territories=territories, uses=uses, valid_from=long_ago
        )
    contributors = [(0,), (0, 1), (2,), (3, 5), (4,), (5,), (1, 2, 4)]
    for number, names in enumerate(contributors):
        ids[f"r{number}"] = world.recording(*(ids[f"p{n}"] for n in names))
    for code in CMOS:
        world.licence(
            ids[code], ids["L"], uses=("train-genai", "search-index"), territories=(code,)
        )
    world.licence(ids["SE"], ids["L"], uses=("train-genai",), territories=("SE",), extended=True)
    with sqlite_database.transaction() as session:
        load_jurisdictions(session, OPERATOR)
    return ids


def acts() -> st.SearchStrategy[Act]:
    targets = st.one_of(
        st.tuples(st.just("performer"), st.integers(0, PERFORMERS - 1)),
        st.tuples(st.just("recording"), st.integers(0, RECORDINGS - 1)),
        st.tuples(st.just("cmo"), st.integers(0, 0)),
    )
    return st.builds(
        lambda kind, cmo, target, uses, territories: Act(
            kind, cmo, target[0], target[1], tuple(uses), tuple(territories)
        ),
        st.sampled_from(
            ["permit", "prohibit", "opt-out", "licence", "extended-licence", "suspend", "revoke"]
        ),
        st.sampled_from(CMOS),
        targets,
        st.lists(st.sampled_from(USES), min_size=1, max_size=2, unique=True),
        st.lists(st.sampled_from(TERRITORIES), min_size=1, max_size=2, unique=True),
    )


def apply(database: Database, ids: dict[str, int], act: Act) -> None:
    """Apply one act as the CMO's admin would; refusals (no standing, bad terms) are fine."""
    principal = admin(ids[act.cmo])
    cmo_id = ids[act.cmo]
    scope_id = {"performer": "p", "recording": "r"}.get(act.scope)
    target = ids[f"{scope_id}{act.target}"] if scope_id else cmo_id
    territories = [t for t in act.territories if t != "WW"] or [act.cmo]
    steps: dict[str, Callable[..., object]] = {
        "permit": lambda s: permit(
            s,
            principal,
            scope=act.scope,
            scope_id=target,
            uses=act.uses,
            territories=act.territories,
        ),
        "prohibit": lambda s: prohibit(
            s,
            principal,
            scope=act.scope,
            scope_id=target,
            uses=act.uses,
            territories=act.territories,
        ),
        "opt-out": lambda s: opt_out(
            s, principal, performer_id=ids[f"p{act.target % PERFORMERS}"], uses=act.uses
        ),
        "licence": lambda s: registry.grant_licence(
            s,
            principal,
            cmo_id=cmo_id,
            licensee_id=ids["L"],
            uses=list(act.uses),
            territories=list(act.territories),
            valid_from=TODAY,
        ),
        "extended-licence": lambda s: registry.grant_licence(
            s,
            principal,
            cmo_id=cmo_id,
            licensee_id=ids["L"],
            uses=list(act.uses),
            territories=territories,
            valid_from=TODAY,
            extended=True,
        ),
        "suspend": lambda s: [
            registry.suspend_licence(s, principal, licence.id)
            for licence in registry.list_licences(s, principal, cmo_id=cmo_id)
            if licence.status == "active"
        ],
        "revoke": lambda s: [
            revoke_rule(s, principal, rule.id)
            for rule in s.query(ConsentRule).filter(ConsentRule.revoked_from.is_(None)).all()
        ],
    }
    try:
        with database.transaction() as session:
            steps[act.kind](session)
    except SostenutoError:
        pass


def restore(database: Database) -> None:
    with database.transaction() as session:
        session.execute(delete(ConsentRule))
        session.execute(delete(Licence).where(Licence.id > REALM_LICENCES))
        session.execute(update(Licence).values(status="active", suspended_from=None))
        session.execute(update(Mandate).values(status="active"))
    forget_snapshots()


def answers(database: Database, ids: dict[str, int], on: dt.date) -> dict[tuple[object, ...], str]:
    """Every recording's and performer's answer (outcome and grounds) to every question."""
    found: dict[tuple[object, ...], str] = {}
    recordings = [ids[f"r{n}"] for n in range(RECORDINGS)]
    with database.reader() as session:
        for use, territory in QUESTIONS:
            common = {"licensee_id": ids["L"], "use": use, "territory": territory, "on_date": on}
            batch = decide_batch(session, OPERATOR, recording_ids=recordings, store=False, **common)
            for number, result in enumerate(batch):
                found[("r", number, use, territory)] = f"{result.outcome} {result.reason}"
            for number in range(PERFORMERS):
                result = decide_performer(
                    session, OPERATOR, performer_id=ids[f"p{number}"], store=False, **common
                )
                found[("p", number, use, territory)] = f"{result.outcome} {result.reason}"
    return found


def _represents(cmo: str, performer: int, use: str, territory: str) -> bool:
    """Whether ``cmo`` may have standing for ``performer`` for ``use`` in ``territory``: a
    mandate covering them, or its own country's extended licensing (SE, DK) over a
    non-member there."""
    for member, holder, territories, uses in MANDATES:
        if (
            member == performer
            and holder == cmo
            and ("WW" in territories or territory in territories)
            and any(code in uses for code in use_ancestry(use))
        ):
            return True
    return territory == cmo and cmo in ("SE", "DK")


CONTRIBUTORS = [(0,), (0, 1), (2,), (3, 5), (4,), (5,), (1, 2, 4)]

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(steps=st.lists(acts(), min_size=1, max_size=3))
def test_a_cmo_never_changes_decisions_about_performers_it_does_not_represent(
    sqlite_database: Database, realm: dict[str, int], steps: list[Act]
) -> None:
    cmo = steps[0].cmo
    steps = [step for step in steps if step.cmo == cmo and step.kind != "opt-out"]
    before = answers(sqlite_database, realm, TODAY)
    try:
        for step in steps:
            apply(sqlite_database, realm, step)
        after = answers(sqlite_database, realm, TODAY)
    finally:
        restore(sqlite_database)
    for key, answer in before.items():
        kind, number, use, territory = key
        assert isinstance(number, int) and isinstance(use, str) and isinstance(territory, str)
        performers = (number,) if kind == "p" else CONTRIBUTORS[number]
        if any(_represents(cmo, p, use, territory) for p in performers):
            continue
        assert after[key] == answer, (key, steps)


@SETTINGS
@given(steps=st.lists(acts(), min_size=1, max_size=4))
def test_no_act_dated_today_changes_a_decision_for_an_earlier_day(
    sqlite_database: Database, realm: dict[str, int], steps: list[Act]
) -> None:
    before = {day: answers(sqlite_database, realm, day) for day in EARLIER}
    try:
        for step in steps:
            apply(sqlite_database, realm, step)
        after = {day: answers(sqlite_database, realm, day) for day in EARLIER}
    finally:
        restore(sqlite_database)
    assert after == before

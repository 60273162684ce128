"""Hypothesis properties of the decision engine over random rule sets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from sostenuto.auth import OPERATOR
from sostenuto.consent import decide_batch, get_decision, load_jurisdictions, permit, prohibit
from sostenuto.consent._engine import context
from sostenuto.consent._snapshot import current_snapshot
from sostenuto.consent._types import DecisionResult
from sostenuto.storage import Database
from sostenuto.storage.models.consent import ConsentRule
from tests.consent.conftest import DAY, World

pytestmark = pytest.mark.usefixtures("history_clock")

USES = ["train-ai", "train-genai", "voice-clone", "style-imitation", "search-index"]
TERRITORIES = ["WW", "ES", "FR", "SE"]
QUESTIONS = [("L1", "train-genai", "ES"), ("L2", "voice-clone", "SE"), ("L1", "search-index", "FR")]
DATES = [dt.date(2025, 1, 1), dt.date(2026, 1, 1), dt.date(2026, 7, 1)]


@dataclass(frozen=True)
class RuleSpec:
    effect: str
    scope: str
    target: str  # a key of the world's ids
    uses: tuple[str, ...]
    territories: tuple[str, ...]
    licensee: str | None
    valid_from: dt.date
    valid_to: dt.date | None
    conditions: tuple[str, ...]


@pytest.fixture
def small_world(database: Database) -> dict[str, int]:
    world = World(database)
    ids = {
        "ES": world.cmo("ES-CMO", "ES"),
        "FR": world.cmo("FR-CMO", "FR"),
        "SE": world.cmo("SE-CMO", "SE"),
        "L1": world.licensee("Lab one"),
        "L2": world.licensee("Lab two"),
    }
    for number in range(6):
        ids[f"p{number}"] = world.performer(f"Performer {number}")
    world.mandate(ids["p0"], ids["ES"])
    world.mandate(ids["p1"], ids["ES"], uses=("train-genai",))
    world.mandate(ids["p2"], ids["FR"], territories=("FR", "ES"))
    world.mandate(ids["p3"], ids["SE"], valid_to=dt.date(2026, 3, 1))
    world.mandate(ids["p4"], ids["FR"], territories=("FR",))
    world.mandate(ids["p4"], ids["SE"], territories=("SE",))
    contributors = [
        ("p0",),
        ("p0", "p1"),
        ("p2",),
        ("p3", "p5"),
        ("p4",),
        ("p5",),
        (),
        ("p1", "p2"),
    ]
    for number, names in enumerate(contributors):
        ids[f"r{number}"] = world.recording(*(ids[name] for name in names))
    world.licence(ids["ES"], ids["L1"], uses=("train-genai", "search-index"))
    world.licence(ids["FR"], ids["L1"], uses=("search-index",), territories=("FR",))
    world.licence(ids["SE"], ids["L2"], uses=("voice-clone", "train-genai"), extended=True)
    world.agreement(ids["ES"], ids["FR"], territories=("ES",))
    with database.transaction() as session:
        load_jurisdictions(session, OPERATOR)
    return ids


def rule_specs() -> st.SearchStrategy[RuleSpec]:
    scope_targets = st.sampled_from(
        [("cmo", "ES"), ("cmo", "FR"), ("cmo", "SE")]
        + [("performer", f"p{n}") for n in range(6)]
        + [("recording", f"r{n}") for n in range(8)]
    )
    return st.builds(
        lambda effect, target, uses, territories, licensee, start, end, conditions: RuleSpec(
            effect,
            target[0],
            target[1],
            tuple(uses),
            tuple(territories),
            licensee,
            start,
            end,
            tuple(conditions) if effect == "permit" else (),
        ),
        st.sampled_from(["permit", "prohibit"]),
        scope_targets,
        st.lists(st.sampled_from(USES), min_size=1, max_size=2, unique=True),
        st.lists(st.sampled_from(TERRITORIES), min_size=1, max_size=2, unique=True),
        st.sampled_from([None, "L1", "L2"]),
        st.sampled_from(DATES[:2]),
        st.sampled_from([None, dt.date(2026, 12, 31)]),
        st.lists(st.sampled_from(["remuneration", "attribution"]), max_size=2, unique=True),
    )


def add_rules(database: Database, ids: dict[str, int], specs: list[RuleSpec]) -> list[int]:
    created = []
    with database.transaction() as session:
        for spec in specs:
            make = permit if spec.effect == "permit" else prohibit
            extra = {"conditions": list(spec.conditions)} if spec.effect == "permit" else {}
            created.append(
                make(
                    session,
                    OPERATOR,
                    scope=spec.scope,
                    scope_id=ids[spec.target],
                    uses=list(spec.uses),
                    territories=list(spec.territories),
                    licensee_id=ids[spec.licensee] if spec.licensee else None,
                    valid_from=spec.valid_from,
                    valid_to=spec.valid_to,
                    **extra,
                ).id
            )
    return created


def clear_rules(database: Database) -> None:
    with database.transaction() as session:
        session.execute(delete(ConsentRule))


def decide_all(database: Database, ids: dict[str, int], on: dt.date = DAY) -> list[DecisionResult]:
    recordings = [ids[f"r{n}"] for n in range(8)]
    results: list[DecisionResult] = []
    with database.transaction() as session:
        for licensee, use, territory in QUESTIONS:
            batch = decide_batch(
                session,
                OPERATOR,
                licensee_id=ids[licensee],
                recording_ids=recordings,
                use=use,
                territory=territory,
                on_date=on,
            )
            results.extend(batch.results)
    return results


PROPERTY_SETTINGS = settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY_SETTINGS
@given(specs=st.lists(rule_specs(), max_size=6), extra=rule_specs())
def test_adding_a_prohibition_never_turns_deny_into_permit(
    database: Database, small_world: dict[str, int], specs: list[RuleSpec], extra: RuleSpec
) -> None:
    clear_rules(database)
    add_rules(database, small_world, specs)
    before = decide_all(database, small_world)
    add_rules(
        database,
        small_world,
        [RuleSpec(**{**extra.__dict__, "effect": "prohibit", "conditions": ()})],
    )
    after = decide_all(database, small_world)
    for old, new in zip(before, after, strict=True):
        if old.outcome == "deny":
            assert new.outcome == "deny", (old, new)


@PROPERTY_SETTINGS
@given(specs=st.lists(rule_specs(), min_size=1, max_size=6), seed=st.randoms())
def test_result_does_not_depend_on_rule_order(
    database: Database, small_world: dict[str, int], specs: list[RuleSpec], seed: object
) -> None:
    shuffled = list(specs)
    seed.shuffle(shuffled)  # type: ignore[attr-defined]
    outcomes = []
    for order in (specs, shuffled):
        clear_rules(database)
        created = add_rules(database, small_world, order)
        # Name each rule by what it says, not by the id its insertion order gave it.
        meaning = {rule_id: spec for rule_id, spec in zip(created, order, strict=True)}
        outcomes.append(
            [
                (
                    r.outcome,
                    r.licence_ids,
                    r.conditions,
                    sorted(map(repr, (meaning[i] for i in r.rule_ids))),
                )
                for r in decide_all(database, small_world)
            ]
        )
    assert outcomes[0] == outcomes[1]


@PROPERTY_SETTINGS
@given(specs=st.lists(rule_specs(), min_size=1, max_size=6), data=st.data())
def test_revocation_never_changes_a_stored_past_decision(
    database: Database, small_world: dict[str, int], specs: list[RuleSpec], data: st.DataObject
) -> None:
    clear_rules(database)
    created = add_rules(database, small_world, specs)
    today = dt.datetime.now(dt.UTC).date()
    stored = decide_all(database, small_world, on=today)
    revoked = data.draw(st.lists(st.sampled_from(created), min_size=1, unique=True))
    cutoff = today + dt.timedelta(days=data.draw(st.integers(1, 30)))
    from sostenuto.consent import revoke_rule

    with database.transaction() as session:
        for rule_id in revoked:
            revoke_rule(session, OPERATOR, rule_id, effective_from=cutoff)
    with database.reader() as session:
        assert [get_decision(session, OPERATOR, r.id) for r in stored] == stored
    # Asked again for a day before the revocation, the answers are the same.
    again = decide_all(database, small_world, on=today)
    assert [(r.outcome, r.reason) for r in again] == [(r.outcome, r.reason) for r in stored]


@PROPERTY_SETTINGS
@given(specs=st.lists(rule_specs(), max_size=8), on=st.sampled_from(DATES))
def test_vectorised_paths_match_the_reference(
    database: Database, small_world: dict[str, int], specs: list[RuleSpec], on: dt.date
) -> None:
    clear_rules(database)
    add_rules(database, small_world, specs)
    import numpy as np

    with database.reader() as session:
        snapshot = current_snapshot(session)
    recordings = np.array([small_world[f"r{n}"] for n in range(8)], dtype=np.int64)
    for licensee, use, territory in QUESTIONS:
        ctx = context(snapshot, small_world[licensee], use, territory, on.toordinal())
        for number in range(6):
            performer = small_world[f"p{number}"]
            assert (
                ctx.verdicts[int(ctx.performer_verdicts[performer])]
                == ctx.verdicts[ctx.performer_verdict(performer)]
            )
        many = ctx.decide_many(recordings).tolist()
        assert [ctx.bases[i] for i in many] == [
            ctx.bases[ctx.decide_recording(int(r))] for r in recordings
        ]


@PROPERTY_SETTINGS
@given(specs=st.lists(rule_specs(), max_size=8), on=st.sampled_from(DATES))
def test_cedar_agrees_with_the_engine(
    database: Database, small_world: dict[str, int], specs: list[RuleSpec], on: dt.date
) -> None:
    from sostenuto.consent import disagreements, evaluate_with_cedar

    clear_rules(database)
    add_rules(database, small_world, specs)
    recordings = [small_world[f"r{n}"] for n in range(8)]
    with database.reader() as session:
        snapshot = current_snapshot(session)
    for licensee, use, territory in QUESTIONS:
        with database.transaction() as session:
            batch = decide_batch(
                session,
                OPERATOR,
                licensee_id=small_world[licensee],
                recording_ids=recordings,
                use=use,
                territory=territory,
                on_date=on,
            )
        cedar = evaluate_with_cedar(
            snapshot,
            licensee_id=small_world[licensee],
            use=use,
            territory=territory,
            day=on.toordinal(),
            recordings=recordings,
        )
        results = batch.results
        assert (
            disagreements(
                cedar,
                [r.outcome for r in results],
                [r.rule_ids for r in results],
                [r.licence_ids for r in results],
            )
            == []
        )

"""The same policy set in Cedar, evaluated by ``cedarpy``: the peer the engine is checked
and timed against.

Cedar has forbid-overrides-permit and default deny, like Sostenuto, but no quantifiers: it
cannot say "every contributor is covered" or "some mandate is valid here". So each recording
becomes one Cedar request per contribution (a ``Contribution`` entity inside its
``Recording`` and its ``Performer``), and the recording is permitted when every request is
allowed. Membership is data: for the licensee, use, territory and day asked, each performer
sits inside the CMOs holding a mandate valid then (or inside ``NonMember::"all"``), and each
CMO inside ``Represented::"<cmo>"`` of itself and of every CMO representing it there.

Rules that say the same thing (effect, licensee, uses, territories, period) form one
``RuleGroup``: one policy each, with the rules' recordings, performers and CMOs as members of
the group, the way Cedar is meant to hold many grants (a policy per rule made Cedar evaluate
thousands of policies per request). Prohibitions use the action hierarchy (a narrower use is
``in`` its broader one); permissions, licences and extended licences name their uses
exactly. Territory and day (a day number) are request context.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from sostenuto.consent._snapshot import FOREVER, IntArray, RuleRow, Snapshot
from sostenuto.errors import DependencyMissing
from sostenuto.vocabulary import USES, WORLDWIDE, use_ancestry

_SCOPE_TYPE = {"recording": "Recording", "performer": "Performer", "cmo": "Cmo"}


def _cedarpy() -> Any:
    try:
        import cedarpy
    except ImportError as error:  # pragma: no cover - cedarpy is in the dev extra
        raise DependencyMissing(
            "cedarpy is needed for Cedar evaluation: pip install cedarpy"
        ) from error
    return cedarpy


def _uid(kind: str, value: object) -> str:
    return f'{kind}::"{value}"'


def _ref(kind: str, value: object) -> dict[str, str]:
    return {"type": kind, "id": str(value)}


def _territory(territories: Iterable[str]) -> str:
    listed = sorted(territories)
    if WORLDWIDE in listed:
        return "true"
    return f"{orjson.dumps(listed).decode()}.contains(context.territory)"


def _period(start: int, end: int, revoked: int = FOREVER) -> str:
    parts = [f"context.day >= {start}"]
    if end != FOREVER:
        parts.append(f"context.day <= {end}")
    if revoked != FOREVER:
        parts.append(f"context.day < {revoked}")
    return " && ".join(parts)


def _actions(uses: Iterable[str]) -> str:
    return "[" + ", ".join(_uid("Action", use) for use in sorted(uses)) + "]"


def _shape(rule: RuleRow) -> tuple[Any, ...]:
    return (
        rule.effect,
        rule.licensee_id,
        tuple(sorted(rule.uses)),
        tuple(sorted(rule.territories)),
        rule.start,
        rule.end,
        rule.revoked,
    )


@dataclass(frozen=True)
class CedarPolicySet:
    """The policy text and, per rule group, the rules it stands for."""

    text: str
    group_of_rule: dict[int, int]
    rules_of_group: dict[int, list[RuleRow]]


def cedar_policies(snapshot: Snapshot) -> CedarPolicySet:
    """Every rule (grouped), active licence and extended licence as Cedar policies."""
    shapes: dict[tuple[Any, ...], int] = {}
    group_of_rule: dict[int, int] = {}
    rules_of_group: dict[int, list[RuleRow]] = {}
    for rule in snapshot.rules:
        group = shapes.setdefault(_shape(rule), len(shapes))
        group_of_rule[rule.id] = group
        rules_of_group.setdefault(group, []).append(rule)
    policies: list[str] = []
    for group, rules in rules_of_group.items():
        rule = rules[0]
        principal = (
            f"principal == {_uid('Licensee', rule.licensee_id)}"
            if rule.licensee_id is not None
            else "principal"
        )
        resource = f"resource in {_uid('RuleGroup', group)}"
        when = f"{_territory(rule.territories)} && {_period(rule.start, rule.end, rule.revoked)}"
        if rule.effect == "prohibit":
            policies.append(
                f'@id("group-{group}")\nforbid ({principal}, action in {_actions(rule.uses)},'
                f" {resource})\nwhen {{ {when} }};"
            )
        else:
            policies.append(
                f'@id("group-{group}")\npermit ({principal}, action, {resource})\n'
                f"when {{ {_actions(rule.uses)}.contains(action) && {when} }};"
            )
    for licence in snapshot.licences:
        if licence.model_id is not None:
            continue  # the Cedar peer is asked about no model in particular
        principal = f"principal == {_uid('Licensee', licence.licensee_id)}"
        when = (
            f"{_territory(licence.territories)}"
            f" && {_period(licence.start, licence.end, licence.suspended)}"
        )
        policies.append(
            f'@id("licence-{licence.id}")\npermit ({principal}, action,'
            f" resource in {_uid('Represented', licence.cmo_id)})\n"
            f"when {{ {_actions(licence.uses)}.contains(action) && {when} }};"
        )
        country = snapshot.cmo_country.get(licence.cmo_id)
        jurisdiction = snapshot.jurisdictions.get(country or "")
        if not (licence.extended and jurisdiction and jurisdiction.extended_licensing):
            continue
        uses = licence.uses & jurisdiction.ecl_uses
        if uses:
            policies.append(
                f'@id("ecl-{licence.id}")\npermit ({principal}, action,'
                f" resource in {_uid('NonMember', 'all')})\n"
                f'when {{ {_actions(uses)}.contains(action) && context.territory == "{country}"'
                f" && {when} }};"
            )
    return CedarPolicySet("\n\n".join(policies), group_of_rule, rules_of_group)


def _covers(territories: frozenset[str], territory: str) -> bool:
    return WORLDWIDE in territories or territory in territories


@dataclass
class _Requests:
    entities: list[dict[str, Any]]
    # One entry per request: recording position, resource uid, and the scopes it lies in.
    pairs: list[tuple[int, str, frozenset[tuple[str, int]]]]


def cedar_entities(
    snapshot: Snapshot,
    policy_set: CedarPolicySet,
    *,
    use: str,
    territory: str,
    day: int,
    recordings: Iterable[int],
    licensee_id: int,
) -> _Requests:
    """The entities for these recordings and terms, and one request per contribution."""
    ancestry = use_ancestry(use)
    groups: dict[tuple[str, int], list[dict[str, str]]] = {}
    for rule in snapshot.rules:
        groups.setdefault((rule.scope, rule.scope_id), []).append(
            _ref("RuleGroup", policy_set.group_of_rule[rule.id])
        )
    entities: list[dict[str, Any]] = [
        {"uid": _ref("Licensee", licensee_id), "attrs": {}, "parents": []},
        {"uid": _ref("NonMember", "all"), "attrs": {}, "parents": []},
    ]
    entities += [
        {"uid": _ref("RuleGroup", group), "attrs": {}, "parents": []}
        for group in policy_set.rules_of_group
    ]
    for code, spec in USES.items():
        parents = [_ref("Action", spec.parent)] if spec.parent else []
        entities.append({"uid": _ref("Action", code), "attrs": {}, "parents": parents})
    representing: dict[int, set[int]] = {cmo: {cmo} for cmo in snapshot.cmo_country}
    for agreement in snapshot.agreements:
        if (
            agreement.start <= day <= agreement.end
            and _covers(agreement.territories, territory)
            and any(code in agreement.uses for code in ancestry)
        ):
            representing.setdefault(agreement.partner_cmo_id, set()).add(agreement.cmo_id)
    for cmo, representatives in representing.items():
        parents = [_ref("Represented", c) for c in sorted(representatives)]
        entities.append(
            {
                "uid": _ref("Cmo", cmo),
                "attrs": {},
                "parents": parents + groups.get(("cmo", cmo), []),
            }
        )
    members: dict[int, list[int]] = {}
    pairs: list[tuple[int, str, frozenset[tuple[str, int]]]] = []
    for position, recording in enumerate(recordings):
        contributors = snapshot.contributors(recording)
        entities.append(
            {
                "uid": _ref("Recording", recording),
                "attrs": {},
                "parents": groups.get(("recording", recording), []),
            }
        )
        if not contributors:
            pairs.append(
                (position, _uid("Recording", recording), frozenset({("recording", recording)}))
            )
        for performer in contributors:
            if performer not in members:
                members[performer] = _member_cmos(snapshot, performer, ancestry, territory, day)
            key = f"{recording}/{performer}"
            entities.append(
                {
                    "uid": _ref("Contribution", key),
                    "attrs": {},
                    "parents": [_ref("Recording", recording), _ref("Performer", performer)],
                }
            )
            scopes = {("recording", recording), ("performer", performer)}
            scopes.update(("cmo", cmo) for cmo in members[performer])
            pairs.append((position, _uid("Contribution", key), frozenset(scopes)))
    for performer, cmos in sorted(members.items()):
        parents = [_ref("Cmo", c) for c in cmos] or [_ref("NonMember", "all")]
        entities.append(
            {
                "uid": _ref("Performer", performer),
                "attrs": {},
                "parents": parents + groups.get(("performer", performer), []),
            }
        )
    return _Requests(entities, pairs)


def _member_cmos(
    snapshot: Snapshot, performer: int, ancestry: tuple[str, ...], territory: str, day: int
) -> list[int]:
    cmos = set()
    for row in snapshot.mandate_rows(performer):
        territories, uses = snapshot.terms[int(snapshot.m_term[row])]
        if (
            int(snapshot.m_start[row]) <= day <= int(snapshot.m_end[row])
            and _covers(territories, territory)
            and any(code in uses for code in ancestry)
        ):
            cmos.add(int(snapshot.m_cmo[row]))
    return sorted(cmos)


@dataclass
class CedarBatch:
    """Cedar's answers for a batch: per recording, the outcome and the determining policies
    (rule groups resolved to the rules of the group whose scope the request lies in)."""

    outcomes: list[str]
    forbid_rules: list[set[int]]
    permit_policies: list[set[str]]
    seconds: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    policies: int = 0


def evaluate_with_cedar(
    snapshot: Snapshot,
    *,
    licensee_id: int,
    use: str,
    territory: str,
    day: int,
    recordings: IntArray | list[int],
    policy_set: CedarPolicySet | None = None,
) -> CedarBatch:
    """Decide ``recordings`` with cedarpy (policies parsed once per call)."""
    cedarpy = _cedarpy()
    ids = [int(r) for r in np.asarray(recordings).tolist()]
    started = time.perf_counter()
    policy_set = policy_set or cedar_policies(snapshot)
    parsed = cedarpy.PolicySet.from_str(policy_set.text)
    parsed_policies = time.perf_counter()
    requests_data = cedar_entities(
        snapshot,
        policy_set,
        use=use,
        territory=territory,
        day=day,
        recordings=ids,
        licensee_id=licensee_id,
    )
    entities = cedarpy.Entities.from_json_str(orjson.dumps(requests_data.entities).decode())
    built = time.perf_counter()
    context = orjson.dumps({"territory": territory, "day": day}).decode()
    principal, action = _uid("Licensee", licensee_id), _uid("Action", use)
    requests = [
        {"principal": principal, "action": action, "resource": resource, "context": context}
        for _, resource, _ in requests_data.pairs
    ]
    answers = cedarpy.is_authorized_batch(requests, parsed, entities)
    authorised = time.perf_counter()
    allowed = [True] * len(ids)
    forbid_rules: list[set[int]] = [set() for _ in ids]
    permits: list[set[str]] = [set() for _ in ids]
    for (position, _, scopes), answer in zip(requests_data.pairs, answers, strict=True):
        if answer.diagnostics.errors:
            raise RuntimeError(f"Cedar evaluation error: {answer.diagnostics.errors}")
        names = answer.diagnostics.id_annotations_by_reason
        determining: set[str] = set()
        for reason in answer.diagnostics.reasons:
            name = names.get(reason, reason)
            if name.startswith("group-"):
                rules = policy_set.rules_of_group[int(name.removeprefix("group-"))]
                determining.update(
                    f"rule-{rule.id}" for rule in rules if (rule.scope, rule.scope_id) in scopes
                )
            else:
                determining.add(name)
        if answer.allowed:
            permits[position] |= determining
        else:
            allowed[position] = False
            forbid_rules[position] |= {
                int(name.removeprefix("rule-")) for name in determining if name.startswith("rule-")
            }
    return CedarBatch(
        outcomes=["permit" if ok else "deny" for ok in allowed],
        forbid_rules=forbid_rules,
        permit_policies=permits,
        seconds={
            "parse_policies": parsed_policies - started,
            "entities": built - parsed_policies,
            "authorise": authorised - built,
        },
        requests=len(requests),
        policies=policy_set.text.count("@id("),
    )


def disagreements(
    cedar: CedarBatch, outcomes: list[str], rule_ids: list[list[int]], licence_ids: list[list[int]]
) -> list[dict[str, Any]]:
    """Where the engine and Cedar differ: outcome, the prohibitions named for a deny, or (for
    a permit) a rule or licence the engine names that Cedar did not find satisfied."""
    found = []
    for index, outcome in enumerate(outcomes):
        problem = None
        if outcome != cedar.outcomes[index]:
            problem = "outcome"
        elif outcome == "deny" and set(rule_ids[index]) != cedar.forbid_rules[index]:
            problem = "prohibitions"
        elif outcome == "permit":
            satisfied = cedar.permit_policies[index]
            rules_found = all(f"rule-{rule}" in satisfied for rule in rule_ids[index])
            licences_found = all(
                f"licence-{lic}" in satisfied or f"ecl-{lic}" in satisfied
                for lic in licence_ids[index]
            )
            if not (rules_found and licences_found):
                problem = "permissions"
        if problem:
            found.append(
                {
                    "index": index,
                    "problem": problem,
                    "engine": outcome,
                    "cedar": cedar.outcomes[index],
                    "engine_rules": rule_ids[index],
                    "cedar_forbids": sorted(cedar.forbid_rules[index]),
                    "cedar_permits": sorted(cedar.permit_policies[index]),
                }
            )
    return found

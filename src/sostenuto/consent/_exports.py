"""Public, machine-readable exports of a CMO's or a performer's reservations.

Three forms of the same rules: ODRL 2.2 JSON-LD (every rule, with its target, territory and
period), a W3C TDMRep policy (the text-and-data-mining reservation and where to ask), and
AIPREF usage-preference strings (``train-ai=n, search=n``) for HTTP ``Content-Usage`` headers
and robots.txt. Only rules that hold for any licensee are exported: a rule for one licensee
belongs to that licensee's deal, not to the public record.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sostenuto.consent._rules import current_cmos
from sostenuto.errors import InvalidInput, NotFound
from sostenuto.storage.models.consent import ConsentRule
from sostenuto.storage.models.registry import Cmo, Contribution, Mandate, Performer, Recording
from sostenuto.vocabulary import USES, WORLDWIDE

ExportFormat = Literal["odrl", "tdmrep", "aipref"]
FORMATS: tuple[ExportFormat, ...] = ("odrl", "tdmrep", "aipref")

BASE = "https://sostenuto.dev"
PROFILE = f"{BASE}/odrl/profile/v1"
ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
TDMREP_PROFILE = "http://www.w3.org/ns/tdmrep"
# Uses that involve mining the recording itself, so a TDM reservation speaks of them.
TDM_USES = frozenset({"train-ai", "train-genai", "fine-tune", "voice-clone", "search-index"})
DUTIES = {"remuneration": "compensate", "attribution": "attribute", "labelling": "sos:label"}


@dataclass(frozen=True)
class _Target:
    kind: str  # recording, performer, cmo
    id: int
    uid: str  # urn:isrc:... or a collection IRI
    location: str  # path pattern for TDMRep


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _rules_in_force(session: Session, scope: str, ids: list[int], on: dt.date) -> list[ConsentRule]:
    if not ids:
        return []
    query = select(ConsentRule).where(
        ConsentRule.scope_kind == scope,
        ConsentRule.licensee_id.is_(None),
        or_(ConsentRule.valid_to.is_(None), ConsentRule.valid_to >= on),
        or_(ConsentRule.revoked_from.is_(None), ConsentRule.revoked_from > on),
    )
    found: list[ConsentRule] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.extend(session.scalars(query.where(ConsentRule.scope_id.in_(chunk))))
    return found


def _collect(
    session: Session, cmo_id: int | None, performer_id: int | None, on: dt.date
) -> tuple[str, list[tuple[_Target, ConsentRule]]]:
    """The exporting party's IRI and each rule with its target."""
    if (cmo_id is None) == (performer_id is None):
        raise InvalidInput("export the reservations of exactly one CMO or one performer")
    pairs: list[tuple[_Target, ConsentRule]] = []
    recordings: list[int]
    if cmo_id is not None:
        if session.get(Cmo, cmo_id) is None:
            raise NotFound(f"no CMO with id {cmo_id}")
        party = f"{BASE}/id/cmo/{cmo_id}"
        members = sorted(
            set(
                session.scalars(
                    select(Mandate.performer_id).where(
                        Mandate.cmo_id == cmo_id,
                        Mandate.valid_from <= on,
                        or_(Mandate.valid_to.is_(None), Mandate.valid_to >= on),
                    )
                )
            )
        )
        cmo_target = _Target(
            "cmo", cmo_id, f"{BASE}/id/cmo/{cmo_id}/members", f"/cmos/{cmo_id}/members/*"
        )
        pairs += [(cmo_target, rule) for rule in _rules_in_force(session, "cmo", [cmo_id], on)]
        performers = members
        recordings = list(
            session.scalars(select(Recording.id).where(Recording.registered_by_cmo_id == cmo_id))
        )
    else:
        assert performer_id is not None
        if session.get(Performer, performer_id) is None:
            raise NotFound(f"no performer with id {performer_id}")
        party = f"{BASE}/id/performer/{performer_id}"
        performers = [performer_id]
        for cmo in sorted(current_cmos(session, performer_id, on)):
            # The CMO's rules for all its members reach this performer too.
            target = _Target(
                "performer",
                performer_id,
                f"{BASE}/id/performer/{performer_id}/recordings",
                f"/performers/{performer_id}/recordings/*",
            )
            pairs += [(target, rule) for rule in _rules_in_force(session, "cmo", [cmo], on)]
        recordings = list(
            session.scalars(
                select(Contribution.recording_id).where(Contribution.performer_id == performer_id)
            )
        )
    for rule in _rules_in_force(session, "performer", performers, on):
        target = _Target(
            "performer",
            rule.scope_id,
            f"{BASE}/id/performer/{rule.scope_id}/recordings",
            f"/performers/{rule.scope_id}/recordings/*",
        )
        pairs.append((target, rule))
    recording_rules = _rules_in_force(session, "recording", recordings, on)
    if recording_rules:
        isrcs = dict(
            session.execute(
                select(Recording.id, Recording.isrc).where(
                    Recording.id.in_({rule.scope_id for rule in recording_rules})
                )
            ).all()
        )
        for rule in recording_rules:
            isrc = isrcs[rule.scope_id]
            pairs.append(
                (
                    _Target("recording", rule.scope_id, f"urn:isrc:{isrc}", f"/recordings/{isrc}"),
                    rule,
                )
            )
    pairs.sort(key=lambda pair: pair[1].id)
    return party, pairs


def _constraints(rule: ConsentRule) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    territories = sorted(rule.territories)
    if WORLDWIDE not in territories:
        found.append({"leftOperand": "spatial", "operator": "isAnyOf", "rightOperand": territories})

    def date(operator: str, value: dt.date) -> dict[str, Any]:
        return {
            "leftOperand": "dateTime",
            "operator": operator,
            "rightOperand": {"@value": value.isoformat(), "@type": "xsd:date"},
        }

    found.append(date("gteq", rule.valid_from))
    if rule.valid_to is not None:
        found.append(date("lteq", rule.valid_to))
    if rule.revoked_from is not None:
        found.append(date("lt", rule.revoked_from))
    return found


def _odrl(party: str, pairs: list[tuple[_Target, ConsentRule]]) -> dict[str, Any]:
    permissions: list[dict[str, Any]] = []
    prohibitions: list[dict[str, Any]] = []
    for target, rule in pairs:
        entry: dict[str, Any] = {
            "uid": f"{BASE}/id/consent-rule/{rule.id}",
            "target": target.uid
            if target.kind == "recording"
            else {"@type": "AssetCollection", "uid": target.uid},
            "assigner": party,
            "action": [f"sos:{use}" for use in sorted(rule.uses)],
            "constraint": _constraints(rule),
        }
        if rule.effect == "permit":
            duties = [{"action": DUTIES[code]} for code in rule.conditions if code in DUTIES]
            if duties:
                entry["duty"] = duties
            permissions.append(entry)
        else:
            prohibitions.append(entry)
    policy: dict[str, Any] = {
        "@context": [
            ODRL_CONTEXT,
            {"sos": f"{PROFILE}#", "xsd": "http://www.w3.org/2001/XMLSchema#"},
        ],
        "@type": "Set",
        "uid": f"{party}/policy",
        "profile": PROFILE,
        "assigner": {"@type": "Party", "uid": party},
    }
    if permissions:
        policy["permission"] = permissions
    if prohibitions:
        policy["prohibition"] = prohibitions
    return policy


def _tdmrep(party: str, pairs: list[tuple[_Target, ConsentRule]]) -> dict[str, Any]:
    policy_uid = f"{party}/tdm-policy"
    reserved: dict[str, _Target] = {}
    for target, rule in pairs:
        if rule.effect == "prohibit" and TDM_USES & set(rule.uses):
            reserved.setdefault(target.location, target)
    entries = [
        {"location": location, "tdm-reservation": 1, "tdm-policy": policy_uid}
        for location in sorted(reserved)
    ]
    policy = {
        "@context": [ODRL_CONTEXT, {"tdm": f"{TDMREP_PROFILE}#"}],
        "@type": "Offer",
        "profile": TDMREP_PROFILE,
        "uid": policy_uid,
        "assigner": {"uid": party},
        "permission": [
            {
                "target": target.uid,
                "action": "tdm:mine",
                "duty": [{"action": "obtainConsent", "consentingParty": party}],
            }
            for target in (reserved[location] for location in sorted(reserved))
        ],
    }
    return {"tdmrep": entries, "policy": policy}


def _aipref_key(use: str) -> str:
    """The AIPREF category a use is, or a ``sos-`` extension key for finer music uses."""
    category = USES[use].aipref
    if category is not None and (
        category == use or (use == "search-index" and category == "search")
    ):
        return category
    return f"sos-{use}"


def _aipref(party: str, pairs: list[tuple[_Target, ConsentRule]]) -> dict[str, Any]:
    grouped: dict[tuple[str, tuple[str, ...]], dict[str, str]] = defaultdict(dict)
    for target, rule in pairs:
        key = (target.uid, tuple(sorted(rule.territories)))
        prefs = grouped[key]
        for use in rule.uses:
            name = _aipref_key(use)
            if rule.effect == "prohibit":
                prefs[name] = "n"  # a reservation always wins over a permission
            else:
                prefs.setdefault(name, "y")
    order = {"train-ai": 0, "train-genai": 1, "search": 2}
    preferences = []
    for (target_uid, territories), prefs in sorted(grouped.items()):
        names = sorted(prefs, key=lambda name: (order.get(name, 3), name))
        preferences.append(
            {
                "target": target_uid,
                "territories": list(territories),
                "content_usage": ", ".join(f"{name}={prefs[name]}" for name in names),
            }
        )
    return {
        "party": party,
        "vocabulary": "draft-ietf-aipref-vocab",
        "attachment": "Content-Usage header field or robots.txt rule (draft-ietf-aipref-attach)",
        "preferences": preferences,
    }


def export_reservations(
    session: Session,
    *,
    format: str,
    cmo_id: int | None = None,
    performer_id: int | None = None,
    on_date: dt.date | None = None,
) -> dict[str, Any]:
    """A CMO's or a performer's reservations in force on ``on_date`` (today), as ``format``."""
    if format not in FORMATS:
        raise InvalidInput(f"unknown export format {format!r}; formats are: {', '.join(FORMATS)}")
    party, pairs = _collect(session, cmo_id, performer_id, on_date or _today())
    if format == "odrl":
        return _odrl(party, pairs)
    if format == "tdmrep":
        return _tdmrep(party, pairs)
    return _aipref(party, pairs)

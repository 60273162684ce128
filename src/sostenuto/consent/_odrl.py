"""ODRL 2.2 policies of reservations, and the ``sos:`` profile they are written in.

Conformance points (ODRL 2.2 Information Model, W3C Recommendation):
- ``conflict: prohibit`` (2.7.1): Sostenuto's semantics are "a prohibition wins"; without the
  property a policy whose permissions and prohibitions overlap would be void (``invalid``).
- ``profile`` (2.2.3): every non-core action is defined in the profile document served at
  the profile's IRI, each with ``odrl:includedIn`` (2.5) so a processor knows what it narrows.
- ``spatial`` right operands are IRIs (ODRL Vocabulary, ``spatial``): ``urn:iso:3166:<alpha-3>``
  as the TDMRep techniques use, never a bare code.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pycountry

from sostenuto.consent._export_scope import BASE, Scope
from sostenuto.storage.models.consent import ConsentRule
from sostenuto.vocabulary import USES, WORLDWIDE

PROFILE = f"{BASE}/odrl/profile/v1"
PROFILE_PATH = "/odrl/profile/v1"
SOS = f"{PROFILE}#"
ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
ODRL = "http://www.w3.org/ns/odrl/2/"
DUTIES = {"remuneration": "compensate", "attribution": "attribute", "labelling": "sos:label"}


def territory_iri(code: str) -> str:
    """``ES`` → ``urn:iso:3166:ESP`` (the TDMRep techniques' form of an ISO 3166 IRI)."""
    country = pycountry.countries.get(alpha_2=code)
    alpha3 = country.alpha_3 if country is not None else code
    return f"urn:iso:3166:{alpha3}"


def _constraints(rule: ConsentRule) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    territories = sorted(rule.territories)
    if WORLDWIDE not in territories:
        found.append(
            {
                "leftOperand": "spatial",
                "operator": "isAnyOf",
                "rightOperand": [{"@id": territory_iri(code)} for code in territories],
            }
        )

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


def odrl_policy(scope: Scope) -> dict[str, Any]:
    """Every public rule of ``scope`` as one ODRL ``Set``."""
    permissions: list[dict[str, Any]] = []
    prohibitions: list[dict[str, Any]] = []
    for target, rule in scope.pairs:
        entry: dict[str, Any] = {
            "uid": f"{BASE}/id/consent-rule/{rule.id}",
            "target": target.uid
            if target.kind == "recording"
            else {"@type": "odrl:AssetCollection", "uid": target.uid},
            "assigner": scope.party,
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
        "@context": [ODRL_CONTEXT, {"sos": SOS}],
        "@type": "Set",
        "uid": f"{scope.party}/policy",
        "profile": PROFILE,
        "conflict": "prohibit",
        "assigner": {"@type": "Party", "uid": scope.party},
    }
    if permissions:
        policy["permission"] = permissions
    if prohibitions:
        policy["prohibition"] = prohibitions
    return policy


def profile_document() -> dict[str, Any]:
    """The ``sos:`` profile as JSON-LD: each use an ``odrl:Action`` with ``includedIn``.

    A use is included in its parent use (``voice-clone`` in ``train-genai`` in ``train-ai``);
    a use without a parent, and the ``sos:label`` duty, are included in ``odrl:use``.
    """
    actions: list[dict[str, Any]] = []
    for use in USES.values():
        parent = f"{SOS}{use.parent}" if use.parent else f"{ODRL}use"
        actions.append(
            {
                "@id": f"{SOS}{use.code}",
                "@type": [f"{ODRL}Action", "http://www.w3.org/2004/02/skos/core#Concept"],
                "http://www.w3.org/2000/01/rdf-schema#label": {
                    "@value": use.title,
                    "@language": "en",
                },
                "http://www.w3.org/2004/02/skos/core#definition": {
                    "@value": use.description,
                    "@language": "en",
                },
                f"{ODRL}includedIn": {"@id": parent},
                "http://www.w3.org/2000/01/rdf-schema#isDefinedBy": {"@id": PROFILE},
            }
        )
    actions.append(
        {
            "@id": f"{SOS}label",
            "@type": [f"{ODRL}Action", "http://www.w3.org/2004/02/skos/core#Concept"],
            "http://www.w3.org/2000/01/rdf-schema#label": {"@value": "Label", "@language": "en"},
            "http://www.w3.org/2004/02/skos/core#definition": {
                "@value": "Mark every output as AI-generated (metadata, C2PA manifest, watermark).",
                "@language": "en",
            },
            f"{ODRL}includedIn": {"@id": f"{ODRL}use"},
            "http://www.w3.org/2000/01/rdf-schema#isDefinedBy": {"@id": PROFILE},
        }
    )
    profile = {
        "@id": PROFILE,
        "@type": ["http://www.w3.org/2002/07/owl#Ontology", "http://www.w3.org/ns/dx/prof/Profile"],
        "http://www.w3.org/2000/01/rdf-schema#label": {
            "@value": "Sostenuto ODRL profile for AI uses of recorded performances",
            "@language": "en",
        },
        "http://www.w3.org/ns/dx/prof/isProfileOf": {"@id": ODRL},
        "http://www.w3.org/2002/07/owl#versionInfo": "1",
    }
    return {"@graph": [profile, *actions]}

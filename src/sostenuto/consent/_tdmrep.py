"""TDMRep (W3C TDM Reservation Protocol, Final Community Group Report, 10 May 2024).

- ``/.well-known/tdmrep.json`` ("TDM File on the Origin Server"): a JSON array of
  ``{location, tdm-reservation, tdm-policy}``, one per recording page with a reservation.
- The TDM policy ("Expressing a TDM Policy"): an ODRL ``Offer`` whose ``@context`` is exactly
  the ODRL context plus ``http://www.w3.org/ns/tdmrep.jsonld``, ``profile``
  ``http://www.w3.org/ns/tdmrep``, one assigner described with vCard properties, and one
  ``tdm:mine`` permission per reserved page with the duties ``obtainConsent`` and, where the
  performers' terms ask for payment, ``compensate``.

TDMRep has no territories and no finer uses than mining: a reservation anywhere reserves the
page, and the ODRL policy (``vcard:hasURL``) holds the exact terms.
"""

from __future__ import annotations

from typing import Any

from sostenuto.consent._export_scope import Page, Scope
from sostenuto.storage.models.consent import ConsentRule

TDMREP_PROFILE = "http://www.w3.org/ns/tdmrep"
TDMREP_CONTEXT = "http://www.w3.org/ns/tdmrep.jsonld"
ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
# Uses that mine the recording itself, so a TDM reservation speaks of them.
TDM_USES = frozenset({"train-ai", "train-genai", "fine-tune", "voice-clone", "search-index"})


def page_duties(rules: tuple[ConsentRule, ...]) -> list[str] | None:
    """The TDM duties of a page, or None when nothing about mining is reserved.

    A prohibition of a mining use reserves the page: whoever wants to mine must ask
    (``obtainConsent``). A permission with conditions reserves it too, because TDMRep cannot
    state attribution or labelling: remuneration becomes ``compensate``, any other
    condition ``obtainConsent`` (ask for the terms). A permission without conditions
    reserves nothing.
    """
    duties: set[str] = set()
    for rule in rules:
        if not TDM_USES & set(rule.uses):
            continue
        if rule.effect == "prohibit":
            duties.add("obtainConsent")
            continue
        conditions = set(rule.conditions or [])
        if "remuneration" in conditions:
            duties.add("compensate")
        if conditions - {"remuneration"}:
            duties.add("obtainConsent")
    if not duties:
        return None
    return sorted(duties, key=["obtainConsent", "compensate"].index)


def policy_url(scope: Scope, base_url: str) -> str:
    return f"{base_url}/api/v1/standards/{scope.party_kind}s/{scope.party_id}/tdm-policy"


def odrl_url(scope: Scope, base_url: str) -> str:
    return f"{base_url}/api/v1/consent/exports/{scope.party_kind}/{scope.party_id}?format=odrl"


def reserved_pages(scope: Scope) -> list[tuple[Page, list[str]]]:
    found: list[tuple[Page, list[str]]] = []
    for page in scope.pages:
        duties = page_duties(page.rules)
        if duties is not None:
            found.append((page, duties))
    return found


def well_known(scope: Scope, base_url: str) -> list[dict[str, Any]]:
    """The party's entries of ``/.well-known/tdmrep.json``."""
    url = policy_url(scope, base_url)
    return [
        {"location": page.location, "tdm-reservation": 1, "tdm-policy": url}
        for page, _ in reserved_pages(scope)
    ]


def tdm_policy(scope: Scope, base_url: str) -> dict[str, Any]:
    """The TDM policy the entries point to."""
    assigner: dict[str, Any] = {
        "uid": scope.party,
        "vcard:fn": scope.name,
        "vcard:hasURL": odrl_url(scope, base_url),
    }
    if scope.email:
        assigner["vcard:hasEmail"] = f"mailto:{scope.email}"
    return {
        "@context": [ODRL_CONTEXT, TDMREP_CONTEXT],
        "@type": "Offer",
        "profile": TDMREP_PROFILE,
        "uid": policy_url(scope, base_url),
        "assigner": assigner,
        "permission": [
            {
                "target": page.uid,
                "action": "tdm:mine",
                "duty": [{"action": duty} for duty in duties],
            }
            for page, duties in reserved_pages(scope)
        ],
    }

"""Consent in plain language: sentences for people about rules and requests.

Wording only; what a rule means is the decision engine's (docs/consent.md).
"""

from __future__ import annotations

import datetime as dt

import pycountry

from sostenuto.consent import RequestView, RuleView
from sostenuto.vocabulary import USES


def use_title(code: str) -> str:
    use = USES.get(code)
    return use.title.lower() if use else code


def uses_text(codes: list[str]) -> str:
    titles = [use_title(code) for code in codes]
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]


def territories_text(codes: list[str]) -> str:
    if not codes or "WW" in codes:
        return "everywhere"
    names = []
    for code in codes:
        country = pycountry.countries.get(alpha_2=code)
        names.append(country.name if country else code)
    return "in " + ", ".join(names)


def whom(licensee_id: int | None) -> str:
    return "any AI company" if licensee_id is None else f"AI company (licensee) {licensee_id}"


def rule_sentence(rule: RuleView, today: dt.date | None = None) -> str:
    """E.g. "Voice cloning is refused to any AI company everywhere, since 2026-01-05."."""
    today = today or dt.date.today()
    verb = "refused" if rule.effect == "prohibit" else "permitted"
    text = (
        f"{uses_text(rule.uses).capitalize()} is {verb} to {whom(rule.licensee_id)}"
        f" {territories_text(rule.territories)}, from {rule.valid_from.isoformat()}"
    )
    if rule.revoked_from is not None:
        ended = "ended" if rule.revoked_from <= today else "ends"
        text += f"; this {ended} on {rule.revoked_from.isoformat()}"
    elif rule.valid_to is not None:
        text += f" until {rule.valid_to.isoformat()}"
    if rule.effect == "prohibit" and any(USES[c].parent is None for c in rule.uses if c in USES):
        text += " (a refusal of a broad use also refuses its narrower uses)"
    return text + "."


def in_force(rule: RuleView, today: dt.date | None = None) -> bool:
    today = today or dt.date.today()
    started = rule.valid_from <= today
    not_ended = rule.valid_to is None or today <= rule.valid_to
    return started and not_ended and (rule.revoked_from is None or today < rule.revoked_from)


def request_sentence(request: RequestView) -> str:
    """What the performer asked, e.g. "Refuse voice cloning to any AI company everywhere"."""
    if request.action == "revoke":
        return f"Lift rule {request.rule_id} ({uses_text(request.uses)})"
    verb = "Refuse" if request.action == "prohibit" else "Permit"
    return (
        f"{verb} {uses_text(request.uses)} to {whom(request.licensee_id)}"
        f" {territories_text(request.territories)}"
    )


def consequence(request: RequestView, cmo_name: str) -> str:
    """What applying a request does, said before the CMO's admin confirms it."""
    subject = f"performer {request.performer_id}"
    if request.action == "revoke":
        return (
            f"Applying lifts rule {request.rule_id} about {subject} from today: the"
            f" {uses_text(request.uses)} it decided is then decided by {cmo_name}'s licences and"
            " the other rules in force. The change is recorded in the audit trail under your"
            " name and declared in the public transparency log."
        )
    if request.action == "prohibit":
        effect = (
            f"every consent decision asking for {uses_text(request.uses)} of a recording or the"
            f" voice of {subject} will be denied for {whom(request.licensee_id)}"
            f" {territories_text(request.territories)}, whatever licence {cmo_name} has granted"
        )
    else:
        effect = (
            f"{whom(request.licensee_id).capitalize()} is covered for {uses_text(request.uses)}"
            f" of {subject}'s contributions {territories_text(request.territories)}, unless a"
            " refusal in force says otherwise"
        )
    public = (
        " It is declared in the public transparency log."
        if request.licensee_id is None
        else " It names one licensee, so it is not declared in the public log."
    )
    return (
        f"Applying makes this {cmo_name}'s act, from today (never retroactively): {effect}."
        f" The change is recorded in the audit trail under your name.{public}"
        f" It must fall within the mandate {subject} gave {cmo_name}; otherwise it is refused"
        " and the request stays pending."
    )

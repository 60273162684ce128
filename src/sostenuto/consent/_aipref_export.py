"""Reservations as AIPREF statements: per rule target, per recording page, and robots.txt.

Mapping (docs/standards.md has the table): a prohibition of ``train-ai``, ``train-genai``,
``fine-tune`` or ``voice-clone`` is ``train-ai=n`` (the category that contains it, broader
than a refusal of fine-tuning alone: the export says so); of ``search-index``, ``search=n``.
A permission is ``y`` only when it covers the whole category and carries no duty: a
permission with remuneration or attribution is left unknown and named under
``not_expressed`` with the ODRL policy that states it. Style imitation and derivative
generation have no AIPREF category. AIPREF has no territories: the attached forms (header,
robots.txt) combine every territory the most restrictive way (vocab, "Combining
Preferences"), and the per-target list keeps them apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sostenuto.consent._aipref import (
    PERMISSION_CATEGORY,
    RESERVATION_CATEGORY,
    Category,
    Preference,
    serialize,
)
from sostenuto.consent._export_scope import Scope
from sostenuto.consent._tdmrep import odrl_url
from sostenuto.storage.models.consent import ConsentRule
from sostenuto.vocabulary import WORLDWIDE

VOCABULARY = "draft-ietf-aipref-vocab"
ATTACHMENT = (
    "Content-Usage header field or robots.txt Content-Usage rule (draft-ietf-aipref-attach)"
)
# The uses whose category is exactly theirs; any other use mapped to a category is narrower,
# except train-ai, which is broader: AIPREF train-ai is generative training only.
_EXACT = {"train-genai", "search-index"}


def preferences(
    rules: Iterable[ConsentRule], see: str
) -> tuple[dict[Category, Preference], list[dict[str, Any]]]:
    """What AIPREF can say about ``rules``, and each thing it cannot say exactly."""
    refused: set[Category] = set()
    allowed: set[Category] = set()
    notes: list[dict[str, Any]] = []
    for rule in rules:
        territories = sorted(rule.territories)
        where = {} if WORLDWIDE in territories else {"territories": territories}
        for use in sorted(rule.uses):
            if rule.effect == "prohibit":
                category = RESERVATION_CATEGORY.get(use)
                if category is None:
                    why = "AIPREF has no category for this use"
                elif use == "train-ai":
                    refused.add(category)
                    why = (
                        "AIPREF train-ai covers generative models only: the refusal of other "
                        "AI training and evaluation is stated in the ODRL policy"
                    )
                elif use not in _EXACT:
                    refused.add(category)
                    why = f"AIPREF has no category for this use: said as the broader {category}=n"
                elif where:
                    refused.add(category)
                    why = f"AIPREF has no territories: said as {category}=n everywhere"
                else:
                    refused.add(category)
                    continue
            else:
                conditions = sorted(rule.conditions or [])
                category = PERMISSION_CATEGORY.get(use)
                if category is not None and not conditions and not where:
                    allowed.add(category)
                    continue
                if category is not None and not conditions:
                    # A permission for some territories is no yes for every reader.
                    why = f"AIPREF has no territories: no {category}=y for a territorial permission"
                elif conditions:
                    why = (
                        "permitted only on conditions ("
                        + ", ".join(conditions)
                        + "); AIPREF cannot state conditions, so no unconditional y is given"
                    )
                else:
                    why = "AIPREF has no category for this use, and a narrower permission is no y"
            notes.append(
                {
                    "rule": rule.id,
                    "use": use,
                    "effect": rule.effect,
                    **where,
                    "why": why,
                    "see": see,
                }
            )
    found: dict[Category, Preference] = {category: "n" for category in refused}
    found.update({category: "y" for category in allowed - refused})
    return found, notes


def aipref_document(scope: Scope, base_url: str) -> dict[str, Any]:
    see = odrl_url(scope, base_url)
    grouped: dict[tuple[str, tuple[str, ...]], list[ConsentRule]] = defaultdict(list)
    for target, rule in scope.pairs:
        grouped[(target.uid, tuple(sorted(rule.territories)))].append(rule)
    by_target = []
    for (uid, territories), rules in sorted(grouped.items()):
        prefs, notes = preferences(rules, see)
        by_target.append(
            {
                "target": uid,
                "territories": list(territories),
                "content_usage": serialize(prefs),
                "not_expressed": notes,
            }
        )
    pages = []
    for page in scope.pages:
        prefs, notes = preferences(page.rules, see)
        pages.append(
            {"location": page.location, "content_usage": serialize(prefs), "not_expressed": notes}
        )
    return {
        "party": scope.party,
        "vocabulary": VOCABULARY,
        "attachment": ATTACHMENT,
        "policy": see,
        "preferences": by_target,
        "pages": pages,
    }


def robots_txt(scope: Scope, base_url: str) -> str:
    """A robots.txt group for the party's catalogue site with one rule per recording page."""
    lines = [
        f"# AI usage preferences of {scope.name} ({scope.party}), draft-ietf-aipref-attach.",
        "# AIPREF has two categories (train-ai, search) and no conditions or territories;",
        f"# the exact terms: {odrl_url(scope, base_url)}",
        "# TDM reservations: /.well-known/tdmrep.json",
        "User-Agent: *",
        "Allow: /",
    ]
    for page in scope.pages:
        value = serialize(preferences(page.rules, "")[0])
        if value:
            lines.append(f"Content-Usage: {page.location} {value}")
    return "\n".join(lines) + "\n"

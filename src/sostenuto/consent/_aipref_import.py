"""A CMO's AIPREF statement (a ``Content-Usage`` value) turned into consent rules.

The statement is checked strictly (``parse_content_usage``): a label outside the vocabulary
or a value other than ``y``/``n`` is refused with a message naming it, because a conforming
reader would silently ignore it and the CMO would believe it had reserved something. ``n``
becomes a prohibition, ``y`` a permission without conditions, for the scope and territories
given; the rules go through the same checks, audit and mandate bounds as any other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.orm import Session

from sostenuto.auth import Principal
from sostenuto.consent._aipref import parse_content_usage
from sostenuto.consent._rules import permit, prohibit
from sostenuto.consent._types import RuleView

# The Sostenuto use each AIPREF category is (vocab, "Usage Category Labels").
USE_OF_CATEGORY = {"train-ai": "train-genai", "search": "search-index"}


def import_content_usage(
    session: Session,
    principal: Principal,
    *,
    scope: str,
    scope_id: int,
    content_usage: str,
    territories: Iterable[str] = ("WW",),
    valid_from: dt.date | None = None,
    note: str | None = None,
) -> list[RuleView]:
    """The rules ``content_usage`` states for the scope: a prohibition, a permission, or both."""
    preferences = parse_content_usage(content_usage)
    said = note or f"Content-Usage: {content_usage}"
    places = list(territories)
    rules: list[RuleView] = []
    refused = sorted(USE_OF_CATEGORY[c] for c, value in preferences.items() if value == "n")
    allowed = sorted(USE_OF_CATEGORY[c] for c, value in preferences.items() if value == "y")
    if refused:
        rules.append(
            prohibit(
                session,
                principal,
                scope=scope,
                scope_id=scope_id,
                uses=refused,
                territories=places,
                valid_from=valid_from,
                note=said,
            )
        )
    if allowed:
        rules.append(
            permit(
                session,
                principal,
                scope=scope,
                scope_id=scope_id,
                uses=allowed,
                territories=places,
                valid_from=valid_from,
                note=said,
            )
        )
    return rules

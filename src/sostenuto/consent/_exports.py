"""Public, machine-readable exports of a CMO's or a performer's reservations.

Three forms of the same rules, each written to its standard's current text (docs/standards.md
has the conformance table): an ODRL 2.2 policy (every rule, exactly), a W3C TDMRep
well-known file and TDM policy, and AIPREF statements for the ``Content-Usage`` header and
robots.txt. The collection of rules is in ``_export_scope``; each format has its module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.consent._aipref import serialize
from sostenuto.consent._aipref_export import aipref_document, preferences, robots_txt
from sostenuto.consent._export_scope import BASE, Scope, collect
from sostenuto.consent._odrl import odrl_policy
from sostenuto.consent._tdmrep import tdm_policy, well_known
from sostenuto.errors import InvalidInput
from sostenuto.storage.models.registry import Cmo

ExportFormat = Literal["odrl", "tdmrep", "aipref"]
FORMATS: tuple[ExportFormat, ...] = ("odrl", "tdmrep", "aipref")


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _scope(
    session: Session, cmo_id: int | None, performer_id: int | None, on_date: dt.date | None
) -> Scope:
    return collect(session, cmo_id, performer_id, on_date or _today())


def export_reservations(
    session: Session,
    *,
    format: str,
    cmo_id: int | None = None,
    performer_id: int | None = None,
    on_date: dt.date | None = None,
    base_url: str = BASE,
) -> dict[str, Any]:
    """A CMO's or a performer's reservations in force on ``on_date`` (today), as ``format``.

    ``base_url`` is where the service is reached: the TDM policy and the ODRL export the
    documents point to live under it.
    """
    if format not in FORMATS:
        raise InvalidInput(f"unknown export format {format!r}; formats are: {', '.join(FORMATS)}")
    scope = _scope(session, cmo_id, performer_id, on_date)
    if format == "odrl":
        return odrl_policy(scope)
    if format == "tdmrep":
        return {"tdmrep": well_known(scope, base_url), "policy": tdm_policy(scope, base_url)}
    return aipref_document(scope, base_url)


def tdm_policy_of(
    session: Session, *, cmo_id: int | None = None, performer_id: int | None = None,
    base_url: str = BASE,
) -> dict[str, Any]:  # fmt: skip
    """The TDM policy document a ``tdm-policy`` URL names."""
    return tdm_policy(_scope(session, cmo_id, performer_id, None), base_url)


def tdmrep_well_known(session: Session, *, base_url: str = BASE) -> list[dict[str, Any]]:
    """``/.well-known/tdmrep.json`` of the catalogue site: every CMO's reserved pages.

    A page several CMOs reserve is listed once per CMO; TDMRep uses the first match, and
    each entry is a reservation, so any of them tells the reader the page is reserved.
    """
    entries: list[dict[str, Any]] = []
    for cmo_id in session.scalars(select(Cmo.id).order_by(Cmo.id)):
        entries += well_known(_scope(session, cmo_id, None, None), base_url)
    return entries


def cmo_robots_txt(session: Session, cmo_id: int, *, base_url: str = BASE) -> str:
    """robots.txt for the CMO's catalogue site, with a Content-Usage rule per recording page."""
    return robots_txt(_scope(session, cmo_id, None, None), base_url)


def recording_content_usage(session: Session, cmo_id: int, isrc: str) -> str:
    """The ``Content-Usage`` value of one recording page of the CMO's catalogue site."""
    # A page with nothing to say gets no field (every category stays unknown).
    scope = _scope(session, cmo_id, None, None)
    for page in scope.pages:
        if page.isrc == isrc:
            return serialize(preferences(page.rules, "")[0])
    return ""  # no statement: every category unknown

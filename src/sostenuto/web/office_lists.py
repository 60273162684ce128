"""The office's read-only lists: the licences the CMO granted (with their tariffs) and the
reciprocal agreements it is party to."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from sostenuto import registry, remuneration
from sostenuto.api.deps import Db, role_gate
from sostenuto.auth import Principal

router = APIRouter(include_in_schema=False)

# Only a CMO's admin: the role that grants its licences and records its agreements.
LicenceKeeper = Annotated[
    Principal, Depends(role_gate("licence.grant", does="see a CMO's licences in its office"))
]
AgreementKeeper = Annotated[
    Principal, Depends(role_gate("agreement.add", does="see a CMO's agreements in its office"))
]


@router.get("/office/licences", response_class=HTMLResponse)
def licences_page(request: Request, caller: LicenceKeeper, database: Db) -> Any:
    from sostenuto.web import templates

    with database.reader() as session:
        licences = registry.list_licences(session, caller, cmo_id=caller.cmo_id)
        licensees = {x.id: x.name for x in registry.list_licensees(session, caller)}
        tariffs: dict[int, list[str]] = {}
        for tariff in remuneration.list_tariffs(session, caller):
            tariffs.setdefault(tariff.licence_id, []).append(
                f"{tariff.valid_from} – {tariff.valid_to or 'open'}: training "
                f"{remuneration.format_amount(tariff.training_fee_minor, tariff.currency)}"
            )
    rows = [
        {
            "licence": licence,
            "licensee": licensees.get(licence.licensee_id, f"licensee {licence.licensee_id}"),
            "tariffs": tariffs.get(licence.id, []),
        }
        for licence in licences
    ]
    return templates.TemplateResponse(request, "office_licences.html", {"rows": rows})


@router.get("/office/agreements", response_class=HTMLResponse)
def agreements_page(request: Request, caller: AgreementKeeper, database: Db) -> Any:
    from sostenuto.web import templates

    assert caller.cmo_id is not None  # the role gate admits CMO admins only
    with database.reader() as session:
        agreements = registry.list_agreements(session, caller, cmo_id=caller.cmo_id)
        cmos = {c.id: c.name for c in registry.list_cmos(session, caller)}
    rows = [
        {
            "a": agreement,
            "partner": cmos.get(
                agreement.partner_cmo_id if agreement.cmo_id == caller.cmo_id else agreement.cmo_id,
                "another CMO",
            ),
            "fee": f"{float(agreement.admin_fee) * 100:g} %",
            "direction": "we represent the partner's members"
            if agreement.cmo_id == caller.cmo_id
            else "the partner represents our members",
        }
        for agreement in agreements
    ]
    return templates.TemplateResponse(request, "office_agreements.html", {"rows": rows})

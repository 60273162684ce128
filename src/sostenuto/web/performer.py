"""The performer's page: my recordings, my consent per use, my requests to my CMO, my
statements. Every read and write goes through the services the API uses."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from sostenuto import consent, declarations, registry, remuneration, voice
from sostenuto.api.deps import Db, role_gate
from sostenuto.api.params import Code, Id, Note
from sostenuto.auth import Principal
from sostenuto.vocabulary import USES, use_ancestry
from sostenuto.web import explain, plots

router = APIRouter(include_in_schema=False)

# Only the performer role may open these pages or send their forms (403 before the form is read).
Performer = Annotated[
    Principal, Depends(role_gate("consent-request.make", does="use a performer's page"))
]
# How many distributed periods the page lists statements for, newest first.
STATEMENT_PERIODS = 12


def _recordings(session: Any, caller: Principal) -> list[registry.RecordingBasics]:
    """The recordings I contributed to (the first 200)."""
    page = registry.search_recordings(session, caller, performer_id=caller.performer_id, limit=200)
    return page.items


def _consent_per_use(rules: list[consent.RuleView]) -> list[dict[str, Any]]:
    """For each use: its meaning and the rules about me in force that decide it."""
    live = [rule for rule in rules if explain.in_force(rule)]
    rows = []
    for code, use in USES.items():
        reach = use_ancestry(code)
        deciding = [
            rule
            for rule in live
            if code in rule.uses or (rule.effect == "prohibit" and set(reach) & set(rule.uses))
        ]
        rows.append(
            {
                "code": code,
                "title": use.title,
                "description": use.description,
                "refused": any(rule.effect == "prohibit" for rule in deciding),
                "permitted": any(rule.effect == "permit" for rule in deciding),
                "rules": [explain.rule_sentence(rule) for rule in deciding],
            }
        )
    return rows


def _statements(session: Any, caller: Principal) -> tuple[list[dict[str, Any]], list[plots.Chart]]:
    """My statements of the latest periods, and the money-by-source charts over them."""
    listed = []
    documents = []
    for period in remuneration.list_periods(session)[:STATEMENT_PERIODS]:
        for statement in remuneration.list_statements(
            session, caller, period=period, party_kind="performer"
        ):
            documents.append(statement.document)
            listed.append(
                {
                    "period": period,
                    "href": f"/remuneration/{period}/performer/{statement.party_id}",
                    "totals": [
                        remuneration.format_minor(value, currency)
                        for currency, value in sorted(statement.totals.items())
                    ],
                }
            )
    return listed, _money_charts(remuneration.money_by_source(documents))


def _money_charts(sources: dict[str, list[tuple[str, int]]]) -> list[plots.Chart]:
    """One chart per currency (amounts in different currencies do not add up)."""
    charts = [
        plots.bar_chart(
            f"Where my money came from ({currency})",
            [
                plots.Bar(label, amount, remuneration.format_minor(amount, currency))
                for label, amount in ranked
            ],
            what=f"Net amount ({currency})",
            empty="No money yet.",
        )
        for currency, ranked in sources.items()
    ]
    return charts or [
        plots.bar_chart("Where my money came from", [], what="Net amount", empty="No money yet.")
    ]


@router.get("/me", response_class=HTMLResponse)
def my_page(request: Request, caller: Performer, database: Db, sent: Id | None = None) -> Any:
    from sostenuto.web import templates

    me = caller.performer_id
    assert me is not None  # the role gate admits bound performer tokens only
    with database.reader() as session:
        rules = consent.list_rules(session, caller, scope="performer", scope_id=me)
        requests = consent.list_requests(session, caller, limit=100)
        statements, money = _statements(session, caller)
        context = {
            "recordings": _recordings(session, caller),
            "per_use": _consent_per_use(rules),
            "rules": [
                {"rule": rule, "text": explain.rule_sentence(rule), "live": explain.in_force(rule)}
                for rule in rules
            ],
            "requests": [{"r": r, "text": explain.request_sentence(r)} for r in requests],
            "statements": statements,
            "money_charts": money,
            "usage": declarations.uses_of_performer(session, caller, me),
            "scanned": declarations.SCANNED,
            "voiceprints": voice.voiceprint_status(session, caller, me),
            "uses": USES,
            "sent": sent,
        }
    return templates.TemplateResponse(request, "performer.html", context)


@router.post("/me/requests")
def make_request(
    caller: Performer,
    database: Db,
    action: Annotated[Literal["permit", "prohibit"], Form()],
    use: Annotated[Code, Form()],
    territory: Annotated[Code, Form()] = "WW",
    note: Annotated[Note | None, Form()] = None,
) -> RedirectResponse:
    """Ask my CMO to permit or refuse a use; nothing changes until its admin applies it."""
    with database.transaction() as session:
        made = consent.request_change(
            session,
            caller,
            action=action,
            uses=[use],
            territories=[territory.strip().upper() or "WW"],
            note=note or None,
        )
    return RedirectResponse(f"/me?sent={made.id}#requests", status_code=303)


@router.post("/me/requests/lift")
def lift_request(
    caller: Performer, database: Db, rule_id: Annotated[Id, Form()]
) -> RedirectResponse:
    """Ask my CMO to lift a rule about me."""
    with database.transaction() as session:
        made = consent.request_change(session, caller, action="revoke", rule_id=rule_id)
    return RedirectResponse(f"/me?sent={made.id}#requests", status_code=303)

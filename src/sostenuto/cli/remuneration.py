"""``sostenuto remuneration``: tariffs, rules, revenue reports, runs, statements, claims."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from sostenuto.cli import _context
from sostenuto.cli._lazy import lazy_module
from sostenuto.cli.output import console, emit, plain, print_table
from sostenuto.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from sostenuto import remuneration
else:
    remuneration = lazy_module("sostenuto.remuneration")

app = typer.Typer(help="Tariffs, distribution runs and statements.", no_args_is_help=True)
tariff_app = typer.Typer(help="Tariffs attached to licences.", no_args_is_help=True)
statements_app = typer.Typer(help="Statements of a distributed period.", no_args_is_help=True)
app.add_typer(tariff_app, name="tariff")
app.add_typer(statements_app, name="statements")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="remuneration")


def _band(text: str, currency: str) -> remuneration.Band:
    """``fee=5000.00[,recordings=10000][,revenue=1000000.00]``."""
    fields = dict(part.split("=", 1) for part in text.split(",") if "=" in part)
    if "fee" not in fields or set(fields) - {"fee", "recordings", "revenue"}:
        raise InvalidInput(f"band {text!r}: use fee=AMOUNT[,recordings=N][,revenue=AMOUNT]")
    return remuneration.Band(
        fee_minor=remuneration.parse_major(fields["fee"], currency),
        max_recordings=int(fields["recordings"]) if "recordings" in fields else None,
        max_revenue_minor=(
            remuneration.parse_major(fields["revenue"], currency) if "revenue" in fields else None
        ),
    )


@tariff_app.command("add")
def tariff_add(
    licence: Annotated[int, typer.Option(help="Licence id.")],
    currency: Annotated[str, typer.Option(help="ISO 4217 code, e.g. SEK.")],
    valid_from: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"])],
    valid_to: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    training_fee: Annotated[str, typer.Option(help="Fixed fee per model trained.")] = "0",
    band: Annotated[
        list[str] | None,
        typer.Option(help="Banded training fee, in order: fee=5000,recordings=10000,revenue=…"),
    ] = None,
    revenue_share: Annotated[str, typer.Option(help="Per cent of reported revenue.")] = "0",
    minimum: Annotated[str, typer.Option(help="Minimum revenue share per period.")] = "0",
    per_output: Annotated[str, typer.Option(help="Fee per declared output.")] = "0",
) -> None:
    """Attach a tariff to a licence (amounts in major units: 10000.00)."""
    code = remuneration.check_currency(currency)
    spec = remuneration.TariffSpec(
        licence_id=licence,
        currency=code,
        valid_from=valid_from.date(),
        valid_to=valid_to.date() if valid_to else None,
        training_fee_minor=remuneration.parse_major(training_fee, code),
        training_bands=tuple(_band(b, code) for b in band or ()),
        revenue_share_bp=remuneration.parse_percent_bp(revenue_share),
        revenue_minimum_minor=remuneration.parse_major(minimum, code),
        per_output_minor=remuneration.parse_major(per_output, code),
    )
    if (api := _context.remote()) is not None:
        tariff = api.call("remuneration.tariffs.add", json=plain(spec))
    else:
        with _context.database().transaction() as session:
            tariff = remuneration.tariff_json(
                remuneration.add_tariff(session, _context.principal(), spec)
            )
    if _context.json_output():
        emit(tariff)
    else:
        console.print(f"tariff {tariff['id']} added to licence {licence}")


@tariff_app.command("list")
def tariff_list(licence: Annotated[int | None, typer.Option()] = None) -> None:
    """Tariffs (they are public)."""
    if (api := _context.remote()) is not None:
        rows = api.call("remuneration.tariffs.list", query={"licence_id": licence})
    else:
        with _context.database().reader() as session:
            found = remuneration.list_tariffs(session, _context.principal(), licence_id=licence)
            rows = [remuneration.tariff_json(t) for t in found]
    if _context.json_output():
        emit(rows)
        return
    print_table(
        {
            "id": t["id"],
            "licence": t["licence_id"],
            "from": t["valid_from"],
            "to": t["valid_to"] or "",
            "training fee": remuneration.format_minor(t["training_fee_minor"], t["currency"]),
            "bands": len(t["training_bands"]),
            "revenue share": f"{t['revenue_share_bp'] / 100:g} %",  # display only
            "minimum": remuneration.format_minor(t["revenue_minimum_minor"], t["currency"]),
            "per output": remuneration.format_minor(t["per_output_minor"], t["currency"]),
        }
        for t in rows
    )


@app.command("rule")
def rule(
    cmo: Annotated[int, typer.Option(help="CMO id.")],
    featured: Annotated[int, typer.Option(help="Weight of a featured part.")],
    non_featured: Annotated[int, typer.Option(help="Weight of a non-featured part.")],
) -> None:
    """Set a CMO's featured / non-featured weights."""
    if (api := _context.remote()) is not None:
        body = {"featured_weight": featured, "non_featured_weight": non_featured}
        api.call("remuneration.rules.set", path={"cmo_id": cmo}, json=body)
    else:
        with _context.database().transaction() as session:
            remuneration.set_distribution_rule(
                session,
                _context.principal(),
                cmo_id=cmo,
                featured=featured,
                non_featured=non_featured,
            )
    if _context.json_output():
        emit({"cmo_id": cmo, "featured_weight": featured, "non_featured_weight": non_featured})
    else:
        console.print(f"CMO {cmo}: featured {featured}, non-featured {non_featured}")


@app.command("report")
def report(
    licence: Annotated[int, typer.Option(help="Licence id.")],
    period: Annotated[str, typer.Option(help="2026, 2026-Q3 or 2026-09.")],
    currency: Annotated[str, typer.Option()],
    revenue: Annotated[str, typer.Option(help="Revenue in major units, e.g. 123456.78.")],
) -> None:
    """Report a licensee's revenue under a licence for a period."""
    code = remuneration.check_currency(currency)
    asked: dict[str, Any] = {
        "licence_id": licence,
        "period": period,
        "currency": code,
        "revenue_minor": remuneration.parse_major(revenue, code),
    }
    if (api := _context.remote()) is not None:
        row = api.call("remuneration.revenue-reports.add", json=asked)
    else:
        with _context.database().transaction() as session:
            found = remuneration.report_revenue(session, _context.principal(), **asked)
            row = {
                "id": found.id,
                "licence_id": found.licence_id,
                "period": found.period,
                "currency": found.currency,
                "revenue_minor": found.revenue_minor,
            }
    if _context.json_output():
        emit(row)
    else:
        amount = remuneration.format_minor(row["revenue_minor"], code)
        console.print(f"revenue report {row['id']}: {amount}")


@app.command("run")
def run(
    period: Annotated[str, typer.Argument(help="2026, 2026-Q3 or 2026-09.")],
    usage: Annotated[
        Path | None, typer.Option(help="Usage JSON instead of the transparency log.")
    ] = None,
    replace: Annotated[bool, typer.Option(help="Correct a period run from other inputs.")] = False,
    declare: Annotated[bool, typer.Option(help="Declare statements to the log.")] = True,
) -> None:
    """Distribute a period: pools, recordings, performers, CMOs, statements (the operator,
    on the server's machine)."""
    _context.local_only("remuneration run", "a distribution is the operator's act")
    records = None
    if usage is not None:
        if not usage.is_file():
            raise NotFound(f"no such usage file: {usage}", details={"path": str(usage)})
        try:
            records = remuneration.usage_from_document(json.loads(usage.read_text()))
        except json.JSONDecodeError as error:
            raise InvalidInput(f"{usage} is not JSON: {error}") from None
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        disable=_context.json_output(),
    ) as progress:
        task = progress.add_task(f"distributing {period}", total=None)
        result = remuneration.run_period(
            _context.database(),
            _context.settings(),
            _context.principal(),
            period,
            usage=records,
            replace=replace,
            declare=declare,
            progress=lambda message: progress.update(task, description=message),
        )
    if _context.json_output():
        emit(
            {
                "period": result.period,
                "run_id": result.run_id,
                "created": result.created,
                "statements": result.statements,
                "declared": result.declared,
                "summary": result.summary,
            }
        )
        return
    if not result.created:
        console.print(f"{result.period} unchanged: run {result.run_id} already holds this result")
    rows = [
        {"currency": currency, **{k: remuneration.format_minor(v, currency) for k, v in t.items()}}
        for currency, t in result.summary["currencies"].items()
    ]
    print_table(rows, title=f"{result.period}: run {result.run_id}")
    console.print(f"{result.statements} statements, {result.declared} declared to the log")


@app.command("summary")
def summary(period: Annotated[str, typer.Argument(help="2026, 2026-Q3 or 2026-09.")]) -> None:
    """A distributed period's totals, as far as the caller may read them: a CMO admin its
    own CMO's money, a licensee what it owes, auditors and the operator everything."""
    if (api := _context.remote()) is not None:
        found = api.call("remuneration.runs.show", path={"period": period})
    else:
        with _context.database().reader() as session:
            run = remuneration.get_run(session, _context.principal(), period)
        found = {
            "id": run.id,
            "period": run.period,
            "attribution": run.attribution,
            "result_sha256": run.result_sha256,
            "summary": run.summary,
            "created_at": run.created_at.isoformat(),
        }
    emit(found)


@statements_app.command("list")
def statements_list(
    period: str, kind: Annotated[str | None, typer.Option(help="performer, cmo, licensee")] = None
) -> None:
    """The period's statements visible to the caller."""
    if (api := _context.remote()) is not None:
        rows = api.call(
            "remuneration.statements.list", path={"period": period}, query={"kind": kind}
        )
    else:
        with _context.database().reader() as session:
            found = remuneration.list_statements(
                session, _context.principal(), period=period, party_kind=kind
            )
            rows = [
                {
                    "period": s.period,
                    "party_kind": s.party_kind,
                    "party_id": s.party_id,
                    "party_name": s.document.get("party", {}).get("name"),
                    "totals_minor": s.totals,
                    "sha256": s.sha256,
                    "log_entries": s.log_entries or [],
                }
                for s in found
            ]
    if _context.json_output():
        emit(rows)
        return
    print_table(
        {
            "kind": s["party_kind"],
            "id": s["party_id"],
            "name": s.get("party_name") or "",
            "total": ", ".join(
                remuneration.format_minor(v, c) for c, v in sorted(s["totals_minor"].items())
            ),
            "declared": "yes" if s["log_entries"] else "no",
        }
        for s in rows
    )


@statements_app.command("show")
def statements_show(
    period: str,
    kind: str,
    party_id: int,
    format: Annotated[str, typer.Option(help="json, csv or html")] = "json",
    output: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
) -> None:
    """One statement as JSON, CSV or an HTML page with its chart."""
    if (api := _context.remote()) is not None:
        found = api.call(
            "remuneration.statements.show",
            path={"period": period, "kind": kind, "party_id": party_id},
        )
        document, entries = found["document"], found["log_entries"]
    else:
        with _context.database().reader() as session:
            statement = remuneration.get_statement(
                session, _context.principal(), period=period, party_kind=kind, party_id=party_id
            )
            document, entries = statement.document, statement.log_entries
    if format == "json":
        text = json.dumps(document, indent=2, ensure_ascii=False)
    elif format == "csv":
        text = remuneration.statement_csv(document)
    elif format == "html":
        from sostenuto.web import templates

        view = remuneration.statement_view(document, log_entries=entries)
        text = templates.get_template("remuneration_statement.html").render(v=view, links=None)
    else:
        raise InvalidInput(f"unknown format {format!r}: json, csv or html")
    if output is None:
        print(text)
    else:
        output.write_text(text)
        console.print(f"written to {output}")


@app.command("settle")
def settle(
    period: str,
    performer: Annotated[int, typer.Option(help="Performer id.")],
    cmo: Annotated[int, typer.Option(help="The collecting CMO holding the claim.")],
) -> None:
    """Mark a non-member's held claims of a period as claimed."""
    if (api := _context.remote()) is not None:
        body = {"performer_id": performer, "cmo_id": cmo}
        emit(api.call("remuneration.claims.settle", path={"period": period}, json=body))
        return
    with _context.database().transaction() as session:
        paid = remuneration.settle_claim(
            session, _context.principal(), period=period, performer_id=performer, cmo_id=cmo
        )
    emit({"period": period, "performer_id": performer, "settled_minor": paid})

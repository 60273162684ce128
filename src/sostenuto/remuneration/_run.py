"""Run a period: compute the distribution, store it with its statements in one transaction,
then declare the statements to the transparency log."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from sostenuto.auth import OPERATOR, Principal, authorize
from sostenuto.errors import Conflict, Forbidden, InvalidInput, NotFound
from sostenuto.remuneration._attribution import (
    AttributionMethod,
    AttributionTable,
    default_attribution,
)
from sostenuto.remuneration._engine import (
    SOURCES,
    STATUSES,
    Distribution,
    _group_sum,
    distribute,
    unlicensed_usage,
)
from sostenuto.remuneration._loader import load_usage
from sostenuto.remuneration._money import format_minor
from sostenuto.remuneration._period import Period, parse_period
from sostenuto.remuneration._registry import coverage, licence_terms, snapshot
from sostenuto.remuneration._statements import (
    Names,
    StatementDoc,
    build_statements,
    unlicensed_rows,
)
from sostenuto.remuneration._usage import Usage, UsageColumns
from sostenuto.settings import Settings
from sostenuto.storage import Base, Database
from sostenuto.storage.models.registry import AiModel, Cmo, Licensee, Performer, Recording
from sostenuto.storage.models.remuneration import (
    DistributionRun,
    Payment,
    RecordingShare,
    Statement,
)

Progress = Callable[[str], None]
_CHUNK = 5_000


@dataclass(frozen=True)
class RunResult:
    """What a run did. ``created`` is false when the same result was already stored."""

    run_id: int
    period: str
    created: bool
    result_sha256: str
    summary: dict[str, Any]
    statements: int
    declared: int


def _digest(dist: Distribution) -> str:
    """SHA-256 over every money line in a fixed order: equal digests, equal distributions."""
    h = hashlib.sha256()
    for terms in dist.terms:
        h.update(repr(terms).encode())
    for gap in dist.unlicensed:  # what no licence covered is part of the result too
        h.update(repr(gap).encode())
    for name in (
        "pool_licence",
        "pool_source",
        "pool_model",
        "pool_amount",
        "s_licence",
        "s_source",
        "s_recording",
        "s_weight",
        "s_amount",
        "p_licence",
        "p_recording",
        "p_performer",
        "p_gross",
        "p_fee",
        "p_net",
        "p_payee",
        "p_agreement",
        "p_status",
    ):
        h.update(name.encode())
        h.update(np.ascontiguousarray(getattr(dist, name), dtype="<i8").tobytes())
    return h.hexdigest()


_CMO_FIGURES = (
    "collected_minor",
    "paid_to_members_minor",
    "forwarded_minor",
    "admin_fees_minor",
    "held_minor",
    "received_minor",
)


def summarise(dist: Distribution, names: Names | None = None) -> dict[str, Any]:
    """Totals per currency (collected, paid to CMOs, admin fees, held), the same per CMO
    and per licensee (so that each reads only its own), and the unlicensed usage."""
    out: dict[str, dict[str, int]] = {}
    by_cmo: dict[str, dict[str, dict[str, int]]] = {}
    by_licensee: dict[str, dict[str, dict[str, int]]] = {}

    def cmo_row(cmo: int, currency: str) -> dict[str, int]:
        return by_cmo.setdefault(str(cmo), {}).setdefault(currency, dict.fromkeys(_CMO_FIGURES, 0))

    for index, terms in enumerate(dist.terms):
        row = out.setdefault(
            terms.currency,
            {"collected_minor": 0, "to_cmos_minor": 0, "admin_fees_minor": 0, "held_minor": 0},
        )
        mine = dist.p_licence == index
        held = mine & (dist.p_payee < 0)
        collected = dist.collected(index)
        row["collected_minor"] += collected
        row["to_cmos_minor"] += int(dist.p_net[mine & ~held].sum())
        row["admin_fees_minor"] += int(dist.p_fee[mine].sum())
        row["held_minor"] += int(dist.p_net[held].sum())
        if not collected:
            continue
        owed = by_licensee.setdefault(str(terms.licensee_id), {}).setdefault(
            terms.currency, {"owed_minor": 0}
        )
        owed["owed_minor"] += collected
        licensing = cmo_row(terms.cmo_id, terms.currency)
        licensing["collected_minor"] += collected
        licensing["admin_fees_minor"] += int(dist.p_fee[mine].sum())
        licensing["held_minor"] += int(dist.p_net[held].sum())
        to_own = mine & (dist.p_payee == terms.cmo_id)
        licensing["paid_to_members_minor"] += int(dist.p_net[to_own].sum())
        licensing["forwarded_minor"] += int(dist.p_net[mine & ~held & ~to_own].sum())
        partners = mine & ~held & ~to_own
        payees, received = _group_sum(dist.p_payee[partners], dist.p_net[partners])
        for partner, amount in zip(payees.tolist(), received.tolist(), strict=True):
            cmo_row(partner, terms.currency)["received_minor"] += amount
    return {
        "currencies": out,
        "by_cmo": by_cmo,
        "by_licensee": by_licensee,
        "unlicensed": unlicensed_rows(dist, names),
        "licences": len(dist.terms),
        "recording_lines": len(dist.s_amount),
        "payments": len(dist.p_gross),
    }


def _evidence(dist: Distribution, usage: UsageColumns, table: AttributionTable) -> list[list[str]]:
    """For each recording line, the log entries and decisions behind it (training evidence:
    the licensed models' uses up to the last day the licence counted)."""
    days = usage.t_day if usage.t_day is not None else np.zeros(len(usage.t_model), np.int64)
    training: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for model, rec, ev, day in zip(
        usage.t_model.tolist(),
        usage.t_recording.tolist(),
        usage.t_evidence.tolist(),
        days.tolist(),
        strict=True,
    ):
        training.setdefault((model, rec), []).append((day, ev))
    outputs: dict[int, set[int]] = {}
    for rec, ev in zip(table.e_recording.tolist(), table.e_evidence.tolist(), strict=True):
        outputs.setdefault(rec, set()).add(ev)
    for rec, ev in zip(table.p_recording.tolist(), table.p_evidence.tolist(), strict=True):
        outputs.setdefault(rec, set()).add(ev)
    result: list[list[str]] = []
    for lic, source, rec in zip(
        dist.s_licence.tolist(), dist.s_source.tolist(), dist.s_recording.tolist(), strict=True
    ):
        sets: set[int] = set()
        if source == 0:
            terms = dist.terms[lic]
            until = terms.counts_until.toordinal() if terms.counts_until else None
            for model in terms.models:
                sets.update(
                    ev
                    for day, ev in training.get((model, rec), ())
                    if until is None or usage.t_day is None or day <= until
                )
        else:
            sets = outputs.get(rec, set())
        result.append(sorted({e for s in sets for e in usage.evidence_sets[s]}))
    return result


def _names(session: Session, dist: Distribution) -> Names:
    def lookup(model: Any, column: Any, ids: set[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        listed = sorted(i for i in ids if i >= 0)
        for start in range(0, len(listed), _CHUNK):
            chunk = listed[start : start + _CHUNK]
            found.update(session.execute(select(model.id, column).where(model.id.in_(chunk))).all())
        return found

    cmos = {t.cmo_id for t in dist.terms} | set(dist.p_payee.tolist())
    licensees = {t.licensee_id for t in dist.terms} | {g.licensee_id for g in dist.unlicensed}
    models = set(dist.pool_model.tolist()) | {g.model_id for g in dist.unlicensed}
    model_names = {
        model: f"{name} {version}"
        for model, name, version in session.execute(
            select(AiModel.id, AiModel.name, AiModel.version).where(
                AiModel.id.in_(sorted(m for m in models if m >= 0))
            )
        )
    }
    return Names(
        cmos=lookup(Cmo, Cmo.code, cmos),
        licensees=lookup(Licensee, Licensee.name, licensees),
        performers=lookup(Performer, Performer.name, set(dist.p_performer.tolist())),
        recordings=lookup(Recording, Recording.isrc, set(dist.p_recording.tolist())),
        models=model_names,
    )


def compute(
    session: Session,
    period: Period,
    usage: Usage,
    attribution: AttributionMethod | None = None,
) -> tuple[Distribution, UsageColumns, AttributionTable]:
    """The distribution of ``period`` (nothing is written)."""
    terms = licence_terms(session, period)
    registry = snapshot(session, period, terms)
    columns = usage.columns(period)
    method = attribution or default_attribution()
    table = method.attribute(columns, np.ones(columns.n_outputs, dtype=bool))
    dist = distribute(terms, columns, table, registry)
    dist.unlicensed = unlicensed_usage(columns, coverage(session, period), registry.model_licensee)
    return dist, columns, table


def check_run(
    principal: Principal,
    period: str,
    *,
    from_file: bool = False,
    replace: bool = False,
    today: dt.date | None = None,
) -> Period:
    """The period ``principal`` may run, or the refusal that says why not.

    The local operator runs any period, from the log or a usage file, and corrects a stored
    run (``replace``). Anyone else needs ``remuneration.run-from-log`` (a CMO's admin) and
    runs a period that has ended from the transparency log's usage only: such a run is fixed
    by what the log and the tariffs hold, so starting it again changes nothing, and a run
    that would differ from the stored one is refused (:class:`Conflict`), never replaced.
    """
    if principal.operator:
        return parse_period(period)
    authorize(principal, "remuneration.run-from-log")
    if from_file:
        raise Forbidden(
            "only the local operator may run a distribution from a usage file; a CMO's admin "
            "runs it from the transparency log's usage",
            details={"role": principal.role, "usage": "file"},
        )
    if replace:
        raise Forbidden(
            "only the local operator may replace a stored run (a correction: "
            "sostenuto remuneration run PERIOD --replace)",
            details={"role": principal.role, "replace": True},
        )
    parsed = parse_period(period)
    today = today or dt.datetime.now(dt.UTC).date()
    if parsed.end >= today:
        raise InvalidInput(
            f"period {parsed.label} has not ended (its last day is {parsed.end.isoformat()}); "
            "its usage may still be declared, so it can be run from "
            f"{(parsed.end + dt.timedelta(days=1)).isoformat()} on",
            details={"period": parsed.label, "ends_on": parsed.end.isoformat()},
        )
    return parsed


def run_period(
    database: Database,
    settings: Settings,
    principal: Principal,
    period: str,
    *,
    usage: Usage | None = None,
    attribution: AttributionMethod | None = None,
    replace: bool = False,
    declare: bool = True,
    progress: Progress | None = None,
) -> RunResult:
    """Distribute ``period``. Usage comes from the transparency log unless given.

    Who may run what is :func:`check_run`: the operator anything; a CMO's admin an ended
    period, from the log, never replacing.

    Re-running with the same inputs changes nothing; different inputs are refused with
    :class:`Conflict` unless ``replace`` (a correction: the old run and its statements are
    replaced; their log entries stay, as the log is append-only). Run, lines and statements
    are written in one transaction; statements are declared to the log after it commits.
    """
    parsed = check_run(principal, period, from_file=usage is not None, replace=replace)
    note = progress or (lambda _message: None)
    method = attribution or default_attribution()
    with database.reader() as session:
        if usage is None:
            note("reading usage from the transparency log")
            usage = load_usage(session)
        note("attributing and distributing")
        dist, columns, table = compute(session, parsed, usage, method)
        digest = _digest(dist)
        existing = session.scalar(
            select(DistributionRun).where(DistributionRun.period == parsed.label)
        )
        if existing is not None and existing.result_sha256 == digest:
            count = len(
                list(session.scalars(select(Statement.id).where(Statement.run_id == existing.id)))
            )
            return RunResult(existing.id, parsed.label, False, digest, existing.summary, count, 0)
        if existing is not None and not replace:
            fix = (
                "re-run with replace to correct it"
                if principal.operator
                else "a correction (replace) is the local operator's: "
                f"sostenuto remuneration run {parsed.label} --replace"
            )
            raise Conflict(
                f"period {parsed.label} was distributed (run {existing.id}) from other inputs; "
                + fix,
                details={"run": existing.id},
            )
        note("building statements")
        names = _names(session, dist)
        docs = build_statements(dist, parsed, names)
        evidence = _evidence(dist, columns, table)
    summary = summarise(dist, names)
    note("writing the run")
    with database.transaction() as session:
        old = session.scalar(select(DistributionRun).where(DistributionRun.period == parsed.label))
        if old is not None:
            for model in (Statement, Payment, RecordingShare):
                session.execute(delete(model).where(model.run_id == old.id))
            session.delete(old)
            session.flush()
        run = DistributionRun(
            period=parsed.label,
            attribution=method.name,
            result_sha256=digest,
            summary=summary,
            created_by=principal.name,
            created_at=dt.datetime.now(dt.UTC),
        )
        session.add(run)
        session.flush()
        _write_lines(session, run.id, dist, evidence)
        statements = _write_statements(session, run.id, parsed, docs)
    declared = 0
    if declare:
        note("declaring statements to the transparency log")
        # A CMO's admin cannot declare in other CMOs' names: the service does, as an
        # operator's run would (the run records who started it).
        declarer = principal if principal.operator else OPERATOR
        declared = _declare_pending(database, settings, declarer, parsed)
    return RunResult(run.id, parsed.label, True, digest, summary, len(statements), declared)


def _table(model: type[Base]) -> Table:
    """The Core table of a model: Core executemany takes rows with NULLs in one batch, where
    the ORM's bulk insert splits batches at every change of which columns are NULL."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _write_lines(
    session: Session, run_id: int, dist: Distribution, evidence: list[list[str]]
) -> None:
    currency = [t.currency for t in dist.terms]
    licence = [t.licence_id for t in dist.terms]
    cmo = [t.cmo_id for t in dist.terms]
    shares = [
        {
            "run_id": run_id,
            "licence_id": licence[lic],
            "source": SOURCES[src],
            "recording_id": rec,
            "weight": weight,
            "currency": currency[lic],
            "amount_minor": amount,
            "evidence": ev,
        }
        for lic, src, rec, weight, amount, ev in zip(
            dist.s_licence.tolist(),
            dist.s_source.tolist(),
            dist.s_recording.tolist(),
            dist.s_weight.tolist(),
            dist.s_amount.tolist(),
            evidence,
            strict=True,
        )
    ]
    for start in range(0, len(shares), _CHUNK):
        session.execute(insert(_table(RecordingShare)), shares[start : start + _CHUNK])
    payments = [
        {
            "run_id": run_id,
            "licence_id": licence[lic],
            "recording_id": rec,
            "performer_id": perf if perf >= 0 else None,
            "collecting_cmo_id": cmo[lic],
            "payee_cmo_id": payee if payee >= 0 else None,
            "agreement_id": agreement if agreement >= 0 else None,
            "currency": currency[lic],
            "gross_minor": gross,
            "admin_fee_minor": fee,
            "net_minor": net,
            "status": STATUSES[status],
            "claimed": False,
        }
        for lic, rec, perf, gross, fee, net, payee, agreement, status in zip(
            dist.p_licence.tolist(),
            dist.p_recording.tolist(),
            dist.p_performer.tolist(),
            dist.p_gross.tolist(),
            dist.p_fee.tolist(),
            dist.p_net.tolist(),
            dist.p_payee.tolist(),
            dist.p_agreement.tolist(),
            dist.p_status.tolist(),
            strict=True,
        )
    ]
    for start in range(0, len(payments), _CHUNK):
        session.execute(insert(_table(Payment)), payments[start : start + _CHUNK])


def _write_statements(
    session: Session, run_id: int, period: Period, docs: list[StatementDoc]
) -> list[Statement]:
    rows = []
    for doc in docs:
        document = {**doc.document, "declarations": [list(d) for d in doc.declarations]}
        row = Statement(
            run_id=run_id,
            period=period.label,
            party_kind=doc.party_kind,
            party_id=doc.party_id,
            totals=doc.totals,
            document=document,
            sha256=doc.sha256,
            log_entries=None,
        )
        rows.append(row)
    session.add_all(rows)
    session.flush()
    return rows


def declare_statements(
    database: Database, settings: Settings, principal: Principal, period: str
) -> int:
    """Declare the period's undeclared statements to the transparency log; returns how many.

    Safe to repeat: a statement already declared is skipped, and the log answers an identical
    declaration with the existing entry.
    """
    principal.require_operator("run a distribution")
    return _declare_pending(database, settings, principal, parse_period(period))


def _declare_pending(
    database: Database, settings: Settings, operator: Principal, parsed: Period
) -> int:
    """Declare the period's undeclared statements as ``operator`` (entries in each paying
    CMO's name, which only an operator may make)."""
    from sostenuto.transparency import declare_batch

    with database.reader() as session:
        run = session.scalar(select(DistributionRun).where(DistributionRun.period == parsed.label))
        if run is None:
            raise NotFound(f"period {parsed.label} has not been distributed")
        pending = list(
            session.scalars(
                select(Statement)
                .where(Statement.run_id == run.id, Statement.log_entries.is_(None))
                .order_by(Statement.id)
            )
        )
    done = 0
    for start in range(0, len(pending), 200):
        batch = pending[start : start + 200]
        entries: list[tuple[str, dict[str, Any]]] = []
        owners: list[tuple[int, int, str]] = []
        for statement in batch:
            for cmo_id, currency, total in statement.document.get("declarations", []):
                label = (
                    f"{parsed.label}:performer:{statement.sha256[:16]}"
                    if statement.party_kind == "performer"
                    else f"{parsed.label}:{statement.party_kind}:{statement.party_id}"
                )
                payload = {
                    "cmo_id": cmo_id,
                    "statement_id": label,
                    "period_start": parsed.start.isoformat(),
                    "period_end": parsed.end.isoformat(),
                    "currency": currency,
                    "total": format_minor(total, currency).split(" ")[0],
                    "document_sha256": statement.sha256,
                }
                if statement.party_kind == "licensee":
                    payload["licensee_id"] = statement.party_id
                entries.append(("remuneration-statement", payload))
                owners.append((statement.id, cmo_id, currency))
        receipts = declare_batch(database, settings, operator, entries)
        recorded: dict[int, list[dict[str, Any]]] = {s.id: [] for s in batch}
        for (statement_id, cmo_id, currency), receipt in zip(owners, receipts, strict=True):
            recorded[statement_id].append(
                {
                    "entry_id": receipt.entry_id,
                    "index": receipt.index,
                    "cmo_id": cmo_id,
                    "currency": currency,
                }
            )
        with database.transaction() as session:
            for statement_id, entries_of in recorded.items():
                row = session.get(Statement, statement_id)
                assert row is not None
                row.log_entries = entries_of
        done += len(batch)
    return done

"""Remuneration benchmark: one period distributed from outputs down to performers' CMOs.

    python benchmarks/remuneration.py            # 10^6 outputs, 10^6 recordings, 10^5 performers
    python benchmarks/remuneration.py --quick    # 10^4 outputs and recordings, a smoke run

Synthetic registry and usage (seeded, in memory): 10 CMOs, 5 licensees with 2 models each
and a licence from 2 CMOs each (10 licences, 4 currencies, half of them extended), every
model trained on a fifth of the catalogue, 20 % of outputs with identified resemblances and
the rest attributed by training usage, 2.5 performers per recording on average, 90 % of
performers members of one CMO (reciprocal agreements between all CMOs, 5-9 % admin fees).
Timed: attribution, distribution (pools → recordings → performers → CMOs, exact to the minor
unit) and the statement totals of every performer, CMO and licensee; then full statement
documents for every CMO and licensee and a sample of performers; then the same kind of period
at a smaller scale (``--db-scale``) through the database: registry rows, ``run_period`` in
one transaction, the declaration of every statement to the transparency log, an unchanged
re-run, and a check that the stored totals equal the in-memory distribution. No peer tool is
named for this capability; figures are reported against the target: < 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import insert

from sostenuto.auth import OPERATOR
from sostenuto.remuneration import (
    Band,
    LicenceTerms,
    Names,
    OutputUse,
    RegistrySnapshot,
    Resemblance,
    Route,
    TariffSpec,
    TrainingUse,
    Usage,
    UsageColumns,
    add_tariff,
    build_statements,
    declare_statements,
    default_attribution,
    distribute,
    parse_period,
    report_revenue,
    run_period,
    set_distribution_rule,
)
from sostenuto.remuneration._engine import Distribution
from sostenuto.remuneration._run import summarise
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import (
    AiModel,
    Cmo,
    Contribution,
    Licence,
    Licensee,
    Mandate,
    Performer,
    ReciprocalAgreement,
    Recording,
)

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_SECONDS = 300.0
CURRENCIES = ("EUR", "SEK", "NOK", "DKK")
N_CMOS, N_LICENSEES, MODELS_PER_LICENSEE = 10, 5, 2
console = Console()


def synthesise(
    n_outputs: int, n_recordings: int, n_performers: int, seed: int
) -> tuple[list[LicenceTerms], UsageColumns, RegistrySnapshot]:
    rng = np.random.default_rng(seed)
    # Registry: contributions (1-4 per recording, the first featured), members of one CMO.
    per_recording = 1 + rng.binomial(3, 0.5, n_recordings)
    c_recording = np.repeat(np.arange(1, n_recordings + 1, dtype=np.int64), per_recording)
    c_performer = rng.integers(1, n_performers + 1, len(c_recording), dtype=np.int64)
    order = np.lexsort((c_performer, c_recording))
    c_recording, c_performer = c_recording[order], c_performer[order]
    keep = np.ones(len(c_recording), dtype=bool)
    keep[1:] = (c_recording[1:] != c_recording[:-1]) | (c_performer[1:] != c_performer[:-1])
    c_recording, c_performer = c_recording[keep], c_performer[keep]
    first = np.ones(len(c_recording), dtype=bool)
    first[1:] = c_recording[1:] != c_recording[:-1]
    c_weight = np.where(rng.random(len(c_recording)) < 0.1, 2_000_000, 1_000_000).astype(np.int64)
    performer_ids = np.arange(1, n_performers + 1, dtype=np.int64)
    member_of = rng.integers(1, N_CMOS + 1, n_performers, dtype=np.int64)
    member_of[rng.random(n_performers) < 0.1] = -1
    terms: list[LicenceTerms] = []
    routes: dict[int, Route] = {}
    for licence in range(1, N_CMOS + 1):
        cmo = licence
        licensee = (licence - 1) // 2 + 1
        models = tuple(
            (licensee - 1) * MODELS_PER_LICENSEE + m + 1 for m in range(MODELS_PER_LICENSEE)
        )
        terms.append(
            LicenceTerms(
                licence_id=licence,
                licensee_id=licensee,
                cmo_id=cmo,
                currency=CURRENCIES[licence % len(CURRENCIES)],
                extended=licence % 2 == 1,
                models=models,
                training_bands=(
                    Band(2_500_000, max_recordings=n_recordings // 10),
                    Band(5_000_000),
                ),
                revenue_share_bp=500 + 50 * licence,
                revenue_minimum_minor=1_000_000,
                per_output_minor=1 + licence % 3,
                reported_revenue_minor=int(rng.integers(10**8, 10**10)),
            )
        )
        direct = member_of == cmo
        partner = (member_of > 0) & ~direct
        routes[licence] = Route(
            payee=np.where(member_of > 0, member_of, -1),
            agreement=np.where(partner, cmo * 100 + member_of, -1),
            fee_bp=np.where(partner, 500 + 100 * (member_of % 5), 0),
        )
    registry = RegistrySnapshot(
        recording_ids=np.arange(1, n_recordings + 1, dtype=np.int64),
        c_recording=c_recording,
        c_performer=c_performer,
        c_featured=first,
        c_weight_micro=c_weight,
        performer_ids=performer_ids,
        class_weights={cmo: (2 + cmo % 2, 1) for cmo in range(1, N_CMOS + 1)},
        routes=routes,
    )

    # Usage: each model trained on a fifth of the catalogue; outputs spread over models.
    n_models = N_LICENSEES * MODELS_PER_LICENSEE
    per_model = n_recordings // 5
    t_model = np.repeat(np.arange(1, n_models + 1, dtype=np.int64), per_model)
    t_recording = np.concatenate(
        [rng.choice(n_recordings, per_model, replace=False) + 1 for _ in range(n_models)]
    ).astype(np.int64)
    t_weight = np.where(rng.random(len(t_model)) < 0.05, 2, 1).astype(np.int64)
    o_model = rng.integers(1, n_models + 1, n_outputs, dtype=np.int64)
    with_evidence = np.flatnonzero(rng.random(n_outputs) < 0.2)
    matches = rng.integers(1, 4, len(with_evidence))
    r_output = np.repeat(with_evidence, matches).astype(np.int64)
    # A regurgitated segment comes from the model's own training set.
    picks = rng.integers(0, per_model, len(r_output))
    r_recording = t_recording[(o_model[r_output] - 1) * per_model + picks]
    r_weight = rng.integers(500_000, 1_000_001, len(r_output), dtype=np.int64)
    evidence_sets: list[tuple[str, ...]] = [
        (f"training-run-{m}", f"manifest-{m}") for m in range(1, n_models + 1)
    ]
    evidence_sets.extend((f"output-{o}",) for o in with_evidence.tolist())
    o_evidence = np.zeros(n_outputs, dtype=np.int64)
    o_evidence[with_evidence] = n_models + np.arange(len(with_evidence))
    usage = UsageColumns(
        evidence_sets=evidence_sets,
        t_model=t_model,
        t_recording=t_recording,
        t_weight=t_weight,
        t_evidence=t_model - 1,
        t_in_period=np.ones(len(t_model), dtype=bool),
        o_model=o_model,
        o_evidence=o_evidence,
        output_ids=None,
        r_output=r_output,
        r_recording=r_recording,
        r_weight=r_weight,
        r_evidence=o_evidence[r_output],
    )
    return terms, usage, registry


def party_totals(dist: Distribution) -> dict[str, Any]:
    """Every party's total per currency, vectorised: what the statements' headlines say."""
    currency_index = np.asarray([CURRENCIES.index(t.currency) for t in dist.terms], dtype=np.int64)[
        dist.p_licence
    ]
    n_cur = len(CURRENCIES)
    performer_key = dist.p_performer * n_cur + currency_index
    keys, inverse = np.unique(performer_key, return_inverse=True)
    performer_sum = np.zeros(len(keys), dtype=np.int64)
    np.add.at(performer_sum, inverse, dist.p_net)
    cmo_sum = np.zeros((N_CMOS + 1) * n_cur, dtype=np.int64)
    paid = dist.p_payee >= 0
    np.add.at(cmo_sum, dist.p_payee[paid] * n_cur + currency_index[paid], dist.p_net[paid])
    held = int(dist.p_net[~paid].sum())
    collected = int(dist.pool_amount.sum())
    fees = int(dist.p_fee.sum())
    if (
        int(performer_sum.sum()) + fees != collected
        or int(cmo_sum.sum()) + fees + held != collected
    ):
        raise SystemExit("totals do not add up: a bug in the distribution")
    return {
        "performer_statements": len(np.unique(dist.p_performer[dist.p_performer >= 0])),
        "cmo_statements": int(np.count_nonzero(cmo_sum.reshape(-1, n_cur).sum(axis=1))),
        "collected_minor_all_currencies": collected,
        "admin_fees_minor": fees,
        "held_minor": held,
    }


def _usage_records(usage: UsageColumns, day: dt.date) -> Usage:
    """The same usage as records, as a file or the log loader would give it."""
    training = [
        TrainingUse(m, r, day, w, usage.evidence_sets[e])
        for m, r, w, e in zip(
            usage.t_model.tolist(),
            usage.t_recording.tolist(),
            usage.t_weight.tolist(),
            usage.t_evidence.tolist(),
            strict=True,
        )
    ]
    found: dict[int, list[Resemblance]] = {}
    for o, r, w in zip(
        usage.r_output.tolist(), usage.r_recording.tolist(), usage.r_weight.tolist(), strict=True
    ):
        found.setdefault(o, []).append(Resemblance(r, "segment", w))
    outputs = [
        OutputUse(f"output-{o}", m, day, tuple(found.get(o, ())), (f"output-{o}",))
        for o, m in enumerate(usage.o_model.tolist())
    ]
    return Usage(training, outputs)


def database_run(
    terms: list[LicenceTerms], usage: UsageColumns, registry: RegistrySnapshot, workdir: Path
) -> dict[str, Any]:
    """The same period through the database: registry rows, tariffs, reports, then
    ``run_period`` (one transaction) and the declaration of every statement to the log."""
    database = Database(f"sqlite:///{workdir / 'bench.sqlite3'}")
    database.migrate()
    settings = Settings(data_dir=workdir / "data")
    since = dt.date(2020, 1, 1)
    members = registry.routes[1].payee
    with database.transaction() as session:
        session.execute(
            insert(Cmo),
            [
                {"id": c, "code": f"CMO{c}", "name": f"CMO {c}", "country": "SE", "identifiers": {}}
                for c in range(1, N_CMOS + 1)
            ],
        )
        session.execute(
            insert(Licensee),
            [
                {"id": i, "name": f"Licensee {i}", "kind": "developer"}
                for i in range(1, N_LICENSEES + 1)
            ],
        )
        session.execute(
            insert(AiModel),
            [
                {
                    "id": m,
                    "licensee_id": (m - 1) // MODELS_PER_LICENSEE + 1,
                    "name": f"model-{m}",
                    "version": "1",
                    "purpose": "music",
                }
                for m in range(1, N_LICENSEES * MODELS_PER_LICENSEE + 1)
            ],
        )
        session.execute(
            insert(Licence),
            [
                {
                    "id": t.licence_id,
                    "cmo_id": t.cmo_id,
                    "licensee_id": t.licensee_id,
                    "uses": ["train-genai"],
                    "territories": ["WW"],
                    "valid_from": since,
                    "status": "active",
                    "extended": t.extended,
                    "conditions": [],
                }
                for t in terms
            ],
        )
        session.execute(
            insert(ReciprocalAgreement),
            [
                {
                    "id": c * 100 + p,
                    "cmo_id": c,
                    "partner_cmo_id": p,
                    "territories": ["WW"],
                    "uses": ["train-ai"],
                    "admin_fee": Decimal(500 + 100 * (p % 5)) / 10_000,
                    "valid_from": since,
                }
                for c in range(1, N_CMOS + 1)
                for p in range(1, N_CMOS + 1)
                if c != p
            ],
        )
        session.execute(
            insert(Performer),
            [{"id": int(p), "name": f"Performer {p}"} for p in registry.performer_ids.tolist()],
        )
        session.execute(
            insert(Mandate),
            [
                {
                    "performer_id": int(p),
                    "cmo_id": int(c),
                    "territories": ["WW"],
                    "uses": ["train-ai"],
                    "valid_from": since,
                }
                for p, c in zip(registry.performer_ids.tolist(), members.tolist(), strict=True)
                if c > 0
            ],
        )
        session.execute(
            insert(Recording),
            [
                {"id": r, "isrc": f"QZS0S{r // 100_000:02d}{r % 100_000:05d}", "title": f"Song {r}"}
                for r in registry.recording_ids.tolist()
            ],
        )
        session.execute(
            insert(Contribution),
            [
                {
                    "recording_id": r,
                    "performer_id": p,
                    "featured": f,
                    "kind": "instrument",
                    "weight": Decimal(w) / 1_000_000,
                }
                for r, p, f, w in zip(
                    registry.c_recording.tolist(),
                    registry.c_performer.tolist(),
                    registry.c_featured.tolist(),
                    registry.c_weight_micro.tolist(),
                    strict=True,
                )
            ],
        )
        for t in terms:
            add_tariff(
                session,
                OPERATOR,
                TariffSpec(
                    licence_id=t.licence_id,
                    currency=t.currency,
                    valid_from=since,
                    training_bands=t.training_bands,
                    revenue_share_bp=t.revenue_share_bp,
                    revenue_minimum_minor=t.revenue_minimum_minor,
                    per_output_minor=t.per_output_minor,
                ),
            )
            report_revenue(
                session,
                OPERATOR,
                licence_id=t.licence_id,
                period="2026-Q3",
                currency=t.currency,
                revenue_minor=t.reported_revenue_minor or 0,
            )
        for cmo, weights in registry.class_weights.items():
            set_distribution_rule(
                session, OPERATOR, cmo_id=cmo, featured=weights[0], non_featured=weights[1]
            )
    records = _usage_records(usage, dt.date(2026, 8, 1))
    started, cpu = time.perf_counter(), time.process_time()
    result = run_period(database, settings, OPERATOR, "2026-Q3", usage=records, declare=False)
    run_s = time.perf_counter() - started
    run_cpu_s = time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    declared = declare_statements(database, settings, OPERATOR, "2026-Q3")
    declare_s = time.perf_counter() - started
    declare_cpu_s = time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    again = run_period(database, settings, OPERATOR, "2026-Q3", usage=records)
    rerun_s = time.perf_counter() - started
    database.dispose()
    return {
        "db_run_s": round(run_s, 3),
        "db_run_cpu_s": round(run_cpu_s, 3),
        "db_declare_cpu_s": round(declare_cpu_s, 3),
        "db_declare_s": round(declare_s, 3),
        "db_rerun_unchanged_s": round(rerun_s, 3),
        "db_rerun_created": again.created,
        "db_statements": result.statements,
        "db_declared": declared,
        "db_payments": result.summary["payments"],
        "db_summary": result.summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10^4 outputs and recordings")
    parser.add_argument("--outputs", type=int, default=10**6)
    parser.add_argument("--recordings", type=int, default=10**6)
    parser.add_argument("--performers", type=int, default=10**5)
    parser.add_argument("--sample-performers", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--db-scale",
        type=int,
        default=10**5,
        help="outputs and recordings of the database run (performers: a tenth); 0 skips it",
    )
    args = parser.parse_args()
    if args.quick:
        args.outputs, args.recordings, args.performers = 10**4, 10**4, 10**3
        args.db_scale = min(args.db_scale, 2_000)
    period = parse_period("2026-Q3")
    timings: dict[str, float] = {}
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("synthesising registry and usage", total=None)
        started, cpu = time.perf_counter(), time.process_time()
        terms, usage, registry = synthesise(
            args.outputs, args.recordings, args.performers, args.seed
        )
        timings["synthesise_s"] = time.perf_counter() - started
        timings["synthesise_cpu_s"] = time.process_time() - cpu
        rss_after_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tracemalloc.start()
        progress.update(task, description="attribution")
        started, cpu = time.perf_counter(), time.process_time()
        table = default_attribution().attribute(usage, np.ones(usage.n_outputs, dtype=bool))
        timings["attribution_s"] = time.perf_counter() - started
        timings["attribution_cpu_s"] = time.process_time() - cpu
        progress.update(task, description="distribution")
        started, cpu = time.perf_counter(), time.process_time()
        dist = distribute(terms, usage, table, registry)
        timings["distribution_s"] = time.perf_counter() - started
        timings["distribution_cpu_s"] = time.process_time() - cpu
        progress.update(task, description="statement totals")
        started, cpu = time.perf_counter(), time.process_time()
        totals = party_totals(dist)
        timings["party_totals_s"] = time.perf_counter() - started
        timings["party_totals_cpu_s"] = time.process_time() - cpu
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        progress.update(task, description="statement documents")
        sample = np.unique(dist.p_performer[dist.p_performer >= 0])[: args.sample_performers]
        started, cpu = time.perf_counter(), time.process_time()
        docs = build_statements(dist, period, Names(), performers=sample.tolist())
        timings["statement_documents_s"] = time.perf_counter() - started
        timings["statement_documents_cpu_s"] = time.process_time() - cpu
        db: dict[str, Any] = {}
        if args.db_scale:
            progress.update(task, description=f"database run at {args.db_scale:,} outputs")
            small = synthesise(
                args.db_scale, args.db_scale, max(args.db_scale // 10, 10), args.seed
            )
            expected = summarise(
                distribute(
                    small[0],
                    small[1],
                    default_attribution().attribute(
                        small[1], np.ones(small[1].n_outputs, dtype=bool)
                    ),
                    small[2],
                )
            )
            with tempfile.TemporaryDirectory() as workdir:
                db = database_run(*small, Path(workdir))
            db["db_outputs"] = args.db_scale
            db["db_matches_in_memory"] = db.pop("db_summary") == expected
    core = timings["attribution_s"] + timings["distribution_s"] + timings["party_totals_s"]
    core_cpu = sum(timings[f"{k}_cpu_s"] for k in ("attribution", "distribution", "party_totals"))
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_version()}, shared 2-core host",
        "outputs": args.outputs,
        "recordings": args.recordings,
        "performers": args.performers,
        "cmos": N_CMOS,
        "licences": len(terms),
        "training_rows": len(usage.t_model),
        "resemblance_rows": len(usage.r_output),
        "contributions": len(registry.c_recording),
        "recording_lines": len(dist.s_amount),
        "payments": len(dist.p_gross),
        **{k: round(v, 3) for k, v in timings.items()},
        "period_distributed_s": round(core, 3),
        "period_distributed_cpu_s": round(core_cpu, 3),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "target_s": TARGET_SECONDS,
        "meets_target": core < TARGET_SECONDS,
        "peak_traced_mib_distribution": round(traced_peak / 2**20, 1),
        "peak_rss_mib_after_data": round(rss_after_data, 1),
        "peak_rss_mib": round(peak_rss, 1),
        "statement_documents": len(docs),
        "statement_documents_performers_sampled": len(sample),
        **totals,
        **db,
    }
    table_out = Table(title="Remuneration: one period (no peer tool named; target < 5 min)")
    table_out.add_column("measure")
    table_out.add_column("value", justify="right")
    for key in (
        "outputs",
        "recordings",
        "performers",
        "cmos",
        "licences",
        "payments",
        "synthesise_s",
        "attribution_s",
        "distribution_s",
        "party_totals_s",
        "period_distributed_s",
        "period_distributed_cpu_s",
        "load_average_1m_at_end",
        "target_s",
        "meets_target",
        "statement_documents_s",
        "statement_documents",
        "peak_traced_mib_distribution",
        "peak_rss_mib",
        *db,
    ):
        table_out.add_row(
            key,
            f"{results[key]:,}"
            if isinstance(results[key], int | float) and not isinstance(results[key], bool)
            else str(results[key]),
        )
    console.print(table_out)
    RESULTS.mkdir(exist_ok=True)
    name = "remuneration-quick.json" if args.quick else "remuneration.json"
    (RESULTS / name).write_text(json.dumps(results, indent=2))
    console.print(f"wrote {RESULTS / name}")
    sys.exit(0 if core < TARGET_SECONDS else 1)


if __name__ == "__main__":
    main()

"""Statements: per performer, CMO and licensee for a period, built from a distribution.

A statement document is plain JSON: the party, the period, ``lines`` (flat rows, also the
CSV), ``totals`` (currency → minor units), ``sources`` (where the money came from, for the
chart) and, for CMOs and licensees, the breakdowns they reconcile against. Amounts are
integers of minor units; people read them through :func:`format_minor`.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from sostenuto.remuneration._engine import HELD_EXTENDED as HELD
from sostenuto.remuneration._engine import SOURCES, STATUSES, Distribution
from sostenuto.remuneration._money import Int64Array
from sostenuto.remuneration._period import Period

PARTY_KINDS = ("performer", "cmo", "licensee")


@dataclass
class Names:
    """Display names for ids (empty mappings are fine: ids are shown instead)."""

    cmos: Mapping[int, str] = field(default_factory=dict)
    licensees: Mapping[int, str] = field(default_factory=dict)
    performers: Mapping[int, str] = field(default_factory=dict)
    recordings: Mapping[int, str] = field(default_factory=dict)  # id → ISRC
    models: Mapping[int, str] = field(default_factory=dict)  # id → "name version"

    def model(self, model_id: int) -> str:
        """A model version's name; "" for a pool of every model (a licensee-wide revenue
        share)."""
        return "" if model_id < 0 else self.models.get(model_id, str(model_id))


@dataclass
class StatementDoc:
    """One statement before it is stored: its party, totals and document."""

    party_kind: str
    party_id: int
    totals: dict[str, int]
    document: dict[str, Any]
    # (CMO that declares it, currency, total): one log entry each
    declarations: list[tuple[int, str, int]]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(canonical_json(self.document)).hexdigest()


def canonical_json(document: Mapping[str, Any]) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def _groups(keys: Int64Array) -> Iterator[tuple[int, Int64Array]]:
    """(key, row indices) for each distinct key, keys ascending, rows in original order."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    bounds = np.flatnonzero(np.diff(sorted_keys)) + 1
    for rows in np.split(order, bounds):
        if len(rows):
            yield int(keys[rows[0]]), rows


def _add(totals: dict[str, int], currency: str, amount: int) -> None:
    totals[currency] = totals.get(currency, 0) + amount


def unlicensed_rows(dist: Distribution, names: Names | None = None) -> list[dict[str, Any]]:
    """The period's usage that no licence covered on its day, per model, as JSON rows."""
    rows: list[dict[str, Any]] = []
    for gap in dist.unlicensed:
        row: dict[str, Any] = {
            "licensee_id": gap.licensee_id,
            "model_id": gap.model_id,
            "training_uses": gap.training_uses,
            "outputs": gap.outputs,
            "first_on": gap.first_on.isoformat() if gap.first_on else None,
            "last_on": gap.last_on.isoformat() if gap.last_on else None,
            "cmos": list(gap.cmos),
        }
        if names is not None and gap.model_id in names.models:
            row["model"] = names.models[gap.model_id]
        rows.append(row)
    return rows


def build_statements(
    dist: Distribution,
    period: Period,
    names: Names,
    *,
    performers: Collection[int] | None = None,
) -> list[StatementDoc]:
    """Every statement of the period: one per performer, CMO and licensee with money, and
    one per licensee with unlicensed usage (``performers`` limits the performer statements
    to those ids). Usage no licence covered is listed, never billed, in the statements of
    its licensee and of the CMOs that licensed that licensee in the period."""
    currency = [t.currency for t in dist.terms]
    licensee_of = [t.licensee_id for t in dist.terms]
    cmo_of = [t.cmo_id for t in dist.terms]
    head = {
        "period": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }
    docs: list[StatementDoc] = []
    docs.extend(_performers(dist, head, names, currency, licensee_of, cmo_of, performers))
    gaps = unlicensed_rows(dist, names)
    docs.extend(_cmos(dist, head, names, currency, licensee_of, cmo_of, gaps))
    docs.extend(_licensees(dist, head, names, currency, licensee_of, cmo_of, gaps))
    return docs


def _performers(
    dist: Distribution,
    head: dict[str, str],
    names: Names,
    currency: list[str],
    licensee_of: list[int],
    cmo_of: list[int],
    only: Collection[int] | None,
) -> Iterator[StatementDoc]:
    wanted = (
        np.flatnonzero(np.isin(dist.p_performer, np.fromiter(only, dtype=np.int64)))
        if only is not None
        else np.arange(len(dist.p_performer))
    )
    columns = (
        dist.p_licence,
        dist.p_recording,
        dist.p_gross,
        dist.p_fee,
        dist.p_net,
        dist.p_payee,
        dist.p_status,
    )
    for performer, group in _groups(dist.p_performer[wanted]):
        rows = wanted[group]
        if performer < 0:
            continue
        lines = []
        totals: dict[str, int] = {}
        sources: dict[tuple[str, str], int] = defaultdict(int)
        declared: dict[tuple[int, str], int] = defaultdict(int)
        held_totals: dict[str, int] = {}
        involved: set[int] = set()  # CMOs the money passed through: they may read it
        for lic, rec, gross, fee, net, payee, status in zip(
            *(c[rows].tolist() for c in columns), strict=True
        ):
            cur = currency[lic]
            lines.append(
                {
                    "licence_id": dist.terms[lic].licence_id,
                    "licensee": names.licensees.get(licensee_of[lic], str(licensee_of[lic])),
                    "collecting_cmo": names.cmos.get(cmo_of[lic], str(cmo_of[lic])),
                    "recording_id": rec,
                    "isrc": names.recordings.get(rec, ""),
                    "currency": cur,
                    "gross_minor": gross,
                    "admin_fee_minor": fee,
                    "net_minor": net,
                    "payee_cmo": names.cmos.get(payee, str(payee)) if payee >= 0 else "",
                    "status": STATUSES[status],
                }
            )
            _add(totals, cur, net)
            sources[(f"{lines[-1]['licensee']} · {lines[-1]['isrc'] or rec}", cur)] += net
            declared[(payee if payee >= 0 else cmo_of[lic], cur)] += net
            involved.update((cmo_of[lic], payee) if payee >= 0 else (cmo_of[lic],))
            if status >= HELD:
                _add(held_totals, cur, net)
        yield StatementDoc(
            "performer",
            performer,
            totals,
            {
                **head,
                "party": {
                    "kind": "performer",
                    "id": performer,
                    "name": names.performers.get(performer, ""),
                },
                "totals": totals,
                "held_minor": held_totals,
                "cmos": sorted(involved),
                "sources": [
                    {"label": k[0], "currency": k[1], "amount_minor": v}
                    for k, v in sorted(sources.items())
                ],
                "lines": lines,
            },
            [(cmo, cur, total) for (cmo, cur), total in sorted(declared.items())],
        )


def _cmos(
    dist: Distribution,
    head: dict[str, str],
    names: Names,
    currency: list[str],
    licensee_of: list[int],
    cmo_of: list[int],
    gaps: list[dict[str, Any]],
) -> Iterator[StatementDoc]:
    collecting = (
        np.asarray(cmo_of, dtype=np.int64)[dist.p_licence]
        if len(dist.terms)
        else (np.zeros(0, dtype=np.int64))
    )
    pool_cmo = (
        np.asarray(cmo_of, dtype=np.int64)[dist.pool_licence]
        if len(dist.terms)
        else (np.zeros(0, dtype=np.int64))
    )
    cmos = sorted(
        set(np.unique(collecting).tolist())
        | set(np.unique(dist.p_payee).tolist())
        | set(np.unique(pool_cmo).tolist())
    )
    for cmo in cmos:
        if cmo < 0:
            continue
        lines: list[dict[str, Any]] = []
        sources: list[dict[str, Any]] = []
        # What it collected as the licensing CMO.
        for row in np.flatnonzero(pool_cmo == cmo).tolist():
            lic = int(dist.pool_licence[row])
            licensee = names.licensees.get(licensee_of[lic], str(licensee_of[lic]))
            source = SOURCES[int(dist.pool_source[row])]
            amount = int(dist.pool_amount[row])
            lines.append(
                {
                    "section": "collected",
                    "licence_id": dist.terms[lic].licence_id,
                    "counterparty": licensee,
                    "source": source,
                    "model_id": int(dist.pool_model[row]),
                    "model": names.model(int(dist.pool_model[row])),
                    "currency": currency[lic],
                    "gross_minor": amount,
                    "admin_fee_minor": 0,
                    "net_minor": amount,
                }
            )
            sources.append(
                {
                    "label": f"{licensee}: {source}",
                    "currency": currency[lic],
                    "amount_minor": amount,
                }
            )
        # Where that money went, and what came in through other CMOs' agreements.
        mine = collecting == cmo
        to_me = dist.p_payee == cmo
        sections = (
            ("paid-to-own-members", mine & to_me),
            ("forwarded-to-partner", mine & (dist.p_payee >= 0) & ~to_me),
            ("held-claims", mine & (dist.p_payee < 0)),
            ("received-from-partner", ~mine & to_me),
        )
        totals: dict[str, int] = {}
        for section, mask in sections:
            rows = np.flatnonzero(mask)
            counter = collecting if section == "received-from-partner" else dist.p_payee
            key = (dist.p_licence[rows] << 32) + (counter[rows] + 1)  # counterparty -1: held
            for _, group in _groups(key):
                picked = rows[group]
                lic = int(dist.p_licence[picked[0]])
                other = int(counter[picked[0]])
                cur = currency[lic]
                gross = int(dist.p_gross[picked].sum())
                fee = int(dist.p_fee[picked].sum())
                net = int(dist.p_net[picked].sum())
                lines.append(
                    {
                        "section": section,
                        "licence_id": dist.terms[lic].licence_id,
                        "counterparty": names.cmos.get(other, str(other)) if other >= 0 else "",
                        "source": "",
                        "model_id": -1,
                        "model": "",
                        "currency": cur,
                        "gross_minor": gross,
                        "admin_fee_minor": fee,
                        "net_minor": net,
                        "payments": len(picked),
                    }
                )
                if section in ("paid-to-own-members", "received-from-partner"):
                    _add(totals, cur, net)
                if section == "received-from-partner":
                    sources.append(
                        {
                            "label": f"via {names.cmos.get(other, str(other))}",
                            "currency": cur,
                            "amount_minor": net,
                        }
                    )
        admin_fees: dict[str, int] = {}
        for row in np.flatnonzero(mine).tolist():
            _add(admin_fees, currency[int(dist.p_licence[row])], int(dist.p_fee[row]))
        document: dict[str, Any] = {
            **head,
            "party": {"kind": "cmo", "id": cmo, "name": names.cmos.get(cmo, "")},
            "totals": totals,
            "admin_fees_retained_minor": admin_fees,
            "sources": sources,
            "lines": lines,
        }
        unlicensed = [gap for gap in gaps if cmo in gap["cmos"]]
        if unlicensed:
            document["unlicensed"] = unlicensed
        yield StatementDoc(
            "cmo",
            cmo,
            totals,
            document,
            [(cmo, cur, total) for cur, total in sorted(totals.items())],
        )


def _licensees(
    dist: Distribution,
    head: dict[str, str],
    names: Names,
    currency: list[str],
    licensee_of: list[int],
    cmo_of: list[int],
    gaps: list[dict[str, Any]],
) -> Iterator[StatementDoc]:
    by_licensee: dict[int, list[int]] = defaultdict(list)
    for index, licensee in enumerate(licensee_of):
        by_licensee[licensee].append(index)
    for gap in gaps:
        if gap["licensee_id"] >= 0:
            by_licensee.setdefault(gap["licensee_id"], [])
    for licensee, licences in sorted(by_licensee.items()):
        lines: list[dict[str, Any]] = []
        sources: list[dict[str, Any]] = []
        totals: dict[str, int] = {}
        declared: dict[tuple[int, str], int] = defaultdict(int)
        for lic in licences:
            cur = currency[lic]
            cmo = names.cmos.get(cmo_of[lic], str(cmo_of[lic]))
            for row in np.flatnonzero(dist.pool_licence == lic).tolist():
                amount = int(dist.pool_amount[row])
                source = SOURCES[int(dist.pool_source[row])]
                lines.append(
                    {
                        "licence_id": dist.terms[lic].licence_id,
                        "cmo": cmo,
                        "source": source,
                        "model_id": int(dist.pool_model[row]),
                        "model": names.model(int(dist.pool_model[row])),
                        "currency": cur,
                        "amount_minor": amount,
                    }
                )
                model = names.model(int(dist.pool_model[row]))
                label = f"{source} ({cmo})" if not model else f"{source}, {model} ({cmo})"
                sources.append({"label": label, "currency": cur, "amount_minor": amount})
                _add(totals, cur, amount)
                declared[(cmo_of[lic], cur)] += amount
        unlicensed = [gap for gap in gaps if gap["licensee_id"] == licensee]
        if not lines and not unlicensed:
            continue
        document: dict[str, Any] = {
            **head,
            "party": {
                "kind": "licensee",
                "id": licensee,
                "name": names.licensees.get(licensee, ""),
            },
            "totals": totals,
            "outputs": {
                str(dist.terms[lic].licence_id): dist.outputs_by_licence[lic] for lic in licences
            },
            "sources": sources,
            "lines": lines,
        }
        if unlicensed:
            document["unlicensed"] = unlicensed
        yield StatementDoc(
            "licensee",
            licensee,
            totals,
            document,
            [(cmo, cur, total) for (cmo, cur), total in sorted(declared.items())],
        )


def statement_csv(document: Mapping[str, Any]) -> str:
    """The statement's lines as CSV (header from the first line's keys)."""
    lines = list(document.get("lines", ()))
    buffer = io.StringIO()
    if not lines:
        return ""
    columns: list[str] = []
    for line in lines:
        columns.extend(k for k in line if k not in columns)
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(lines)
    return buffer.getvalue()

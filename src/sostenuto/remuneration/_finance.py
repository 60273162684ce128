"""Statements for finance: amounts with thousands separators and the currency, recording
titles beside ISRCs, a CSV in major units and a PDF (ReportLab, as the training summaries)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.errors import DependencyMissing
from sostenuto.remuneration._money import minor_exponent
from sostenuto.storage.models.registry import Recording

STATEMENT_TITLES = {
    "performer": "Performer statement",
    "cmo": "CMO statement",
    "licensee": "Licensee statement",
}
_KINDS = {"performer": "performer", "cmo": "CMO", "licensee": "licensee"}


def format_amount(amount: int, currency: str) -> str:
    """``123456789, 'EUR'`` → ``'1,234,567.89 EUR'``: exact, grouped by thousands."""
    exponent = minor_exponent(currency)
    sign = "-" if amount < 0 else ""
    units, minor = divmod(abs(amount), 10**exponent)
    text = f"{units:,}.{minor:0{exponent}d}" if exponent else f"{units:,}"
    return f"{sign}{text} {currency}"


def major_units(amount: int, currency: str) -> str:
    """``123456, 'EUR'`` → ``'1234.56'``: the amount in major units, for spreadsheets."""
    return str(Decimal(amount).scaleb(-minor_exponent(currency)))


def party_label(party: Mapping[str, Any]) -> str:
    """``Lucía Ferrer (performer)``; the id where a statement names no one."""
    kind = _KINDS.get(str(party.get("kind")), str(party.get("kind")))
    name = party.get("name") or f"{kind} {party.get('id')}"
    return f"{name} ({kind})"


def recording_titles(session: Session, document: Mapping[str, Any]) -> dict[str, str]:
    """The titles of the recordings a statement's lines name, by ISRC (one query)."""
    isrcs = {str(line["isrc"]) for line in document.get("lines", ()) if line.get("isrc")}
    if not isrcs:
        return {}
    rows = session.execute(
        select(Recording.isrc, Recording.title).where(Recording.isrc.in_(sorted(isrcs)))
    )
    return {isrc: title for isrc, title in rows}


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    amount: bool  # money: right-aligned, formatted with its currency


@dataclass(frozen=True)
class FinanceTable:
    """A statement's lines ready to show: headed columns and formatted cells."""

    columns: list[Column]
    rows: list[list[str]]


def _columns(lines: list[Mapping[str, Any]], titles: Mapping[str, str]) -> list[Column]:
    keys: list[str] = []
    for line in lines:
        keys.extend(k for k in line if k not in keys)
    columns = []
    for key in keys:
        name = key.removesuffix("_minor")
        columns.append(Column(key, name.replace("_", " "), key.endswith("_minor")))
        if key == "isrc" and titles:
            columns.append(Column("title", "title", False))
    return columns


def _cell(line: Mapping[str, Any], column: Column, titles: Mapping[str, str]) -> str:
    if column.key == "title" and "title" not in line:
        return titles.get(str(line.get("isrc", "")), "")
    value = line.get(column.key, "")
    if column.amount and isinstance(value, int) and "currency" in line:
        return format_amount(value, str(line["currency"]))
    return "" if value is None or value == -1 else str(value)


def finance_table(document: Mapping[str, Any], titles: Mapping[str, str]) -> FinanceTable:
    """The statement's lines with recording titles and amounts formatted for people."""
    lines = list(document.get("lines", ()))
    columns = _columns(lines, titles)
    return FinanceTable(columns, [[_cell(line, c, titles) for c in columns] for line in lines])


def statement_csv_major(document: Mapping[str, Any], titles: Mapping[str, str]) -> str:
    """The statement's lines as CSV with amounts in major units (``1234.56``) and titles;
    amount columns lose their ``_minor`` suffix, as their values are no longer minor units."""
    lines = list(document.get("lines", ()))
    columns = _columns(lines, titles)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.heading.replace(" ", "_") for c in columns])
    for line in lines:
        row = []
        for column in columns:
            value = line.get(column.key, "")
            if column.amount and isinstance(value, int) and "currency" in line:
                row.append(major_units(value, str(line["currency"])))
            elif column.key == "title" and "title" not in line:
                row.append(titles.get(str(line.get("isrc", "")), ""))
            else:
                row.append("" if value is None or value == -1 else str(value))
        writer.writerow(row)
    return buffer.getvalue()


def statement_filename(document: Mapping[str, Any], suffix: str) -> str:
    """``statement-2026-Q1-performer-7.csv``: what a download is saved as."""
    party = document["party"]
    return f"statement-{document['period']}-{party['kind']}-{party['id']}.{suffix}"


def statement_pdf(document: Mapping[str, Any], titles: Mapping[str, str]) -> bytes:
    """The statement as an A4 PDF: party, period, totals and every line."""
    try:
        from reportlab.lib import colors
        from reportlab.lib.pagesizes import A4, landscape
        from reportlab.lib.styles import getSampleStyleSheet
        from reportlab.lib.units import mm
        from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
    except ImportError:
        raise DependencyMissing(
            "PDF statements need ReportLab: pip install 'sostenuto[transparency]'"
        ) from None

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7, leading=9)
    right = small.clone("right", alignment=2)
    party = document["party"]
    title = f"{STATEMENT_TITLES.get(party['kind'], 'Statement')}: {party_label(party)}"
    totals = ", ".join(format_amount(v, c) for c, v in sorted(document.get("totals", {}).items()))
    story: list[Any] = [
        Paragraph(escape(title), styles["Title"]),
        Paragraph(
            f"Period {document['period']} ({document.get('start')} – {document.get('end')})",
            styles["Normal"],
        ),
        Paragraph(f"Total: <b>{totals or '—'}</b>", styles["Normal"]),
        Spacer(1, 4 * mm),
    ]
    held = document.get("held_minor") or {}
    if held:
        text = ", ".join(format_amount(v, c) for c, v in sorted(held.items()))
        story.append(Paragraph(f"Held until claimed: {text}", styles["Normal"]))
    table = finance_table(document, titles)
    if table.rows:
        header = [Paragraph(f"<b>{escape(c.heading)}</b>", small) for c in table.columns]
        body = [
            [
                Paragraph(escape(cell), right if column.amount else small)
                for cell, column in zip(row, table.columns, strict=True)
            ]
            for row in table.rows
        ]
        grid = Table([header, *body], repeatRows=1)
        grid.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story += [Paragraph("Lines", styles["Heading2"]), grid]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        title=title,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
    ).build(story)
    return buffer.getvalue()

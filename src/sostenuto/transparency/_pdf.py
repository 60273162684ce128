"""The training-content summary as a PDF (ReportLab, pure Python)."""

from __future__ import annotations

import io
from typing import Any

from sostenuto.errors import DependencyMissing


def summary_pdf(summary: dict[str, Any]) -> bytes:
    """Render a summary from :func:`training_summary` as an A4 PDF."""
    try:
        from reportlab.lib import colors
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.styles import getSampleStyleSheet
        from reportlab.lib.units import mm
        from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
    except ImportError:
        raise DependencyMissing(
            "PDF summaries need ReportLab: pip install 'sostenuto[transparency]'"
        ) from None

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    model = summary["general_information"]["model"]
    story: list[Any] = [
        Paragraph(f"Public summary of training content: {model['name']}", styles["Title"]),
        Paragraph(summary["template"], styles["Italic"]),
        Spacer(1, 4 * mm),
    ]

    def table(rows: list[list[Any]], widths: list[float] | None = None) -> Table:
        cells = [[Paragraph(str(c if c is not None else "—"), small) for c in row] for row in rows]
        t = Table(cells, colWidths=widths, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return t

    # The template's sections in its order and with its headings, as the web page shows them.
    for section in summary["template_sections"]:
        depth = section["number"].count(".")
        heading = (
            f"{section['number']}. {section['heading']}"
            if depth == 0
            else f"{section['number']} {section['heading']}"
        )
        story.append(Paragraph(heading, styles[("Heading2", "Heading3", "Heading4")[depth]]))
        if section["fields"]:
            story.append(
                table(
                    [["Field", "Value"]]
                    + [[field["label"], field["value"]] for field in section["fields"]],
                    [70 * mm, 100 * mm],
                )
            )
    if "annex_cmo" in summary:
        story += [
            Paragraph("Annex for CMOs: performers and recordings", styles["Heading2"]),
            table(
                [["Performer", "Recording (ISRC)", "Use", "Decision", "Opt-out"]]
                + [
                    [
                        row["performer"],
                        f"{row['title']} ({row['isrc']})",
                        row["use"],
                        f"{row['decision_id']} ({row['decision_outcome']})",
                        "—"
                        if row["opt_out"] is None
                        else f"from {row['opt_out']['effective_on']}: "
                        + ("honoured" if row["opt_out"]["honoured"] else "NOT honoured"),
                    ]
                    for row in summary["annex_cmo"]
                ],
                [36 * mm, 44 * mm, 22 * mm, 40 * mm, 28 * mm],
            ),
        ]
    log = summary["log"]
    story += [
        Spacer(1, 4 * mm),
        Paragraph(
            f"Filled from the transparency log at tree size {log['tree_size']}; "
            "the signed checkpoint below lets anyone verify it.",
            small,
        ),
        Paragraph((log["checkpoint"] or "").replace("\n", "<br/>"), small),
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"Training content summary: {model['name']}",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
    ).build(story)
    return buffer.getvalue()

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
    general = summary["general_information"]
    model = general["model"]
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

    story += [
        Paragraph("1. General information", styles["Heading2"]),
        table(
            [
                ["Item", "Value"],
                [
                    "Provider",
                    f"{general['provider']['name']} ({general['provider']['country'] or '—'})",
                ],
                ["Model", f"{model['name']} (id {model['id']})"],
                ["Versions", ", ".join(model["versions"]) or "—"],
                ["Base models", ", ".join(model["base_models"]) or "—"],
                ["Latest collection date", general["latest_collection_date"]],
                [
                    "Training period",
                    f"{general['training_period']['from']} – {general['training_period']['to']}",
                ],
            ]
            + [
                [
                    f"Modality: {m['modality']}",
                    f"{m['size_band']} ({m['hours']} h, {m['files']} files)",
                ]
                for m in general["modalities"]
            ],
            [50 * mm, 120 * mm],
        ),
        Paragraph("2. List of data sources", styles["Heading2"]),
        table(
            [["Section", "Files", "Hours", "Recordings", "Datasets / representatives"]]
            + [
                [
                    s["section"],
                    s["files"],
                    s["hours"],
                    s["identified_recordings"],
                    ", ".join(s["datasets"] + s.get("rightsholder_representatives", [])) or "—",
                ]
                for s in summary["data_sources"].values()
            ],
            [62 * mm, 16 * mm, 18 * mm, 20 * mm, 54 * mm],
        ),
        Paragraph("3. Data processing aspects", styles["Heading2"]),
        table(
            [["Item", "Value"]]
            + [
                [k.replace("_", " "), ", ".join(v) if isinstance(v, list) else v]
                for k, v in summary["data_processing"].items()
            ],
            [70 * mm, 100 * mm],
        ),
    ]
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

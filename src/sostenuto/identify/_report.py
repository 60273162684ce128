"""Screening reports: report.json (everything), report.csv (one row per file and recording)
and report.html (a page to read), each written atomically."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

_TEMPLATES = Path(__file__).with_name("templates")
_CSV_COLUMNS = [
    "path",
    "status",
    "sha256",
    "duration_s",
    "recording_id",
    "isrc",
    "title",
    "score",
    "query_start",
    "query_end",
    "reference_start",
    "reference_end",
    "outcome",
    "reason",
    "decision_id",
    "error",
]


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def csv_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for entry in report["files"]:
        base = {k: entry.get(k) for k in ("path", "status", "sha256", "duration_s", "error")}
        if not entry["recordings"]:
            rows.append(base)
        for found in entry["recordings"]:
            decision = found["decision"]
            rows.append(
                {
                    **base,
                    **{
                        k: found.get(k)
                        for k in (
                            "recording_id",
                            "isrc",
                            "title",
                            "score",
                            "query_start",
                            "query_end",
                            "reference_start",
                            "reference_end",
                        )
                    },
                    "outcome": decision.get("outcome"),
                    "reason": decision.get("reason"),
                    "decision_id": decision.get("id"),
                }
            )
    return rows


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(_TEMPLATES)), autoescape=select_autoescape(["html"])
    )


def render_html(report: dict[str, Any]) -> str:
    """The standalone report page (report.html)."""
    return _environment().get_template("screen_report.html").render(report=report)


def report_body_html(report: dict[str, Any]) -> str:
    """The report without page chrome, for the web page; every value is escaped."""
    return _environment().get_template("screen_body.html").render(report=report)


def write_reports(report: dict[str, Any], folder: Path) -> dict[str, Path]:
    """Write the three reports into ``folder``; return their paths by format."""
    paths = {fmt: folder / f"report.{fmt}" for fmt in ("json", "csv", "html")}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(csv_rows(report))
    _atomic_write(paths["csv"], buffer.getvalue())
    _atomic_write(paths["html"], render_html(report))
    # JSON last: its presence says the report is complete.
    _atomic_write(paths["json"], json.dumps(report, indent=1, default=str))
    return paths


def load_report(folder: Path) -> dict[str, Any]:
    from sostenuto.errors import NotFound

    try:
        value: dict[str, Any] = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFound(f"no screening report in {folder}") from None
    return value

"""The training-content summary follows the EU AI Office template (C(2025) 8311) section by
section: every heading in its order, every field filled from the log and registry or marked
"not declared", in JSON, on the web page and in the PDF."""

from __future__ import annotations

import base64
import re
import zlib
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from sostenuto.api import create_app
from sostenuto.auth import PUBLIC
from sostenuto.declarations import declare, training_summary
from sostenuto.errors import InvalidInput
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency import summary_pdf
from sostenuto.transparency._template import (
    NOT_APPLICABLE,
    NOT_DECLARED,
    merge_facts,
    template_sections,
)
from tests.transparency.conftest import World, build_world, manifest, sha

# The template's headings, written here from the template (not imported from the code).
EXPECTED = [
    ("1", "General information"),
    ("1.1", "Provider identification"),
    ("1.2", "Model identification"),
    ("1.3", "Modalities, overall training data size and other characteristics"),
    ("2", "List of data sources"),
    ("2.1", "Publicly available datasets"),
    ("2.2", "Private non-publicly available datasets obtained from third parties"),
    ("2.2.1", "Datasets commercially licensed by rightsholders or their representatives"),
    ("2.2.2", "Private datasets obtained from other third parties"),
    ("2.3", "Data crawled and scraped from online sources"),
    ("2.4", "User data"),
    ("2.5", "Synthetic data"),
    ("2.6", "Other sources of data"),
    ("3", "Data processing aspects"),
    ("3.1", "Respect of reservation of rights from text and data mining exception or limitation"),
    ("3.2", "Removal of illegal content"),
    ("3.3", "Other information"),
]
# The fields each section must carry (labels as the template words them).
REQUIRED_FIELDS = {
    "1.1": {
        "Provider name and contact details",
        "Authorised representative name and contact details",
    },
    "1.2": {
        "Versioned model name(s)",
        "Model dependencies",
        "Date of placement of the model on the Union market",
    },
    "1.3": {"Modality", "Training data size", "Types of content"},
    "2.3": {
        "Crawler name(s)/identifier(s)",
        "Purposes of the crawler(s)",
        "General description of crawler behaviour",
        "Period of data collection",
        "Top domain names crawled",
    },
    "2.5": {"Generating models of synthetic data"},
    "2.2.1": {"Rightsholders or their representatives"},
    "3.2": {"Measures to remove illegal content"},
    "3.3": {"Other information"},
}
FACTS = {
    "provider_contact": "legal@studio0.example, Musterstrasse 1, Berlin",
    "authorised_representative": "EU Rep GmbH, rep@eurep.example",
    "placed_on_market_on": "2026-06-01",
    "model_dependencies": ["base-audio-7b"],
    "content_types": ["musical recordings", "vocal stems"],
    "crawlers": [
        {
            "name": "StudioBot/1.0",
            "purpose": "collect openly licensed music for training",
            "behaviour": "honours robots.txt, TDMRep and AIPREF Content-Usage",
            "collected_from": "2025-09-01",
            "collected_to": "2025-12-31",
            "top_domains": ["freemusicarchive.org", "ccmixter.org"],
        }
    ],
    "synthetic_data_generators": ["tune-0 0.9"],
    "illegal_content_removal": "hash lists of known infringing files are filtered out",
    "other_information": "fine-tuning only",
}


def _sections(summary: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    found: dict[str, dict[str, list[str]]] = {}
    for section in summary["template_sections"]:
        fields: dict[str, list[str]] = {}
        for field in section["fields"]:
            fields.setdefault(field["label"], []).append(field["value"])
        found[section["number"]] = fields
    return found


def _declare_run(
    database: Database, settings: Settings, world: World, template: dict[str, Any] | None
) -> None:
    corpus = declare(database, settings, world.developer, "dataset-manifest", manifest(world))
    others = {
        "licensee_id": world.licensee,
        "name": "crawled and synthetic",
        "files": [
            {"sha256": sha("crawl"), "source": "crawled", "duration_s": 60.0},
            {"sha256": sha("synth"), "source": "synthetic", "duration_s": 30.0},
        ],
    }
    extra = declare(database, settings, world.developer, "dataset-manifest", others)
    run: dict[str, Any] = {
        "licensee_id": world.licensee,
        "model_id": world.model,
        "model_version": "1.0",
        "manifests": [corpus.entry_id, extra.entry_id],
        "started_on": "2026-03-01",
        "rights_reservation_protocols": ["tdmrep"],
    }
    if template is not None:
        run["template"] = template
    declare(database, settings, world.developer, "training-run", run)


def test_every_section_and_field_is_there_and_unknowns_say_not_declared(
    database: Database, settings: Settings, world: World
) -> None:
    _declare_run(database, settings, world, None)
    summary = training_summary(database, PUBLIC, world.model)
    assert [(s["number"], s["heading"]) for s in summary["template_sections"]] == EXPECTED
    sections = _sections(summary)
    for number, labels in REQUIRED_FIELDS.items():
        assert labels <= set(sections[number]), number
    # Parent headings carry no fields of their own; every data source says if it was used.
    for number in ("1", "2", "2.2", "3"):
        assert sections[number] == {}
    for number in ("2.1", "2.2.1", "2.2.2", "2.3", "2.4", "2.5", "2.6"):
        assert sections[number]["Used for training"] in (["yes"], ["no"])
    # What only the provider knows, and did not declare, says so.
    for number, label in [
        ("1.1", "Authorised representative name and contact details"),
        ("1.2", "Date of placement of the model on the Union market"),
        ("1.3", "Types of content"),
        ("2.3", "Crawler name(s)/identifier(s)"),
        ("2.3", "Top domain names crawled"),
        ("2.5", "Generating models of synthetic data"),
        ("3.2", "Measures to remove illegal content"),
        ("3.3", "Other information"),
    ]:
        assert sections[number][label] == [NOT_DECLARED], (number, label)
    # What the log and registry hold is filled.
    assert sections["1.1"]["Provider name and contact details"] == [
        f"Studio 0 (DE); contact {NOT_DECLARED}"
    ]
    assert sections["1.2"]["Versioned model name(s)"] == ["tune-0 1.0"]
    assert sections["1.3"]["Training data size"] == ["Less than 10,000 hours"]
    assert sections["2.2.1"]["Files"] == ["3"]
    assert sections["2.2.1"]["Rightsholders or their representatives"] == ["CMO 0"]
    assert sections["2.3"]["Used for training"] == ["yes"]
    assert sections["2.4"]["Used for training"] == ["no"]
    assert sections["2.4"]["Datasets"] == ["none"]
    assert sections["3.1"]["Rights reservation protocols honoured"] == ["tdmrep"]
    # Every value is text: filled or "not declared", never empty.
    assert all(f["value"] for s in summary["template_sections"] for f in s["fields"])


def test_declared_template_facts_fill_the_fields(
    database: Database, settings: Settings, world: World
) -> None:
    _declare_run(database, settings, world, FACTS)
    sections = _sections(training_summary(database, PUBLIC, world.model))
    assert sections["1.1"]["Provider name and contact details"] == [
        "Studio 0 (DE); legal@studio0.example, Musterstrasse 1, Berlin"
    ]
    assert sections["1.1"]["Authorised representative name and contact details"] == [
        "EU Rep GmbH, rep@eurep.example"
    ]
    assert sections["1.2"]["Model dependencies"] == ["base-audio-7b"]
    assert sections["1.2"]["Date of placement of the model on the Union market"] == ["2026-06-01"]
    assert sections["1.3"]["Types of content"] == ["musical recordings, vocal stems"]
    assert sections["2.3"]["Crawler name(s)/identifier(s)"] == ["StudioBot/1.0"]
    assert sections["2.3"]["Period of data collection"] == ["2025-09-01 to 2025-12-31"]
    assert sections["2.3"]["Top domain names crawled"] == ["freemusicarchive.org, ccmixter.org"]
    assert sections["2.3"]["General description of crawler behaviour"] == [
        "honours robots.txt, TDMRep and AIPREF Content-Usage"
    ]
    assert sections["2.5"]["Generating models of synthetic data"] == ["tune-0 0.9"]
    assert sections["3.2"]["Measures to remove illegal content"] == [
        "hash lists of known infringing files are filtered out"
    ]
    assert sections["3.3"]["Other information"] == ["fine-tuning only"]


def test_a_malformed_template_block_is_refused(
    sqlite_database: Database, settings: Settings
) -> None:
    world = build_world(sqlite_database)
    bad = {"crawlers": [{"name": "bot"}]}  # no purpose, no behaviour
    with pytest.raises(InvalidInput, match="purpose"):
        _declare_run(sqlite_database, settings, world, bad)
    with pytest.raises(InvalidInput, match="placed_on_market_on"):
        _declare_run(sqlite_database, settings, world, {"placed_on_market_on": "June"})


def _pdf_text(pdf: bytes) -> str:
    """The text operands of every page stream (ReportLab: ASCII85 then Flate)."""
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = raw.strip()
        try:
            if data.endswith(b"~>"):
                data = base64.a85decode(data, adobe=True)
            data = zlib.decompress(data)
        except (ValueError, zlib.error):
            continue
        out.append(b"".join(re.findall(rb"\((.*?)\) Tj", data, re.S)).decode("latin-1"))
    return " ".join(out)


def test_the_page_and_the_pdf_carry_the_same_sections(
    sqlite_database: Database, settings: Settings
) -> None:
    world = build_world(sqlite_database)
    _declare_run(sqlite_database, settings, world, None)
    client = TestClient(create_app(settings, sqlite_database))
    html = client.get(f"/transparency/models/{world.model}").text
    squeezed = re.sub(r"\s+", " ", html)
    for number, heading in EXPECTED:
        shown = f"{number}. {heading}" if "." not in number else f"{number} {heading}"
        assert shown in squeezed, shown
    assert squeezed.count(NOT_DECLARED) >= 8
    pdf = _pdf_text(summary_pdf(training_summary(sqlite_database, PUBLIC, world.model)))
    squeezed_pdf = re.sub(r"\s+", "", pdf)
    for number, heading in EXPECTED:
        shown = f"{number}. {heading}" if "." not in number else f"{number} {heading}"
        assert re.sub(r"\s+", "", shown) in squeezed_pdf, shown
    assert NOT_DECLARED.replace(" ", "") in squeezed_pdf


_labels = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12)
_facts = st.fixed_dictionaries(
    {},
    optional={
        "provider_contact": _labels,
        "authorised_representative": _labels,
        "placed_on_market_on": st.dates().map(str),
        "model_dependencies": st.lists(_labels, max_size=3),
        "content_types": st.lists(_labels, max_size=3),
        "synthetic_data_generators": st.lists(_labels, max_size=3),
        "illegal_content_removal": _labels,
        "other_information": _labels,
    },
)
_SOURCE = {"files": 0, "hours": 0.0, "identified_recordings": 0, "datasets": []}
_SUMMARY: dict[str, Any] = {
    "log": {"tree_size": 0},
    "general_information": {
        "provider": {"name": "P", "country": None},
        "model": {"id": 1, "name": "m", "versions": [], "base_models": []},
        "modalities": [{"modality": "audio", "size_band": "Less than 10,000 hours"}],
        "latest_collection_date": None,
        "training_period": {"from": None, "to": None},
    },
    "data_sources": {
        k: dict(_SOURCE) for k in ("public", "licensed", "private", "crawled", "user", "other")
    }
    | {"synthetic": {**_SOURCE, "files": 1}},  # used: its generators are "not declared"
    "data_processing": {
        "rights_reservation_protocols": [],
        "consent_decisions_cited": 0,
        "opt_outs_applicable": 0,
        "opt_outs_honoured": 0,
        "opt_outs_not_honoured": 0,
    },
}
# Where each declared fact lands.
_PLACE = {
    "authorised_representative": ("1.1", "Authorised representative name and contact details"),
    "placed_on_market_on": ("1.2", "Date of placement of the model on the Union market"),
    "model_dependencies": ("1.2", "Model dependencies"),
    "content_types": ("1.3", "Types of content"),
    "synthetic_data_generators": ("2.5", "Generating models of synthetic data"),
    "illegal_content_removal": ("3.2", "Measures to remove illegal content"),
    "other_information": ("3.3", "Other information"),
}


@hsettings(max_examples=200, deadline=None)
@given(runs=st.lists(_facts, max_size=3))
def test_each_field_is_the_last_declared_value_or_not_declared(runs: list[dict[str, Any]]) -> None:
    sections = _sections({"template_sections": template_sections(_SUMMARY, merge_facts(runs))})
    assert [n for n, _ in EXPECTED] == list(sections)
    for key, (number, label) in _PLACE.items():
        values = [run[key] for run in runs if key in run]
        if isinstance(values[0] if values else None, list):
            united = list(dict.fromkeys(v for value in values for v in value))
            expected = ", ".join(united) if united else NOT_DECLARED
        else:
            expected = values[-1] if values else NOT_DECLARED
        assert sections[number][label] == [expected], key


def test_fields_of_an_unused_source_are_not_applicable() -> None:
    unused = {**_SUMMARY, "data_sources": {**_SUMMARY["data_sources"], "synthetic": _SOURCE}}
    sections = _sections({"template_sections": template_sections(unused, merge_facts([]))})
    assert sections["2.5"]["Generating models of synthetic data"] == [NOT_APPLICABLE]
    assert sections["2.3"]["Crawler name(s)/identifier(s)"] == [NOT_APPLICABLE]
    assert sections["2.2.1"]["Rightsholders or their representatives"] == ["none"]
    # Declared anyway, it is shown.
    declared = merge_facts([{"synthetic_data_generators": ["gen-1"]}])
    sections = _sections({"template_sections": template_sections(unused, declared)})
    assert sections["2.5"]["Generating models of synthetic data"] == ["gen-1"]

"""The EU AI Office template (C(2025) 8311) section by section, every field filled or marked.

``training_summary`` computes the facts; this module lays them out under the template's own
headings so that HTML, PDF and JSON carry the same sections in the same order, and a field
the log and registry do not hold reads "not declared" instead of silently disappearing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

NOT_DECLARED = "not declared"
NOT_APPLICABLE = "not applicable"  # the source was not used: nothing to declare about it

# (number, heading) in template order. A parent heading (1, 2, 2.2, 3) has no fields of its
# own: its subsections carry them.
HEADINGS: tuple[tuple[str, str], ...] = (
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
)
# The template's data-source subsection of each manifest ``source``.
SOURCE_NUMBERS = {
    "public": "2.1",
    "licensed": "2.2.1",
    "private": "2.2.2",
    "crawled": "2.3",
    "user": "2.4",
    "synthetic": "2.5",
    "other": "2.6",
}
TITLES = dict(HEADINGS)


def _text(value: Any) -> str:
    """A field's value as text; nothing declared reads as such."""
    if value is None or value == "" or value == []:
        return NOT_DECLARED
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _fields(pairs: Iterable[tuple[str, Any]]) -> list[dict[str, str]]:
    return [{"label": label, "value": _text(value)} for label, value in pairs]


def _source_fields(source: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("Used for training", "yes" if source["files"] else "no"),
        ("Files", source["files"]),
        ("Hours of audio", source["hours"]),
        ("Identified recordings", source["identified_recordings"]),
        ("Datasets", source["datasets"] or "none"),
    ]


def _unless_unused(source: Mapping[str, Any], value: Any) -> Any:
    """A declared value; else "not applicable" for an unused source, "not declared" for one
    the log shows was used."""
    if value or source["files"]:
        return value
    return NOT_APPLICABLE


def _crawler_fields(
    source: Mapping[str, Any], crawlers: list[Mapping[str, Any]]
) -> list[tuple[str, Any]]:
    if not crawlers:
        missing = _unless_unused(source, None)
        return [
            ("Crawler name(s)/identifier(s)", missing),
            ("Purposes of the crawler(s)", missing),
            ("General description of crawler behaviour", missing),
            ("Period of data collection", missing),
            ("Top domain names crawled", missing),
        ]
    rows: list[tuple[str, Any]] = []
    for crawler in crawlers:
        start, end = crawler.get("collected_from"), crawler.get("collected_to")
        period = f"{start or NOT_DECLARED} to {end or NOT_DECLARED}" if start or end else None
        rows += [
            ("Crawler name(s)/identifier(s)", crawler["name"]),
            ("Purposes of the crawler(s)", crawler["purpose"]),
            ("General description of crawler behaviour", crawler["behaviour"]),
            ("Period of data collection", period),
            ("Top domain names crawled", crawler.get("top_domains")),
        ]
    return rows


def template_sections(summary: Mapping[str, Any], facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The summary as the template's sections: ``{"number", "heading", "fields"}`` in order.

    ``facts`` are the provider's declarations merged over its training runs
    (:class:`~sostenuto.transparency._entries.TemplateFacts` as a dict).
    """
    general = summary["general_information"]
    model = general["model"]
    provider = general["provider"]
    sources = summary["data_sources"]
    processing = summary["data_processing"]
    period = general["training_period"]
    provider_line = provider["name"] + (f" ({provider['country']})" if provider["country"] else "")
    contact = facts.get("provider_contact")
    fields: dict[str, list[tuple[str, Any]]] = {
        "1.1": [
            (
                "Provider name and contact details",
                f"{provider_line}; {contact}"
                if contact
                else f"{provider_line}; contact {NOT_DECLARED}",
            ),
            (
                "Authorised representative name and contact details",
                facts.get("authorised_representative"),
            ),
        ],
        "1.2": [
            (
                "Versioned model name(s)",
                [f"{model['name']} {version}" for version in model["versions"]],
            ),
            ("Model dependencies", facts.get("model_dependencies") or model["base_models"]),
            (
                "Date of placement of the model on the Union market",
                facts.get("placed_on_market_on"),
            ),
        ],
        "1.3": [
            pair
            for modality in general["modalities"]
            for pair in (
                ("Modality", modality["modality"]),
                ("Training data size", modality["size_band"]),
                ("Types of content", facts.get("content_types")),
            )
        ]
        + [("Latest date of data collection", general["latest_collection_date"])],
        "2.3": _source_fields(sources["crawled"])
        + _crawler_fields(sources["crawled"], facts.get("crawlers", [])),
        "2.5": [
            *_source_fields(sources["synthetic"]),
            (
                "Generating models of synthetic data",
                _unless_unused(sources["synthetic"], facts.get("synthetic_data_generators")),
            ),
        ],
        "3.1": [
            ("Rights reservation protocols honoured", processing["rights_reservation_protocols"]),
            ("Consent decisions cited", processing["consent_decisions_cited"]),
            ("Opt-outs that applied", processing["opt_outs_applicable"]),
            ("Opt-outs honoured", processing["opt_outs_honoured"]),
            ("Opt-outs not honoured", processing["opt_outs_not_honoured"]),
        ],
        "3.2": [("Measures to remove illegal content", facts.get("illegal_content_removal"))],
        "3.3": [
            ("Other information", facts.get("other_information")),
            (
                "Training period (from the log)",
                f"{period['from']} to {period['to']}" if period["from"] else None,
            ),
            ("Transparency log tree size of this summary", summary["log"]["tree_size"]),
        ],
    }
    for key, number in SOURCE_NUMBERS.items():
        if number not in fields:
            fields[number] = _source_fields(sources[key])
    fields["2.2.1"].append(
        (
            "Rightsholders or their representatives",
            sources["licensed"].get("rightsholder_representatives") or "none",
        )
    )
    return [
        {"number": number, "heading": heading, "fields": _fields(fields.get(number, []))}
        for number, heading in HEADINGS
    ]


def merge_facts(declared: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The template facts of several runs, in log order: a later value replaces an earlier
    one, lists are united (crawlers by name)."""
    merged: dict[str, Any] = {}
    crawlers: dict[str, Mapping[str, Any]] = {}
    for facts in declared:
        for key, value in facts.items():
            if key == "crawlers":
                crawlers.update({c["name"]: c for c in value})
            elif isinstance(value, list):
                merged[key] = list(dict.fromkeys([*merged.get(key, []), *value]))
            elif value is not None:
                merged[key] = value
    merged["crawlers"] = list(crawlers.values())
    return merged

"""AIPREF strings are RFC 9651 Dictionaries of the vocabulary (parsed with http-sfv), others'
unknown labels are ignored, and a CMO's malformed or unknown statement is refused."""

from __future__ import annotations

import string

import pytest
from fastapi.testclient import TestClient
from http_sfv.dictionary import Dictionary
from http_sfv.types import Token
from hypothesis import given
from hypothesis import strategies as st

from sostenuto.api import create_app
from sostenuto.consent import export_reservations, parse_content_usage, read_content_usage
from sostenuto.consent._aipref_export import preferences
from sostenuto.errors import InvalidInput
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.consent import ConsentRule
from sostenuto.vocabulary import USES
from tests.standards.conftest import Catalogue

pytestmark = pytest.mark.usefixtures("history_clock")


def _sfv(value: str) -> dict[str, str]:
    parsed = Dictionary()
    parsed.parse(value.encode("ascii"))
    found = {}
    for key, member in parsed.items():
        assert isinstance(member.value, Token), f"{key} is not a token in {value!r}"
        found[key] = str(member.value)
    return found


def test_every_exported_string_is_a_vocabulary_dictionary(
    settings: Settings, database: Database, catalogue: Catalogue
) -> None:
    with database.reader() as session:
        document = export_reservations(session, format="aipref", cmo_id=catalogue.cmo)
    values = [p["content_usage"] for p in document["preferences"] + document["pages"]]
    assert any(values)
    for value in filter(None, values):
        parsed = _sfv(value)
        assert set(parsed) <= {"train-ai", "search"} and set(parsed.values()) <= {"y", "n"}
    # A permission against remuneration is no unconditional yes: left unknown, and said so.
    paid = [
        p
        for p in document["preferences"]
        if p["target"].endswith(f"/performer/{catalogue.paid}/recordings")
    ]
    assert [p["content_usage"] for p in paid] == [""]
    assert "remuneration" in paid[0]["not_expressed"][0]["why"]
    assert paid[0]["not_expressed"][0]["see"] == document["policy"]
    client = TestClient(create_app(settings, database))
    robots = client.get(f"/api/v1/standards/cmos/{catalogue.cmo}/robots.txt")
    assert robots.headers["content-type"].startswith("text/plain")
    rules = [line for line in robots.text.splitlines() if line.startswith("Content-Usage:")]
    assert rules
    for rule in rules:
        path, value = rule.removeprefix("Content-Usage:").strip().split(" ", 1)
        assert path.startswith("/") and _sfv(value) == {"train-ai": "n"}
    isrc = catalogue.recordings[catalogue.refusing["voice-clone"]][0]
    page = client.get(f"/api/v1/standards/cmos/{catalogue.cmo}/recordings/{isrc}")
    assert _sfv(page.headers["content-usage"]) == {"train-ai": "n"}
    free_only = catalogue.recordings[catalogue.free][0]
    quiet = client.get(f"/api/v1/standards/cmos/{catalogue.cmo}/recordings/{free_only}")
    assert quiet.status_code == 200 and "content-usage" not in quiet.headers


LABEL = st.text(
    alphabet=string.ascii_lowercase + string.digits + "-_.*", min_size=1, max_size=12
).filter(lambda s: s[0].isalpha() and s not in ("train-ai", "search"))


@given(
    known=st.dictionaries(st.sampled_from(["train-ai", "search"]), st.sampled_from(["y", "n"])),
    unknown=st.dictionaries(LABEL, st.sampled_from(["y", "n", "?1", '"n"', "5"]), max_size=4),
)
def test_unknown_labels_from_others_are_ignored(
    known: dict[str, str], unknown: dict[str, str]
) -> None:
    members = [f"{k}={v}" for k, v in unknown.items()] + [f"{k}={v}" for k, v in known.items()]
    assert read_content_usage(", ".join(members)) == known


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("train-ai=no", "token y or n"),
        ("train-genai=n", "unknown AIPREF label 'train-genai'"),
        ("sos-voice-clone=n", "unknown AIPREF label"),
        ("train-ai=n,, search=y", "not an RFC 9651 Dictionary"),
        ("Train-AI=n", "not an RFC 9651 Dictionary"),
        ('train-ai="n"', "token y or n"),
        ("", "empty"),
        ("train-ai=n, search=y\u00e9", "ASCII"),
    ],
)
def test_a_cmos_bad_statement_is_refused(value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_content_usage(value)
    # The same string from someone else is no error: it says nothing it cannot say.
    assert set(read_content_usage(value)) <= {"train-ai", "search"}


def test_a_cmos_good_statement_is_read() -> None:
    assert parse_content_usage("train-ai=n, search=y;note=1") == {"train-ai": "n", "search": "y"}


RULES = st.lists(
    st.tuples(
        st.sampled_from(["permit", "prohibit"]),
        st.lists(st.sampled_from(sorted(USES)), min_size=1, max_size=3, unique=True),
        st.lists(st.sampled_from(["remuneration", "attribution", "labelling"]), unique=True),
        st.sampled_from([["WW"], ["ES"], ["ES", "SE"]]),
    ),
    max_size=6,
)


@given(rules=RULES)
def test_preferences_are_honest(rules: list[tuple[str, list[str], list[str], list[str]]]) -> None:
    rows = [
        ConsentRule(
            id=i + 1,
            effect=effect,
            uses=uses,
            territories=places,
            conditions=conditions if effect == "permit" else [],
        )
        for i, (effect, uses, conditions, places) in enumerate(rules)
    ]
    prefs, notes = preferences(rows, "https://example.org/policy")
    value = ", ".join(f"{k}={v}" for k, v in prefs.items())
    assert read_content_usage(value) == prefs  # a well-formed vocabulary Dictionary
    training = {"train-ai", "train-genai", "fine-tune", "voice-clone"}
    for row in rows:
        if row.effect == "prohibit" and training & set(row.uses):
            assert prefs.get("train-ai") == "n"  # a refusal is never invisible
        if row.effect == "prohibit" and "search-index" in row.uses:
            assert prefs.get("search") == "n"
    for category, uses in (("train-ai", {"train-ai", "train-genai"}), ("search", {"search-index"})):
        if prefs.get(category) == "y":  # only from an unconditional, worldwide permission
            assert any(
                r.effect == "permit" and uses & set(r.uses) and not r.conditions
                and r.territories == ["WW"] for r in rows
            )  # fmt: skip
    for row in rows:  # every duty AIPREF cannot carry is said, with where to read it
        if row.effect == "permit" and row.conditions:
            assert any(n["rule"] == row.id and n["see"] for n in notes)

"""A crawler written from the AIPREF and TDMRep texts alone (nothing of Sostenuto's exporter is
imported) finds every reservation of a CMO whose performers refuse train-genai, fine-tune and
voice cloning, on every page of their recordings.

Reader rules, each from its text:
- draft-ietf-aipref-attach 3 (robots.txt): in the group for ``*``, the Content-Usage rule with
  the longest matching path prefix applies to a crawlable path; the value is a Structured
  Fields Dictionary (RFC 9651) processed as draft-ietf-aipref-vocab says: only the labels
  ``train-ai`` and ``search``, the Tokens ``y``/``n``; anything else is unknown.
- draft-ietf-aipref-attach 2 (Content-Usage header) gives the same statement for the page;
  statements combine with "any disallow wins" (vocab, Combining Preferences).
- TDMRep, TDM File on the Origin Server: ``/.well-known/tdmrep.json`` is an array of rules
  whose ``location`` pattern (robots.txt syntax: ``*`` any characters, ``$`` end) matches the
  path; the first matching rule applies; ``tdm-policy`` names an ODRL Offer whose ``tdm:mine``
  permission carries the duties.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from http_sfv.dictionary import Dictionary
from http_sfv.types import Token

from sostenuto.api import create_app
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.standards.conftest import Catalogue

pytestmark = pytest.mark.usefixtures("history_clock")
CATEGORIES = ("train-ai", "search")


def preferences(value: str) -> dict[str, str]:
    parsed = Dictionary()
    try:
        parsed.parse(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return {}
    found = {}
    for label in CATEGORIES:
        member = parsed.get(label)
        if member is not None and isinstance(member.value, Token) and str(member.value) in "yn":
            found[label] = str(member.value)
    return found


def combine(*statements: dict[str, str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for label in CATEGORIES:
        said = [s[label] for s in statements if label in s]
        if said:
            result[label] = "n" if "n" in said else "y"
    return result


def pattern(path_pattern: str) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "$" if c == "$" else re.escape(c) for c in path_pattern)
    return re.compile(regex)


def robots_preferences(robots: str, path: str) -> dict[str, str]:
    groups: list[tuple[list[str], list[tuple[str, str]]]] = []
    for raw in robots.splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        field, value = (part.strip() for part in line.split(":", 1))
        if field.lower() == "user-agent":
            if not groups or groups[-1][1]:
                groups.append(([], []))
            groups[-1][0].append(value)
        elif groups:
            groups[-1][1].append((field.lower(), value))
    rules = next(rules for agents, rules in groups if "*" in agents)
    disallowed = [v for f, v in rules if f == "disallow" and v and pattern(v).match(path)]
    allowed = [v for f, v in rules if f == "allow" and pattern(v).match(path)]
    if disallowed and max(map(len, disallowed)) > max(map(len, allowed), default=-1):
        return {}  # not crawlable: no preferences apply
    usage = []
    for field, value in rules:
        if field == "content-usage":
            rule_path, _, statement = value.partition(" ")
            if pattern(rule_path).match(path):
                usage.append((len(rule_path), statement.strip()))
    if not usage:
        return {}
    longest = max(length for length, _ in usage)
    return combine(*(preferences(s) for length, s in usage if length == longest))


def tdm_rule(entries: list[dict[str, object]], path: str) -> dict[str, object] | None:
    for entry in entries:
        if pattern(str(entry["location"])).match(path):
            return entry
    return None


def test_a_reader_of_the_texts_finds_every_reservation(
    settings: Settings, database: Database, catalogue: Catalogue
) -> None:
    client = TestClient(create_app(settings, database), base_url="https://catalogue.example")
    # Where the CMO's catalogue site serves them; the site's pages are /recordings/<ISRC>.
    robots = client.get(f"/api/v1/standards/cmos/{catalogue.cmo}/robots.txt").text
    tdmrep = client.get("/.well-known/tdmrep.json").json()
    policies: dict[str, dict[str, object]] = {}

    def read(isrc: str) -> tuple[dict[str, str], set[str] | None]:
        path = f"/recordings/{isrc}"
        header = client.get(f"/api/v1/standards/cmos/{catalogue.cmo}/recordings/{isrc}")
        prefs = combine(
            robots_preferences(robots, path), preferences(header.headers.get("content-usage", ""))
        )
        rule = tdm_rule(tdmrep, path)
        if rule is None or rule["tdm-reservation"] != 1:
            return prefs, None
        url = str(rule["tdm-policy"])
        policy = policies.setdefault(url, client.get(url).json())
        duties: set[str] = set()
        for permission in policy["permission"]:  # type: ignore[union-attr]
            if (
                permission["action"] == "tdm:mine"
                and permission.get("target") == f"urn:isrc:{isrc}"
            ):
                duties |= {duty["action"] for duty in permission.get("duty", [])}
        return prefs, duties

    for use, performer in catalogue.refusing.items():
        for isrc in catalogue.recordings[performer]:
            prefs, duties = read(isrc)
            assert prefs.get("train-ai") == "n", f"{use} refusal invisible on {isrc}"
            assert duties == {"obtainConsent"}, f"{use} refusal not reserved on {isrc}"
    # Remunerated: reserved against payment, and never an unconditional yes.
    for isrc in catalogue.recordings[catalogue.paid]:
        prefs, duties = read(isrc)
        assert "train-ai" not in prefs and duties == {"compensate"}
    # Nothing reserved where no one reserved anything.
    refused = {i for p in catalogue.refusing.values() for i in catalogue.recordings[p]}
    own = [i for i in catalogue.recordings[catalogue.free] if i not in refused]
    assert own
    for isrc in own:
        assert read(isrc) == ({}, None)

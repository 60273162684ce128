"""Every page and form, whoever added it, is listed here with the roles that may use it, and
every other role is refused it — read from the application's routes, so a new page cannot be
left out.

The per-page tests (`test_page_authorization.py`, `test_office_*.py`, `test_console_*.py`)
check tenants against each other with real objects; this one checks roles on every route.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from sostenuto.api import create_app
from sostenuto.api._routing import api_routes
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.web.conftest import World, app_client, sign_in

EVERYONE = frozenset({"", "performer", "cmo-admin", "licensee", "auditor"})
SIGNED_IN = EVERYONE - {""}
ROLE_OF = {"": "", "lucia": "performer", "marta": "cmo-admin", "aurora": "licensee"}
ROLE_OF |= {"greta": "cmo-admin", "audra": "auditor"}
PERFORMER = frozenset({"performer"})
CMO = frozenset({"cmo-admin"})
LICENSEE = frozenset({"licensee"})

# (method, path) -> the roles that may use it ("" is the anonymous visitor).
ACCESS: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/"): EVERYONE,
    ("GET", "/sign-in"): EVERYONE,
    ("POST", "/sign-in"): EVERYONE,
    ("POST", "/sign-out"): EVERYONE,
    # Public: labels, the log, reservations, training summaries.
    ("GET", "/transparency"): EVERYONE,
    ("GET", "/transparency/models/{model_id}"): EVERYONE,
    ("GET", "/label/inspect"): EVERYONE,
    ("POST", "/label/inspect"): EVERYONE,
    ("GET", "/label/inspect/{sha256}"): EVERYONE,
    ("GET", "/embed/label/{sha256}"): EVERYONE,
    ("GET", "/oembed"): EVERYONE,
    ("GET", "/log"): EVERYONE,
    ("POST", "/log/search"): EVERYONE,
    ("GET", "/log/hash/{sha256}"): EVERYONE,
    ("GET", "/log/entries/{index}"): EVERYONE,
    ("GET", "/log/verify"): EVERYONE,
    ("POST", "/log/verify"): EVERYONE,
    ("GET", "/reservations"): EVERYONE,
    ("GET", "/reservations/{cmo_code}"): EVERYONE,
    # Statements: each signed-in party its own (the service cuts them to the caller).
    ("GET", "/remuneration"): EVERYONE,
    ("GET", "/remuneration/{period}"): SIGNED_IN,
    ("GET", "/remuneration/{period}/{kind}/{party_id}"): SIGNED_IN,
    ("GET", "/remuneration/{period}/{kind}/{party_id}/statement.csv"): SIGNED_IN,
    ("GET", "/remuneration/{period}/{kind}/{party_id}/statement.pdf"): SIGNED_IN,
    # Screenings: voice for CMOs, licensees and auditors; corpus reports not for CMOs.
    ("GET", "/voice/screenings"): frozenset({"cmo-admin", "licensee", "auditor"}),
    ("GET", "/voice/screenings/{screening_id}"): frozenset({"cmo-admin", "licensee", "auditor"}),
    ("GET", "/identify/screens"): frozenset({"licensee", "auditor"}),
    ("GET", "/identify/screens/{screen_id}"): frozenset({"licensee", "auditor"}),
    # The performer's page.
    ("GET", "/me"): PERFORMER,
    ("POST", "/me/requests"): PERFORMER,
    ("POST", "/me/requests/lift"): PERFORMER,
    # The CMO's office.
    ("GET", "/office"): CMO,
    ("GET", "/office/catalogue"): CMO,
    ("GET", "/office/requests"): CMO,
    ("GET", "/office/requests/{request_id}"): CMO,
    ("POST", "/office/requests/{request_id}/apply"): CMO,
    ("POST", "/office/requests/{request_id}/decline"): CMO,
    ("GET", "/office/import"): CMO,
    ("POST", "/office/import"): CMO,
    ("GET", "/office/import/{job_id}"): CMO,
    ("GET", "/office/import/{job_id}/status"): CMO,
    ("GET", "/office/import/{job_id}/bad-rows.csv"): CMO,
    ("GET", "/office/licences"): CMO,
    ("GET", "/office/agreements"): CMO,
    ("GET", "/office/recordings/{isrc}"): CMO,
    ("GET", "/office/performers/{performer_id}"): CMO,
    ("GET", "/office/remuneration"): CMO,
    ("POST", "/office/remuneration/runs"): CMO,
    ("GET", "/office/audio"): CMO,
    ("POST", "/office/audio"): CMO,
    ("GET", "/office/rules"): CMO,
    ("POST", "/office/rules/permit"): CMO,
    ("POST", "/office/rules/prohibit"): CMO,
    ("POST", "/office/rules/opt-out"): CMO,
    ("POST", "/office/rules/{rule_id}/revoke"): CMO,
    # The licensee's console.
    ("GET", "/console"): LICENSEE,
    ("POST", "/console/decisions"): LICENSEE,
    ("GET", "/console/decisions/{decision_id}"): LICENSEE,
    ("GET", "/console/batch"): LICENSEE,
    ("POST", "/console/batch"): LICENSEE,
    ("GET", "/console/batch/{lookup_id}"): LICENSEE,
    ("GET", "/console/batch/{lookup_id}/results.csv"): LICENSEE,
    ("GET", "/console/corpus"): LICENSEE,
    ("POST", "/console/corpus"): LICENSEE,
    ("GET", "/console/corpus/{job_id}"): LICENSEE,
    ("GET", "/console/corpus/{job_id}/progress"): LICENSEE,
    ("POST", "/console/corpus/{job_id}/declare"): LICENSEE,
    ("GET", "/console/corpus/{job_id}/receipt.json"): LICENSEE,
    ("GET", "/console/outputs"): LICENSEE,
    ("POST", "/console/outputs"): LICENSEE,
    ("GET", "/console/outputs/{output_id}"): LICENSEE,
    ("GET", "/console/outputs/{output_id}/file"): LICENSEE,
    ("GET", "/console/outputs/{output_id}/receipt.json"): LICENSEE,
    ("GET", "/console/receipts"): LICENSEE,
}

# Well-formed values for path parameters: a refusal must come from the role, not from a
# malformed address.
SAMPLES = {
    "period": "2026-11",
    "kind": "performer",
    "sha256": "0" * 64,
    "cmo_code": "AIE",
}
# Served by the API's modules, not pages: C2SP tiles, witness, documents.
NOT_PAGES = ("/api/", "/log/tile/", "/log/checkpoint", "/witness/", "/.well-known/")
# Pages that answer only with a query (oEmbed needs ``url``).
NEEDS_QUERY = {"/oembed"}
NOT_PAGES_EXACT = {"/openapi.json", "/docs", "/redoc", "/odrl/profile/v1", "/robots.txt"}


def _pages(app: object) -> set[tuple[str, str]]:
    found = set()
    for routed in api_routes(app):  # type: ignore[arg-type]
        path = routed.path_format
        if path.startswith(NOT_PAGES) or path in NOT_PAGES_EXACT or path.startswith("/docs/"):
            continue
        found |= {(method, path) for method in routed.methods - {"HEAD"}}
    return found


def _concrete(path: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: SAMPLES.get(m.group(1), "1"), path)


def test_every_page_is_listed_with_its_roles(settings: Settings, sqlite_database: Database) -> None:
    pages = _pages(create_app(settings, sqlite_database))
    unlisted = sorted(pages - set(ACCESS))
    assert not unlisted, f"pages missing from ACCESS (say who may use them): {unlisted}"
    gone = sorted(set(ACCESS) - pages)
    assert not gone, f"ACCESS lists pages that no longer exist: {gone}"


@pytest.fixture
def signed_in(
    sqlite_database: Database, settings: Settings, world: World
) -> dict[str, tuple[TestClient, str]]:
    clients = {}
    for username in ROLE_OF:
        client = app_client(sqlite_database, settings)
        clients[username] = (client, sign_in(client, username) if username else "")
    return clients


def test_every_other_role_is_refused_every_page(
    signed_in: dict[str, tuple[TestClient, str]],
) -> None:
    refused = opened = 0
    wrong = []
    for (method, path), roles in sorted(ACCESS.items()):
        if path in ("/sign-in", "/sign-out"):
            continue
        for username, (client, csrf) in signed_in.items():
            role = ROLE_OF[username]
            data = {"csrf_token": csrf} if method == "POST" else None
            answer = client.request(method, _concrete(path), data=data, follow_redirects=False)
            if role not in roles:
                expected = {401, 403} if not username else {403}
                if "{" in path:
                    expected.add(404)  # an object's page may also hide that it exists
                refused += 1
                if answer.status_code not in expected:
                    wrong.append(f"{username or 'anonymous'} {method} {path}: {answer.status_code}")
            elif method == "GET" and "{" not in path and path not in NEEDS_QUERY:
                opened += 1
                if answer.status_code != 200:
                    wrong.append(f"{username or 'anonymous'} {method} {path}: {answer.status_code}")
    assert not wrong, "\n".join(wrong)
    assert refused > 150 and opened > 40

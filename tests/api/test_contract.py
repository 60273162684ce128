"""The OpenAPI document as a contract: stable ids, summaries, descriptions, errors, examples;
and documentation pages that load nothing from outside the service."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from sostenuto.api import create_app
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.serving import CHROMIUM, chromium, served_app

PINNED = Path(__file__).with_name("operation_ids.txt")
METHODS = {"get", "put", "post", "delete", "patch"}
PROBLEM_REF = "#/components/schemas/Problem"


@pytest.fixture
def app(settings: Settings, sqlite_database: Database) -> FastAPI:
    return create_app(settings, sqlite_database)


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in METHODS
    ]


def test_operation_ids_are_pinned(app: FastAPI) -> None:
    """Adding, removing or renaming an operation changes ``operation_ids.txt`` in the same
    change (``SOSTENUTO_UPDATE_OPERATION_IDS=1`` rewrites it)."""
    ids = [op["operationId"] for _, _, op in _operations(app.openapi())]
    assert len(ids) == len(set(ids)), "operation ids must be unique"
    lines = sorted(
        f"{op['operationId']} {method} {path}" for method, path, op in _operations(app.openapi())
    )
    text = "\n".join(lines) + "\n"
    if os.environ.get("SOSTENUTO_UPDATE_OPERATION_IDS"):
        PINNED.write_text(text)
    assert text == PINNED.read_text(), (
        "the operations changed: write their ids in sostenuto/api/contract.py and update "
        f"{PINNED.name} (SOSTENUTO_UPDATE_OPERATION_IDS=1)"
    )


def test_operation_ids_follow_the_scheme(app: FastAPI) -> None:
    for method, path, operation in _operations(app.openapi()):
        assert re.fullmatch(r"[a-z]+(\.[a-z][a-z-]*)+", operation["operationId"]), (
            f"{method} {path}: operationId {operation['operationId']!r} is not area.resource.verb"
        )


def _signed_in(operation: dict[str, Any]) -> bool:
    security = operation.get("security") or []
    return bool(security) and {} not in security


def test_every_operation_is_documented(app: FastAPI) -> None:
    document = app.openapi()
    gaps = []
    for method, path, operation in _operations(document):
        name = f"{method} {path}"
        for member in ("summary", "description", "operationId"):
            if not operation.get(member):
                gaps.append(f"{name}: no {member}")
        responses = operation["responses"]
        needed = {"422"} | ({"401", "403"} if _signed_in(operation) else set())
        if "{" in path:
            needed.add("404")
        for status in sorted(needed):
            content = responses.get(status, {}).get("content", {})
            schema = content.get("application/problem+json", {}).get("schema", {})
            if schema.get("$ref") != PROBLEM_REF:
                gaps.append(f"{name}: {status} is not documented as a problem document")
        body = operation.get("requestBody")
        if body is not None:
            media = body["content"]
            if not any("example" in c or "examples" in c for c in media.values()):
                gaps.append(f"{name}: no request example")
    assert not gaps, "\n".join(gaps)


def test_examples_match_their_schemas(app: FastAPI) -> None:
    """A request or response example is a valid instance of the schema it illustrates."""
    document = app.openapi()
    wrong = []
    for method, path, operation in _operations(document):
        contents = list(operation.get("requestBody", {}).get("content", {}).values())
        for response in operation["responses"].values():
            contents += list(response.get("content", {}).values())
        for content in contents:
            if "example" not in content or "schema" not in content:
                continue
            schema = {**content["schema"], "components": document["components"]}
            for error in Draft202012Validator(schema).iter_errors(content["example"]):
                wrong.append(f"{method} {path}: {error.message}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_documentation_pages_load_only_local_assets(app: FastAPI, page: str) -> None:
    client = TestClient(app)
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert not re.findall(r"https?://", html), "the page names an outside URL"
    urls = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
    urls += re.findall(r'spec-url="([^"]+)"', html)
    assert any(url.endswith(".js") for url in urls)
    for url in urls:
        assert url.startswith("/"), url
        assert client.get(url).status_code == 200, url


REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture
def served(app: FastAPI) -> Iterator[str]:
    with served_app(app) as url:
        yield url


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_documentation_pages_render_offline(served: str) -> None:
    """Swagger UI and ReDoc render every operation with every outside request refused."""
    from playwright.sync_api import Route

    outside: list[str] = []

    def local_only(route: Route) -> None:
        if route.request.url.startswith(served):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with chromium() as browser:
        page = browser.new_page()
        page.route("**/*", local_only)
        page.goto(served + "/docs")
        page.wait_for_selector("text=Decide one use of one recording", timeout=30_000)
        assert page.locator(".opblock").count() >= 70
        page.goto(served + "/redoc")
        page.wait_for_selector(
            "h2:has-text('Decide one use of one recording')", state="attached", timeout=30_000
        )
    # ReDoc's attribution logo is the one outside request; refused, the image hides itself.
    assert set(outside) <= {REDOC_LOGO}, outside

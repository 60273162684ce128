"""Every integer and string the API takes is bounded at the edge; errors always render.

The OpenAPI document is walked, so a route added later is checked without being listed here:
an integer beyond 64 bits or a negative one in a path or query parameter, an integer beyond 64
bits or an overlong string in a body field, all come back as a 4xx RFC 9457 problem document,
anonymously and with a token, never as a 500.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from sostenuto.api import create_app
from sostenuto.api.problems import problem
from sostenuto.auth import issue_token
from sostenuto.errors import InvalidInput
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Cmo, Licensee, Performer

HUGE = 2**64 + 7  # beyond any 64-bit column, and beyond what orjson can write
LONG = "x" * 100_000
PROBLEM = "application/problem+json"


def _schema_types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a (possibly nullable) schema admits."""
    found = {schema["type"]} if isinstance(schema.get("type"), str) else set()
    for option in schema.get("anyOf", []):
        found |= _schema_types(option)
    return found


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    for option in schema.get("anyOf", []):
        if "$ref" in option or option.get("type") in {"object", "array"}:
            return _resolve(document, option)
    return schema


def _operations(app: FastAPI) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path, operation


def _concrete(path: str, values: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        return values.get(match.group(1), "1")

    return re.sub(r"\{([^}]+)\}", fill, path)


def _problem_or_none(response: Any) -> dict[str, Any] | None:
    """The 4xx problem document of ``response``, or None when it is anything else."""
    if not 400 <= response.status_code < 500 or response.headers["content-type"] != PROBLEM:
        return None
    body: dict[str, Any] = response.json()
    if body.get("status") != response.status_code or not body["type"].startswith("https://"):
        return None
    return body


def _assert_problem(response: Any, where: str) -> dict[str, Any]:
    body = _problem_or_none(response)
    assert body is not None, f"{where} -> {response.status_code} {response.text[:200]}"
    return body


def _names_field(body: dict[str, Any], loc: list[Any]) -> bool:
    return any(error["loc"][: len(loc)] == loc for error in body.get("errors", []))


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


@pytest.fixture
def tokens(database: Database) -> dict[str, str]:
    """A token of each signed-in role (a route may refuse a role before reading its body)."""
    with database.transaction() as session:
        session.add(Cmo(code="AIE", name="AIE", country="ES", identifiers={}))
        session.add(Licensee(name="Aurora", kind="developer", country="SE"))
        session.add(Performer(name="Lucía Ferrer"))
        session.flush()
        return {
            "auditor": issue_token(session, role="auditor", label="bounded auditor"),
            "cmo-admin": issue_token(session, role="cmo-admin", label="bounded admin", cmo_id=1),
            "licensee": issue_token(session, role="licensee", label="bounded dev", licensee_id=1),
            "performer": issue_token(
                session, role="performer", label="bounded performer", performer_id=1
            ),
        }


def _callers(tokens: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    signed = [(role, {"Authorization": f"Bearer {token}"}) for role, token in tokens.items()]
    return [("anonymous", {}), *signed]


def test_integer_parameters_are_bounded(app: FastAPI, tokens: dict[str, str]) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    checked = 0
    failures = []
    for method, path, operation in _operations(app):
        parameters = operation.get("parameters", [])
        integers = [p for p in parameters if "integer" in _schema_types(p["schema"])]
        for parameter in integers:
            for value in (HUGE, -1):
                path_values = {parameter["name"]: str(value)} if parameter["in"] == "path" else {}
                query = {
                    p["name"]: "1"
                    for p in parameters
                    if p["in"] == "query" and p.get("required") and p is not parameter
                }
                if parameter["in"] == "query":
                    query[parameter["name"]] = str(value)
                url = _concrete(path, path_values)
                for who, headers in _callers(tokens):
                    response = client.request(method, url, params=query, headers=headers)
                    body = _problem_or_none(response)
                    named = body is not None and (
                        response.status_code != 422
                        or _names_field(body, [parameter["in"], parameter["name"]])
                    )
                    if not named:
                        failures.append(f"{who} {method} {url} {query} -> {response.status_code}")
                    checked += 1
    assert not failures, f"{len(failures)} of {checked} refused badly:\n" + "\n".join(failures)
    assert checked > 100
    # The example of the finding, anonymously.
    response = client.get("/api/v1/log/proofs/inclusion/61139884043234164736")
    assert _assert_problem(response, "inclusion")["status"] == 422


def test_text_parameters_refuse_nul(app: FastAPI, tokens: dict[str, str]) -> None:
    """A NUL character, which PostgreSQL text cannot hold, in any text parameter: a 4xx."""
    client = TestClient(app, raise_server_exceptions=False)
    failures = []
    checked = 0
    for method, path, operation in _operations(app):
        parameters = operation.get("parameters", [])
        for parameter in parameters:
            if "string" not in _schema_types(parameter["schema"]) or _constrained_text(
                parameter["schema"]
            ):
                continue
            value = "a\x00b"
            path_values = {parameter["name"]: "a%00b"} if parameter["in"] == "path" else {}
            query = {
                p["name"]: "1"
                for p in parameters
                if p["in"] == "query" and p.get("required") and p is not parameter
            }
            if parameter["in"] == "query":
                query[parameter["name"]] = value
            url = _concrete(path, path_values)
            for who, headers in _callers(tokens):
                response = client.request(method, url, params=query, headers=headers)
                if _problem_or_none(response) is None:
                    failures.append(f"{who} {method} {url} {query} -> {response.status_code}")
                checked += 1
    assert not failures, "\n".join(failures)
    assert checked > 20


def test_a_value_the_database_refuses_is_a_422(settings: Settings, database: Database) -> None:
    """The net under the edge: a database data error (SQLSTATE class 22) is not a 500."""
    from sqlalchemy.exc import DataError

    app = create_app(settings, database)

    @app.get("/test-only/data-error")
    def refuse() -> None:
        raise DataError("INSERT ...", {}, Exception("value too long for type character(2)"))

    response = TestClient(app, raise_server_exceptions=False).get("/test-only/data-error")
    body = _assert_problem(response, "data error")
    assert body["status"] == 422
    assert body["detail"].endswith("value too long for type character(2)")
    assert "INSERT" not in response.text


def _body_probes(
    document: dict[str, Any], schema: dict[str, Any]
) -> Iterator[tuple[Any, list[Any]]]:
    """(value, loc below the body) pairs, one per integer or free-text field of ``schema``."""
    for name, field in _resolve(document, schema).get("properties", {}).items():
        types = _schema_types(field)
        if "integer" in types:
            yield {name: HUGE}, [name]
        elif "string" in types and not _constrained_text(field):
            yield {name: LONG}, [name]
        elif "array" in types:
            items = _resolve(document, field).get("items", {})
            item_types = _schema_types(_resolve(document, items))
            if "integer" in item_types:
                yield {name: [HUGE]}, [name, 0]
            elif "string" in item_types and not _constrained_text(items):
                yield {name: [LONG]}, [name, 0]
            elif "object" in item_types or "$ref" in items:
                for value, loc in _body_probes(document, items):
                    yield {name: [value]}, [name, 0, *loc]


def _constrained_text(schema: dict[str, Any]) -> bool:
    """Text whose shape already bounds it: an enum, a date, a pattern, an uploaded file."""
    return any(
        "enum" in option
        or "pattern" in option
        or "contentMediaType" in option
        or option.get("format") in {"date", "date-time", "binary"}
        for option in [schema, *schema.get("anyOf", [])]
    )


def test_body_fields_are_bounded(app: FastAPI, tokens: dict[str, str]) -> None:
    """Each integer, text and list field is refused past its bound, naming the field.

    Every role is tried: a route may refuse a role before it reads the body (403), so the
    field counts as bounded when some role is answered 422 for it, and none with a 5xx.
    """
    document = app.openapi()
    client = TestClient(app, raise_server_exceptions=False)
    checked = 0
    unbounded = []
    for method, path, operation in _operations(app):
        content = operation.get("requestBody", {}).get("content", {})
        url = _concrete(path, {})
        for media_type, spec in content.items():
            for value, loc in _body_probes(document, spec["schema"]):
                where = f"{method} {path} {loc}"
                named = False
                for who, headers in _callers(tokens):
                    if media_type == "application/json":
                        response = client.request(method, url, json=value, headers=headers)
                    else:
                        form = {k: str(v) for k, v in value.items() if not isinstance(v, list)}
                        if not form:
                            continue
                        response = client.request(method, url, data=form, headers=headers)
                    body = _problem_or_none(response)
                    if body is None:
                        unbounded.append(f"{where} as {who} -> {response.status_code}")
                    elif _names_field(body, ["body", *loc]):
                        named = True
                if not named:
                    unbounded.append(f"{where}: no role was told the field is out of bounds")
                checked += 1
    assert not unbounded, "unbounded body fields:\n" + "\n".join(unbounded)
    assert checked > 50


def test_unknown_routes_and_methods_are_problems(app: FastAPI) -> None:
    client = TestClient(app)
    missing = _assert_problem(client.get("/api/v1/no-such-thing"), "unknown route")
    assert missing["status"] == 404
    assert missing["code"] == "not-found"
    wrong = client.delete("/api/v1/health")
    assert _assert_problem(wrong, "wrong method")["status"] == 405
    assert "GET" in wrong.headers["allow"]
    # The pages still render as pages.
    assert client.get("/").headers["content-type"].startswith("text/html")


# ------------------------------------------------------------------ the renderer itself

_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 8, max_value=2**70),
    st.integers(min_value=-(2**70), max_value=-(2**63) + 8),
    st.floats(),
    st.text(),
    st.binary(),
    st.decimals(),
    st.dates(),
    st.datetimes(),
    st.uuids(),
    st.builds(ValueError, st.text()),
    st.builds(InvalidInput, st.text(), details=st.dictionaries(st.text(), st.integers())),
)
_nested = st.recursive(
    _leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.frozensets(st.one_of(st.integers(), st.text()), max_size=4),
        st.sets(st.integers(), max_size=4),
        st.dictionaries(st.one_of(st.text(), st.integers(), st.booleans()), children, max_size=4),
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(details=st.dictionaries(st.text(), _nested, max_size=5), detail=st.text())
def test_the_problem_renderer_writes_any_details(details: dict[str, Any], detail: str) -> None:
    response = problem(422, "invalid-input", detail, details=details, errors=[details])
    body = orjson.loads(response.body)
    assert body["status"] == 422
    assert body["code"] == "invalid-input"
    assert len(body["details"]) <= len(details)


def test_big_integers_render_as_strings() -> None:
    details = {"index": HUGE, "ok": 7, "set": {HUGE}, "vast": 10**5000, -(2**70): "key"}
    body = orjson.loads(problem(404, "not-found", "no", details=details).body)
    assert body["details"]["index"] == str(HUGE)
    assert body["details"]["ok"] == 7
    assert body["details"]["set"] == [str(HUGE)]
    assert body["details"]["vast"] == "<an integer of 16610 bits>"
    assert body["details"][str(-(2**70))] == "key"


def test_deeply_nested_details_render() -> None:
    deep: Any = HUGE
    for _ in range(1000):
        deep = [deep]
    loop: list[Any] = []
    loop.append(loop)
    response = problem(
        500,
        "error",
        "deep",
        details={"deep": deep, "loop": loop, "when": dt.date(2026, 1, 1)},
        extra=(decimal.Decimal("NaN"), uuid.UUID(int=1)),
    )
    body = orjson.loads(response.body)
    assert body["details"]["when"] == "2026-01-01"

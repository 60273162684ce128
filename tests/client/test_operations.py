"""Every operation through the client against a live server: each one reaches its handler,
answers come back as JSON, text or bytes, and problems as typed exceptions."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import types
import typing
from typing import Any

import pytest
import sostenuto_client as sc
from sostenuto_client._generated import OPERATIONS

from sostenuto.registry.demo import RECORDINGS
from tests.client.conftest import AURORA, CADENZA, Live

ISRC = RECORDINGS[0][0]
# Values for path parameters, by name; anything else gets a value of its type.
PATH_VALUES: dict[str, Any] = {
    "isrc": ISRC,
    "period": "2026-Q1",
    "party": "cmo",
    "kind": "performer",
    "path": "000",
    "level": "0",
    "decision_id": "dec_missing",
}


def _value(annotation: Any, name: str) -> Any:
    """A plausible value of ``annotation`` (the server may still refuse it: 4xx is fine)."""
    if name in PATH_VALUES:
        return PATH_VALUES[name]
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    options = typing.get_args(annotation) if union else ()
    kind = options[0] if options else annotation
    if kind is int:
        return 1
    if kind is bool:
        return False
    if kind is float:
        return 1.0
    if kind is dt.date:
        return dt.date(2026, 1, 1)
    if typing.get_origin(kind) is list:
        return [_value(typing.get_args(kind)[0], "")]
    if typing.get_origin(kind) is dict:
        return {}
    if kind is bytes:
        return b"not audio"
    return "x"


def _method(root: object, op_id: str) -> Any:
    node = root
    for part in op_id.split("."):
        name = part.replace("-", "_")
        node = getattr(node, name if name != "import" else "import_")
    return node


def test_every_operation_reaches_its_handler(live: Live) -> None:
    """No call is answered 'nothing at this path' or 'method not allowed': the client's
    method, path and parameters are the server's. Auditor token: most reads are open to it."""
    reached: dict[str, str] = {}
    with live.client("auditor") as client:
        for op_id in sorted(OPERATIONS):
            method = _method(client, op_id)
            hints = typing.get_type_hints(method)
            arguments: dict[str, Any] = {}
            positional = []
            for name, parameter in inspect.signature(method).parameters.items():
                if parameter.default is not inspect.Parameter.empty:
                    continue
                value = _value(hints[name], name)
                if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
                    arguments[name] = value
                else:
                    positional.append(value)
            try:
                method(*positional, **arguments)
                reached[op_id] = "ok"
            except sc.ProblemError as problem:
                assert problem.status != 405, (op_id, problem.detail)
                assert not problem.detail.startswith("there is nothing at"), op_id
                assert problem.status < 500 or problem.status == 501, (op_id, problem.detail)
                assert problem.operation == op_id
                reached[op_id] = problem.code
    assert set(reached) == set(OPERATIONS)
    assert sum(1 for code in reached.values() if code == "ok") >= 20, reached


def test_answers_are_typed_by_their_media_type(live: Live) -> None:
    with live.client(AURORA) as client:
        assert client.meta.health()["status"] == "ok"
        assert client.meta.whoami()["role"] == "licensee"
        assert client.log.tiles.checkpoint().count("\n") >= 3  # a signed note, as text
        assert isinstance(client.standards.robots.show(1), str)
        assert isinstance(client.log.summaries.pdf(1), bytes)
        decision = client.consent.decide(
            licensee_id=1, isrc=ISRC.lower(), use="voice-clone", territory="ES"
        )
        assert decision["outcome"] == "deny" and decision["isrc"] == ISRC.replace("-", "")
        again = client.consent.decisions.show(decision["id"])
        assert again["id"] == decision["id"]
        page = client.registry.recordings.search(limit=5)
        assert len(page["items"]) == 5 and page["next_cursor"]


def test_problems_are_typed_exceptions_with_the_problem_fields(live: Live) -> None:
    with live.client(AURORA) as client, pytest.raises(sc.NotFound) as unknown:
        client.consent.decide(
            licensee_id=1, isrc="ES-A7Q-24-99999", use="train-genai", territory="ES"
        )
    assert unknown.value.status == 404 and unknown.value.code == "not-found"
    assert "ESA7Q2499999" in unknown.value.detail
    assert unknown.value.type.endswith("/not-found") and unknown.value.title

    with live.client("not-a-token") as stranger, pytest.raises(sc.Unauthenticated) as denied:
        stranger.consent.decisions.list()
    assert denied.value.status == 401

    with live.client(CADENZA) as cadenza, pytest.raises(sc.Forbidden) as other:
        cadenza.consent.decide(licensee_id=1, recording_id=1, use="train-genai", territory="ES")
    assert other.value.status == 403 and other.value.detail

    with live.client(AURORA) as client, pytest.raises(sc.InvalidInput) as invalid:
        client.consent.decide(licensee_id=1, recording_id=1, use="train-genai", territory="XX")
    assert invalid.value.status == 422 and isinstance(invalid.value.details, dict)


def test_the_token_comes_from_the_environment(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOSTENUTO_TOKEN", live.tokens[AURORA])
    monkeypatch.setenv("SOSTENUTO_SERVER", live.url)
    with sc.Client() as client:
        assert client.meta.whoami()["licensee_id"] == 1
    monkeypatch.delenv("SOSTENUTO_TOKEN")
    with sc.Client() as anonymous:
        assert anonymous.meta.whoami()["role"] == "public"


def test_the_async_client_calls_the_same_operations(live: Live) -> None:
    async def scenario() -> tuple[Any, Any]:
        async with sc.AsyncClient(live.url, live.tokens[AURORA]) as client:
            who, decision = await asyncio.gather(
                client.meta.whoami(),
                client.consent.decide(licensee_id=1, isrc=ISRC, use="train-genai", territory="ES"),
            )
            with pytest.raises(sc.NotFound):
                await client.registry.recordings.show("ES-A7Q-24-99999")
            return who, decision

    who, decision = asyncio.run(scenario())
    assert who["licensee_id"] == 1 and decision["id"]


def test_a_server_that_cannot_be_reached_is_a_clear_error() -> None:
    client = sc.Client("http://127.0.0.1:9", retry=sc.RetryPolicy(attempts=2, backoff_s=0.01))
    with pytest.raises(sc.ConnectionFailed, match=r"meta\.health"):
        client.meta.health()

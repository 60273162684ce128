"""The client against the API contract: one method per operation, generated from the
server's own OpenAPI document, so an operation the API gains fails here until the client
is regenerated (``python clients/python/tools/generate.py``)."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sostenuto_client import AsyncClient, Client
from sostenuto_client._generated import OPERATIONS

ROOT = Path(__file__).resolve().parents[2]
PINNED = ROOT / "tests" / "api" / "operation_ids.txt"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "sostenuto_client_generate", ROOT / "clients" / "python" / "tools" / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return _generator().server_document()  # type: ignore[no-any-return]


def _method(root: object, op_id: str) -> Any:
    node = root
    for part in op_id.split("."):
        name = part.replace("-", "_")
        node = getattr(node, name if name != "import" else "import_")
    return node


def _server_operations(document: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {
        op["operationId"]: (method.upper(), path)
        for path, methods in document["paths"].items()
        for method, op in methods.items()
    }


def test_the_client_has_every_operation_of_the_server(document: dict[str, Any]) -> None:
    served = _server_operations(document)
    pinned = {line.split()[0] for line in PINNED.read_text().splitlines() if line.strip()}
    assert set(served) == pinned, "the pinned operation ids and the server disagree"
    missing = sorted(set(served) - set(OPERATIONS))
    assert not missing, f"the client lacks {missing}: run clients/python/tools/generate.py"
    assert not sorted(set(OPERATIONS) - set(served)), "the client has operations the API lost"
    sync, concurrent = Client("http://127.0.0.1:9"), AsyncClient("http://127.0.0.1:9")
    for op_id, (method, path) in served.items():
        assert (OPERATIONS[op_id].method, OPERATIONS[op_id].path) == (method, path), op_id
        assert callable(_method(sync, op_id)), op_id
        assert inspect.iscoroutinefunction(_method(concurrent, op_id)), op_id
    sync.close()


def test_the_generated_module_is_what_the_generator_writes_today(
    document: dict[str, Any],
) -> None:
    """Parameters too: an operation that gains or renames a field changes the module."""
    generator = _generator()
    for is_async, target in generator.TARGETS.items():
        expected = generator.formatted(generator.render(document, is_async), target)
        assert target.read_text() == expected, (
            f"{target.name} is out of date: run clients/python/tools/generate.py"
        )


def test_methods_take_the_operations_parameters(document: dict[str, Any]) -> None:
    client = Client("http://127.0.0.1:9")
    for methods in document["paths"].values():
        for op in methods.values():
            parameters = inspect.signature(_method(client, op["operationId"])).parameters
            for parameter in op.get("parameters", []):
                assert parameter["name"] in parameters, (op["operationId"], parameter["name"])
    client.close()

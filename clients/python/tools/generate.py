"""Write ``sostenuto_client/_generated.py`` from the server's OpenAPI document.

Every operation becomes one typed method, sync and async, found by its operationId
``<area>.<resource>.<verb>`` (``consent.decisions.show`` -> ``client.consent.decisions.show``).
``tests/client/test_contract.py`` regenerates the module from the running code's document and
fails when the committed one differs, so the client never lags the API.

Usage: ``python clients/python/tools/generate.py [openapi.json]`` (without a file, the document
comes from ``sostenuto.api.create_app``, which needs the server package installed).
"""

from __future__ import annotations

import json
import keyword
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "sostenuto_client"
# Sync and async apart, so that a sync user's import does not pay for the async tree.
TARGETS = {False: PACKAGE / "_generated.py", True: PACKAGE / "_generated_async.py"}

# POSTs that are safe to send twice: a decision asked again records the same answer again,
# and log entries are content-addressed (declaring the same entry twice returns the first).
RETRY_SAFE_POSTS = frozenset(
    {
        "consent.decide",
        "consent.decide-batch",
        "consent.decide-performer",
        "log.entries.declare",
        "log.batches.declare",
        "log.verify",
        "label.inspect",
        # A run of a period is the same run again, or a conflict: never a second run.
        "remuneration.runs.create",
    }
)


@dataclass
class Param:
    name: str  # the name on the wire
    arg: str  # the Python argument name
    annotation: str
    required: bool
    doc: str = ""


@dataclass
class Op:
    op_id: str
    method: str
    path: str
    summary: str
    path_params: list[Param] = field(default_factory=list)
    query_params: list[Param] = field(default_factory=list)
    body_params: list[Param] = field(default_factory=list)
    body_kind: str = "none"  # none | json | form | text
    response: str = "json"  # json | text | bytes

    @property
    def segments(self) -> list[str]:
        return [_identifier(part) for part in self.op_id.split(".")]


def _identifier(name: str) -> str:
    name = name.replace("-", "_")
    return f"{name}_" if keyword.iskeyword(name) else name


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def _annotation(doc: dict[str, Any], schema: dict[str, Any]) -> str:
    """The Python type of a JSON schema, as the client accepts it."""
    schema = _resolve(doc, schema)
    if "anyOf" in schema:
        kinds = [_annotation(doc, option) for option in schema["anyOf"]]
        unique = list(dict.fromkeys(k for k in kinds if k != "None"))
        return " | ".join(unique + (["None"] if "None" in kinds else []))
    if "contentMediaType" in schema or schema.get("format") == "binary":
        return "FileInput"
    kind = schema.get("type")
    if kind == "null":
        return "None"
    if kind == "integer":
        return "int"
    if kind == "number":
        return "float"
    if kind == "boolean":
        return "bool"
    if kind == "string":
        if schema.get("format") == "date":
            return "dt.date | str"
        if schema.get("format") == "date-time":
            return "dt.datetime | str"
        return "str"
    if kind == "array":
        return f"builtins.list[{_annotation(doc, schema.get('items', {}))}]"
    if kind == "object" or "properties" in schema:
        return "dict[str, Any]"
    return "Any"


def _optional(annotation: str) -> str:
    return annotation if annotation.endswith("None") else f"{annotation} | None"


def _response_kind(operation: dict[str, Any]) -> str:
    for status in ("200", "201"):
        content = operation.get("responses", {}).get(status, {}).get("content", {})
        if any(kind.endswith("json") for kind in content):
            return "json"
        if "text/plain" in content:
            return "text"
    return "bytes"


def _operations(doc: dict[str, Any]) -> Iterator[Op]:
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            op = Op(
                op_id=operation["operationId"],
                method=method.upper(),
                path=path,
                summary=(operation.get("summary") or "").strip(),
                response=_response_kind(operation),
            )
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                param = Param(
                    name=parameter["name"],
                    arg=_identifier(parameter["name"]),
                    annotation=_annotation(doc, schema),
                    required=bool(parameter.get("required")),
                    doc=parameter.get("description", ""),
                )
                if parameter["in"] == "path":
                    op.path_params.append(param)
                elif parameter["in"] == "query":
                    op.query_params.append(param)
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                op.body_kind = "json"
                _body_fields(doc, op, content["application/json"]["schema"])
            elif "multipart/form-data" in content or "application/x-www-form-urlencoded" in content:
                op.body_kind = "form"
                form = (
                    content.get("multipart/form-data")
                    or content["application/x-www-form-urlencoded"]
                )
                _body_fields(doc, op, form["schema"])
            elif "text/plain" in content:
                op.body_kind = "text"
                op.body_params.append(Param("body", "body", "str", True))
            yield op


def _body_fields(doc: dict[str, Any], op: Op, schema: dict[str, Any]) -> None:
    schema = _resolve(doc, schema)
    required = set(schema.get("required", []))
    taken = {p.arg for p in op.path_params + op.query_params}
    for name, prop in schema.get("properties", {}).items():
        arg = _identifier(name)
        if arg in taken:  # a body field named like a path or query parameter
            arg = f"body_{arg}"
        op.body_params.append(
            Param(name, arg, _annotation(doc, prop), name in required, prop.get("description", ""))
        )


def _signature(op: Op) -> str:
    positional = [f"{p.arg}: {p.annotation}" for p in op.path_params]
    keyword_only: list[str] = []
    everything = op.query_params + op.body_params
    for p in sorted(everything, key=lambda p: not p.required):
        if p.required:
            keyword_only.append(f"{p.arg}: {p.annotation}")
        else:
            keyword_only.append(f"{p.arg}: {_optional(p.annotation)} = None")
    if op.method != "GET":
        keyword_only.append("idempotency_key: str | None = None")
    return ", ".join(["self", *positional, *(["*", *keyword_only] if keyword_only else [])])


def _mapping(params: list[Param]) -> str:
    return "{" + ", ".join(f"{p.name!r}: {p.arg}" for p in params) + "}"


def _method(op: Op, is_async: bool) -> list[str]:
    returns = {"json": "Any", "text": "str", "bytes": "bytes"}[op.response]
    head = "async def" if is_async else "def"
    call = "await self._transport.call" if is_async else "self._transport.call"
    # JSON answers are Any already; str and bytes answers come through an Any-typed call.
    ignore = "" if op.response == "json" else "  # type: ignore[no-any-return]"
    quotes = '"' * 3
    summary = (op.summary.replace(quotes, "'" * 3).rstrip(".") or op.op_id) + "."
    return [
        f"    {head} {op.segments[-1]}({_signature(op)}) -> {returns}:",
        *[f"        {line}" for line in textwrap.wrap(quotes + summary, 88)],
        "",
        f"        ``{op.op_id}``: {op.method}",
        f"        ``{op.path}``{quotes}",
        f"        return {call}({ignore}",
        f"            OPERATIONS[{op.op_id!r}],",
        f"            path={_mapping(op.path_params)},",
        f"            query={_mapping(op.query_params)},",
        f"            body={_mapping(op.body_params)},",
        *(["            idempotency_key=idempotency_key,"] if op.method != "GET" else []),
        "        )",
    ]


def _class_name(prefix: str, segments: list[str]) -> str:
    words = "".join(part.title().replace("_", "") for part in segments)
    return f"{prefix}{words}Api"


def render(doc: dict[str, Any], is_async: bool = False) -> str:
    """The sync module (with the ``OPERATIONS`` table) or the async one."""
    ops = sorted(_operations(doc), key=lambda o: o.op_id)
    header = [
        '"""Generated by ``clients/python/tools/generate.py`` from the server\'s OpenAPI',
        f"document (API {doc.get('info', {}).get('version', '?')}); do not edit by hand.",
        "",
        "One method per operation, named by its operationId; ``tests/client/test_contract.py``",
        'fails when the API gains an operation this module lacks."""',
        "",
        "from __future__ import annotations",
        "",
        "import builtins",
        "import datetime as dt",
        "from typing import Any",
        "",
    ]
    if is_async:
        out = [
            *header,
            "from sostenuto_client._generated import OPERATIONS",
            "from sostenuto_client._transport import AsyncTransport, FileInput",
            "",
            "__all__ = ['AsyncRootApi']",
            "",
        ]
    else:
        out = [
            *header,
            "from sostenuto_client._transport import FileInput, Operation, Transport",
            "",
            "__all__ = ['OPERATIONS', 'RootApi']",
            "",
            "OPERATIONS: dict[str, Operation] = {",
        ]
    for op in ops if not is_async else []:
        retry = op.method in {"GET", "HEAD", "PUT", "DELETE"} or op.op_id in RETRY_SAFE_POSTS
        files = tuple(
            p.name
            for p in op.body_params
            if p.annotation.startswith(("FileInput", "builtins.list[FileInput]"))
        )
        out += [
            f"    {op.op_id!r}: Operation(",
            f"        {op.op_id!r}, {op.method!r}, {op.path!r},",
            f"        body_kind={op.body_kind!r}, response={op.response!r}, retry_safe={retry!r},",
            f"        files={files!r},",
            "    ),",
        ]
    out += ["}", ""] if not is_async else []
    # The tree of areas and resources: every prefix of an operationId is a node.
    nodes: dict[tuple[str, ...], list[Op]] = {(): []}
    children: dict[tuple[str, ...], list[str]] = {(): []}
    for op in ops:
        segments = tuple(op.segments)
        for depth in range(1, len(segments)):
            node = segments[:depth]
            if node not in nodes:
                nodes[node] = []
                children[node] = []
                children[segments[: depth - 1]].append(node[-1])
        nodes[segments[:-1]].append(op)
    prefix = "Async" if is_async else ""
    transport = "AsyncTransport" if is_async else "Transport"
    for node in sorted(nodes, key=len, reverse=True):
        name = _class_name(prefix, list(node)) if node else f"{prefix}RootApi"
        out += [
            "",
            f"class {name}:",
            f'    """Operations under ``{".".join(node) or "(root)"}``."""',
            "",
            f"    def __init__(self, transport: {transport}) -> None:",
            "        self._transport = transport",
        ]
        for child in sorted(children[node]):
            child_class = _class_name(prefix, [*node, child])
            out.append(f"        self.{child} = {child_class}(transport)")
        for op in nodes[node]:
            out += ["", *_method(op, is_async)]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def formatted(source: str, target: Path = TARGETS[False]) -> str:
    """``source`` as ``ruff format`` writes it (the repository's formatter), so the committed
    module is both generated and lint-clean."""
    ruff = Path(sys.executable).with_name("ruff")
    command = str(ruff) if ruff.exists() else shutil.which("ruff")
    if command is None:
        raise SystemExit("ruff is needed to format the generated module")
    done = subprocess.run(
        [command, "format", "--stdin-filename", str(target), "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def server_document() -> dict[str, Any]:
    """The OpenAPI document of the installed server package (no database is opened)."""
    from sostenuto.api import create_app
    from sostenuto.settings import Settings
    from sostenuto.storage import Database

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            Settings(data_dir=Path(folder)), Database(f"sqlite:///{folder}/openapi.sqlite3")
        )
        return app.openapi()


def main() -> None:
    doc = json.loads(Path(sys.argv[1]).read_text()) if len(sys.argv) > 1 else server_document()
    for is_async, target in TARGETS.items():
        target.write_text(formatted(render(doc, is_async), target))
        print(f"wrote {target} ({len(list(_operations(doc)))} operations)")


if __name__ == "__main__":
    main()

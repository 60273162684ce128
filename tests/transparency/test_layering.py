"""The log knows nothing of consent, not even through a dynamic import or consent's tables.

import-linter (pyproject.toml) sees static imports only; this also catches ``importlib``,
``__import__`` and reads of consent's storage, which once stood in for the consent service.
"""

from __future__ import annotations

import ast
from pathlib import Path

import sostenuto.transparency

FORBIDDEN = ("sostenuto.consent", "sostenuto.declarations", "sostenuto.storage.models.consent")


def _names(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.append(node.value)  # a module name handed to a dynamic import
    return names


def test_transparency_never_reaches_into_consent() -> None:
    package = Path(sostenuto.transparency.__file__).parent
    offenders = []
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for name in _names(tree):
            if name in ("importlib", "__import__") or name.startswith("importlib."):
                offenders.append(f"{path.name}: dynamic import ({name})")
            elif any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                offenders.append(f"{path.name}: {name}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "__import__":
                offenders.append(f"{path.name}: __import__")
    assert offenders == []

"""The distribution stays light: httpx is its one dependency, and importing it loads no
numpy, torch or scipy (nor the server package)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import requires


def test_the_client_depends_on_httpx_alone() -> None:
    """Adapters (``torch``) are extras, never installed by default."""
    needs = [
        r.split(";")[0].strip() for r in requires("sostenuto-client") or [] if "extra ==" not in r
    ]
    assert [n.split(">")[0].split("=")[0].strip() for n in needs] == ["httpx"]


def test_importing_the_client_loads_nothing_heavy() -> None:
    code = (
        "import json, sys, sostenuto_client\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'numpy', 'torch', 'scipy', 'sostenuto', 'pydantic', 'asyncio'})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []

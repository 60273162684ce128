"""Run every benchmark (or the named ones) in turn; each prints its table and writes JSON.

python benchmarks/run.py                 # all, full size
python benchmarks/run.py --quick         # all, small sizes (minutes)
python benchmarks/run.py consent log     # only these
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "consent",
    "log",
    "identify",
    "labelling",
    "voice",
    "remuneration",
    "search",
    "pages",
    "client",
    "load",
    "screen_scale",
]


def main(argv: list[str]) -> int:
    flags = [arg for arg in argv if arg.startswith("-")]
    names = [arg for arg in argv if not arg.startswith("-")] or BENCHMARKS
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    failed = []
    for name in names:
        script = HERE / f"{name}.py"
        if not script.exists():
            print(f"== {name}: no benchmarks/{name}.py yet, skipped")
            continue
        print(f"== {name}")
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *flags])
        print(f"== {name}: exit {code} after {time.perf_counter() - started:.0f} s")
        if code:
            failed.append(name)
    print(f"results in {HERE / 'results'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

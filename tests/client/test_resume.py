"""A filter run killed with SIGKILL mid-corpus and started again: the journal holds every
item once, the restarted run yields only what the first had not finished with, and the
manifest declares every permitted file exactly once (a third run declares nothing new)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sostenuto_client._journal import read_outcomes

from tests.client.conftest import AURORA, Live

ROOT = Path(__file__).resolve().parents[2]
SIZE = 1200


def _worker(live: Live, tmp_path: Path, pause: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.client.filter_worker",
            live.url,
            live.tokens[AURORA],
            str(SIZE),
            str(tmp_path / "checkpoint.csv"),
            str(tmp_path / "used.log"),
            str(tmp_path / "receipt.json"),
            str(pause),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _rows(path: Path) -> int:
    return max(0, path.read_bytes().count(b"\n") - 2) if path.exists() else 0


def test_a_killed_run_resumes_and_declares_each_file_once(live: Live, tmp_path: Path) -> None:
    first = _worker(live, tmp_path, pause=0.004)
    deadline = time.monotonic() + 60
    while _rows(tmp_path / "checkpoint.csv") < SIZE // 4:
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "the worker made no progress"
        time.sleep(0.02)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    done_before = _rows(tmp_path / "checkpoint.csv")
    assert first.returncode == -signal.SIGKILL and done_before < SIZE
    assert not (tmp_path / "receipt.json").exists()
    used_before = (tmp_path / "used.log").read_text().split()

    second = _worker(live, tmp_path, pause=0)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    summary = json.loads(out)

    journal = list(read_outcomes(tmp_path / "checkpoint.csv"))
    assert [o.index for o in journal] == list(range(SIZE))
    permitted = {o.index for o in journal if o.permitted}
    assert summary["files"] == len(permitted) and summary["new"] > 0
    used = Counter(int(i) for i in (tmp_path / "used.log").read_text().split())
    assert set(used) == permitted
    # At most the item in hand at the kill is used twice.
    assert sum(count - 1 for count in used.values()) <= 1
    assert len(used_before) >= 1

    with live.client(AURORA) as client:
        declared = client.log.entries.list(entry_type="dataset-manifest", licensee_id=1)
        files = [
            f["sha256"]
            for item in declared["items"]
            for f in client.log.entries.show(item["index"])["entry"]["payload"]["files"]
        ]
    assert len(files) == len(set(files)) == len(permitted)

    third = _worker(live, tmp_path, pause=0)
    out, err = third.communicate(timeout=120)
    assert third.returncode == 0, err
    assert json.loads(out)["new"] == 0
    assert Counter(int(i) for i in (tmp_path / "used.log").read_text().split()) == used

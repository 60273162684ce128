"""The worked example, run as a user runs it (a subprocess) against a live server: it filters,
trains, declares, generates, labels, and every receipt it kept verifies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sostenuto.registry.demo import RECORDINGS
from sostenuto.settings import Settings
from sostenuto.transparency import verifier_key, verify_receipt
from tests.client.audio_support import labelling
from tests.client.conftest import AURORA, Live

__all__ = ["labelling"]  # the fixture, imported for pytest

pytest.importorskip("torch")
EXAMPLE = Path(__file__).parents[2] / "clients" / "python" / "examples" / "train_tiny.py"


def test_the_tiny_training_example_accounts_for_everything(
    labelling: Settings, live: Live, tmp_path: Path
) -> None:
    isrcs = [r[0] for r in RECORDINGS]
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLE),
            *("--server", live.url, "--token", live.tokens[AURORA]),
            *("--licensee", "1", "--model", "1", "--territory", "SE"),
            *("--demo-corpus", *isrcs),
            *("--work", str(tmp_path / "run"), "--epochs", "2", "--no-voice-check"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    counts = summary["counts"]
    assert counts["unidentified"] == 1  # the demo corpus's untagged file, never trained on
    assert 0 < counts["permitted"] < len(isrcs)
    assert summary["manifest_files"] == counts["permitted"]
    assert summary["verified"] is True
    # Check the kept receipts here too, independently of the example's own check.
    bundles = json.loads((tmp_path / "run" / "receipts.json").read_text())
    key = verifier_key(labelling)
    indices = [verify_receipt(bundle, key).index for bundle in bundles]
    assert indices == [
        *summary["manifest_indices"],
        summary["training_run_index"],
        summary["output"]["index"],
    ]
    types = [json.loads(bundle["entry"])["type"] for bundle in bundles]
    assert types[-2:] == ["training-run", "output-declaration"]
    labelled = Path(summary["output"]["path"]).read_bytes()
    with live.client(None) as client:
        found = client.label.inspect(file=("tiny.wav", labelled))
    assert found["ai_generated"] is True
    assert f"{found['watermark']['watermark_id']:08x}" == summary["output"]["watermark_id"]

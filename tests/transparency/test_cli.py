"""The ``sostenuto log`` commands, run as a user would run them."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency import declare_batch, verifier_key
from tests.conftest import _fresh_sqlite
from tests.transparency.conftest import build_world, sha


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


class Cli:
    """Runs ``sostenuto`` in this process through its real entry point (exit codes included);
    a subprocess would spend most of its time importing every capability."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.monkeypatch, self.capsys = monkeypatch, capsys

    def __call__(self, env: dict[str, str], *args: str) -> Ran:
        from sostenuto.cli import _context
        from sostenuto.cli.main import main
        from sostenuto.settings import get_settings

        for name, value in env.items():
            self.monkeypatch.setenv(name, value)
        self.monkeypatch.delenv("SOSTENUTO_TOKEN", raising=False)
        get_settings.cache_clear()
        _context.database.cache_clear()
        self.monkeypatch.setattr(sys, "argv", ["sostenuto", *args])
        self.capsys.readouterr()
        code = 0
        try:
            main()
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        finally:
            get_settings.cache_clear()
            _context.database.cache_clear()
        out = self.capsys.readouterr()
        return Ran(code, out.out, out.err)


def _outputs(
    world_licensee: int, model: int, start: int, count: int
) -> list[tuple[str, dict[str, object]]]:
    return [
        (
            "output-declaration",
            {
                "licensee_id": world_licensee,
                "model_id": model,
                "output_sha256": sha(f"c{i}"),
                "generated_on": "2026-02-02",
            },
        )
        for i in range(start, start + count)
    ]


def test_prove_verify_witness_and_summary_from_the_command_line(
    sqlite_database: Database,
    sqlite_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _run = Cli(monkeypatch, capsys)
    settings = Settings(data_dir=tmp_path / "data")
    world = build_world(sqlite_database)
    declare_batch(
        sqlite_database, settings, world.developer, _outputs(world.licensee, world.model, 0, 20)
    )
    env = {
        "SOSTENUTO_DATA_DIR": str(settings.data_dir),
        "SOSTENUTO_DATABASE_URL": sqlite_database.url,
        "COLUMNS": "200",
    }

    key = _run(env, "log", "key")
    assert key.returncode == 0 and key.stdout.strip() == verifier_key(settings)
    (tmp_path / "key.txt").write_text(key.stdout)
    # The default origin is the prefix the log is served at (C2SP tlog-checkpoint).
    assert _run(env, "log", "checkpoint").stdout.startswith("127.0.0.1:8000/log\n20\n")

    bundle = _run(env, "log", "prove", "7")
    assert bundle.returncode == 0
    (tmp_path / "receipt.json").write_text(bundle.stdout)
    ok = _run(
        env, "log", "verify", str(tmp_path / "receipt.json"), "--key", str(tmp_path / "key.txt")
    )
    assert ok.returncode == 0 and "verified" in ok.stdout
    forged = json.loads(bundle.stdout)
    forged["index"] = 8
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    bad = _run(env, "log", "verify", str(tmp_path / "forged.json"), "--key", key.stdout.strip())
    assert bad.returncode == 7 and "integrity-failure" in bad.stderr

    site, state = tmp_path / "site", tmp_path / "state.json"
    assert _run(env, "log", "mirror", str(site)).returncode == 0
    first = _run(
        env, "log", "witness", str(site), "--key", key.stdout.strip(), "--state", str(state),
        "--json",
    )  # fmt: skip
    assert first.returncode == 0 and json.loads(first.stdout)["status"] == "first"

    # A witness with a cosigning key: the log keeps its cosignature, clients can require it.
    made_key = _run(env, "log", "witness-key", "w1.example.org", "--out", str(tmp_path / "w1"))
    assert made_key.returncode == 0
    witness_vkey = made_key.stdout.strip()
    cosigning = _run(
        env,
        "log",
        "witness",
        str(site),
        "--key",
        key.stdout.strip(),
        "--state",
        str(tmp_path / "w1-state.json"),
        "--cosign-key",
        str(tmp_path / "w1"),
        "--json",
    )
    assert cosigning.returncode == 0, cosigning.stderr
    (tmp_path / "cosigned.txt").write_text(json.loads(cosigning.stdout)["cosigned"])
    kept = _run(
        dict(env, SOSTENUTO_WITNESS_KEYS=witness_vkey),
        "log",
        "add-cosignature",
        str(tmp_path / "cosigned.txt"),
    )
    assert kept.returncode == 0 and "w1.example.org" in kept.stdout
    (tmp_path / "cosigned-receipt.json").write_text(_run(env, "log", "prove", "7").stdout)
    for receipt, expected in (("cosigned-receipt.json", 0), ("receipt.json", 7)):
        checked = _run(
            env,
            "log",
            "verify",
            str(tmp_path / receipt),
            "--key",
            key.stdout.strip(),
            "--witness-key",
            witness_vkey,
        )
        assert checked.returncode == expected, checked.stderr
        # The console may wrap long lines at its width: compare words, not line breaks.
        said = " ".join((checked.stdout + checked.stderr).split())
        if expected == 0:
            assert "cosigned by w1.example.org" in said
        else:  # the receipt taken before the witness cosigned lacks the cosignature
            assert "no cosignature by witness w1.example.org" in said

    fork_dir = tmp_path / "fork"
    fork_dir.mkdir()
    fork = _fresh_sqlite(sqlite_template, fork_dir)
    fork_world = build_world(fork)
    declare_batch(
        fork,
        settings,
        fork_world.developer,
        _outputs(fork_world.licensee, fork_world.model, 100, 30),
    )
    fork_env = dict(env, SOSTENUTO_DATABASE_URL=fork.url)
    assert _run(fork_env, "log", "mirror", str(tmp_path / "forked")).returncode == 0
    alarm = _run(
        env,
        "log",
        "witness",
        str(tmp_path / "forked"),
        "--key",
        key.stdout.strip(),
        "--state",
        str(state),
    )
    assert alarm.returncode != 0 and "ALARM: split view" in alarm.stderr
    fork.dispose()

    pdf = tmp_path / "summary.pdf"
    made = _run(env, "log", "summary", str(world.model), "--pdf", str(pdf))
    assert made.returncode == 0 and pdf.read_bytes().startswith(b"%PDF")
    (tmp_path / "bad.json").write_text("{not json")
    refused = _run(env, "log", "declare", "dataset-manifest", str(tmp_path / "bad.json"))
    assert refused.returncode == 10 and "not JSON" in refused.stderr  # invalid input
    missing = _run(env, "log", "declare", "dataset-manifest", str(tmp_path / "nowhere.json"))
    assert missing.returncode == 3 and "no such file" in missing.stderr
    assert "Traceback" not in missing.stderr

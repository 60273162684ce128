"""``sostenuto registry recording add --audio`` and ``registry import`` with an audio column."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from sostenuto.audio import write_wav
from sostenuto.cli import _context
from sostenuto.cli.main import app
from sostenuto.errors import UnsupportedFormat
from sostenuto.settings import get_settings
from tests.audio.conftest import tiny_mod
from tests.identify.conftest import render_piece


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("SOSTENUTO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SOSTENUTO_DATABASE_URL", raising=False)
    monkeypatch.delenv("SOSTENUTO_TOKEN", raising=False)
    get_settings.cache_clear()
    _context.database.cache_clear()
    yield CliRunner()
    _context.database().dispose()
    get_settings.cache_clear()
    _context.database.cache_clear()


def _run(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, ["registry", *args, "--json"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_a_failed_add_with_audio_leaves_nothing_to_conflict_with(
    cli: CliRunner, tmp_path: Path
) -> None:
    _run(cli, "cmo", "add", "AIE", "--name", "AIE", "--country", "ES")
    add = ["registry", "recording", "add", "--cmo", "AIE", "--isrc", "ES-A7Q-24-00001"]
    bogus = tmp_path / "calima.flac"
    bogus.write_bytes(b"fLaC" + bytes(4000))
    failed = cli.invoke(app, [*add, "--title", "Calima", "--audio", str(bogus)])
    assert isinstance(failed.exception, UnsupportedFormat)
    show = cli.invoke(app, ["registry", "recording", "show", "ES-A7Q-24-00001"])
    assert show.exit_code != 0  # no recording was left behind

    audio = write_wav(tmp_path / "calima.wav", render_piece(seed=9, seconds=10), 8000)
    done = cli.invoke(app, [*add, "--title", "Calima", "--audio", str(audio), "--json"])
    assert done.exit_code == 0, done.output + repr(done.exception)
    recording = orjson.loads(done.output)
    assert recording["duration_ms"] == 10_000 and recording["audio_sha256"]


def test_import_reads_audio_paths_next_to_the_catalogue(cli: CliRunner, tmp_path: Path) -> None:
    _run(cli, "cmo", "add", "AIE", "--name", "AIE", "--country", "ES")
    (tmp_path / "song.xm").write_bytes(tiny_mod())
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text(
        "isrc,title,audio_path\nES-A7Q-24-00001,Song,song.xm\nES-A7Q-24-00002,Gone,gone.wav\n",
        encoding="utf-8",
    )
    skipped = tmp_path / "skipped.csv"
    result = cli.invoke(
        app, ["registry", "import", str(catalogue), "--cmo", "AIE", "--errors", str(skipped)]
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert skipped.read_text(encoding="utf-8").splitlines()[1].startswith("3,audio_path 'gone.wav'")
    recording = orjson.loads(_run(cli, "recording", "show", "ES-A7Q-24-00001"))
    assert recording["audio_sha256"] and 7_600 < recording["duration_ms"] < 8_000

"""Threshold calibration on a catalogue: null scores of unregistered excerpts, the margin
rule, the stored file and its fallbacks, refusals that leave a calibration alone, the CLI."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from typer.testing import CliRunner

from sostenuto.audio import write_wav
from sostenuto.auth import OPERATOR, Principal
from sostenuto.cli import _context
from sostenuto.cli.main import app
from sostenuto.errors import Forbidden, IntegrityFailure, InvalidInput
from sostenuto.identify import (
    DEFAULT_THRESHOLD,
    ShardedIndex,
    active_threshold,
    calibrate_catalogue,
    calibration_path,
    catalogue_path,
    catalogue_threshold,
    check_output,
    fingerprint_samples,
    load_calibration,
    open_catalogue,
)
from sostenuto.identify._params import VERSION
from sostenuto.settings import Settings, get_settings
from sostenuto.storage import Database
from tests.identify.conftest import Samples, render_piece

RATE = 8000
UNREGISTERED_SEEDS = (101, 102, 103, 104)


@pytest.fixture(scope="module")
def built_catalogue(pieces: dict[int, Samples], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalogue folder holding pieces 1 to 4 (keys p1 … p4)."""
    root = tmp_path_factory.mktemp("catalogue") / "index"
    catalogue = ShardedIndex.create(root)
    catalogue.add_many([(f"p{seed}", fingerprint_samples(pieces[seed])) for seed in (1, 2, 3, 4)])
    return root


@pytest.fixture(scope="module")
def unregistered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of four 25 s pieces that are not in the catalogue."""
    folder = tmp_path_factory.mktemp("unregistered")
    for seed in UNREGISTERED_SEEDS:
        write_wav(folder / f"piece-{seed}.wav", render_piece(seed, 25.0), RATE)
    return folder


@pytest.fixture
def catalogue_settings(settings: Settings, built_catalogue: Path) -> Settings:
    """A data directory of its own with a copy of the catalogue (no calibration yet)."""
    shutil.copytree(built_catalogue, catalogue_path(settings))
    return settings


def test_calibration_follows_the_margin_rule_and_is_saved(
    catalogue_settings: Settings, unregistered: Path
) -> None:
    assert load_calibration(catalogue_settings) is None
    assert catalogue_threshold(catalogue_settings) == DEFAULT_THRESHOLD
    calls: list[tuple[int, int]] = []
    calibration = calibrate_catalogue(
        catalogue_settings,
        OPERATOR,
        [unregistered],
        count=120,
        fp_rate=0.02,
        seed=3,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calibration.queries == len(calibration.scores) == 120
    assert calibration.catalogue_tracks == 4 and calibration.fingerprint_version == VERSION
    assert calibration.seconds == (5.0, 10.0) and not calibration.left_out
    assert calls[-1] == (120, 120) and [d for d, _ in calls] == sorted(d for d, _ in calls)
    # The rule, on the scores themselves: the (floor(rate * n) + 1)-th highest, plus 1.0.
    scores = sorted(calibration.scores, reverse=True)
    allowed = math.floor(0.02 * len(scores))  # 2
    assert calibration.threshold == pytest.approx(max(1.0, scores[allowed] + 1.0))
    assert sum(s >= calibration.threshold for s in scores) <= allowed
    assert sum(s >= calibration.threshold - 1.0 for s in scores) > allowed
    assert calibration.max_score == scores[0] < 20.0
    assert calibration.p999 == pytest.approx(np.percentile(scores, 99.9), abs=1e-3)
    assert calibration.p99 == pytest.approx(np.percentile(scores, 99), abs=1e-3)
    # Excerpts cut here, from the same files, score in the same null range.
    catalogue = open_catalogue(catalogue_settings)
    own = []
    for seed in UNREGISTERED_SEEDS:
        excerpt = render_piece(seed, 25.0)[7 * RATE : 17 * RATE]
        found = catalogue.search(fingerprint_samples(excerpt, query=True), threshold=0.0)
        own.append(found[0].score if found else 0.0)
    assert max(own) < calibration.threshold + 5.0
    # Saved in the catalogue folder, loaded back whole, and used as the default threshold.
    path = calibration_path(catalogue_settings)
    assert path.parent == catalogue_path(catalogue_settings) and path.exists()
    assert load_calibration(catalogue_settings) == calibration
    assert catalogue_threshold(catalogue_settings) == calibration.threshold
    active = active_threshold(catalogue_settings)
    assert active.calibrated_at == calibration.created_at
    assert f"on {calibration.catalogue_tracks} tracks" in active.source


def test_threshold_falls_back_to_the_default(catalogue_settings: Settings) -> None:
    path = calibration_path(catalogue_settings)
    assert catalogue_threshold(catalogue_settings) == DEFAULT_THRESHOLD
    stale = _calibration_file(threshold=4.5, version=VERSION + 1)
    path.write_text(json.dumps(stale))
    loaded = load_calibration(catalogue_settings)
    assert loaded is not None and not loaded.current and loaded.threshold == 4.5
    assert catalogue_threshold(catalogue_settings) == DEFAULT_THRESHOLD
    stale_active = active_threshold(catalogue_settings)
    assert stale_active.calibrated_at is None and "fingerprint version" in stale_active.source
    path.write_text(json.dumps(_calibration_file(threshold=4.5, version=VERSION)))
    assert catalogue_threshold(catalogue_settings) == 4.5
    path.write_text('{"queries": ')
    with pytest.raises(IntegrityFailure, match=r"calibration\.json"):
        catalogue_threshold(catalogue_settings)


def test_a_file_that_is_in_the_catalogue_is_left_out(
    catalogue_settings: Settings, unregistered: Path, pieces: dict[int, Samples], tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    shutil.copytree(unregistered, folder)
    registered = write_wav(folder / "actually-p2.wav", pieces[2], RATE)
    calibration = calibrate_catalogue(
        catalogue_settings, OPERATOR, [folder], count=100, seed=1, save=False
    )
    (left,) = calibration.left_out
    assert left.path == str(registered) and left.key == "p2" and left.score >= 20.0
    assert calibration.queries == 100 and calibration.max_score < 20.0
    assert not calibration_path(catalogue_settings).exists()  # --no-save writes nothing


def test_refusals_leave_the_saved_calibration_alone(
    catalogue_settings: Settings, unregistered: Path, pieces: dict[int, Samples], tmp_path: Path
) -> None:
    path = calibration_path(catalogue_settings)
    path.write_text(json.dumps(_calibration_file(threshold=6.25, version=VERSION)))
    before = path.read_bytes()
    empty = tmp_path / "empty"
    empty.mkdir()
    unusable = tmp_path / "unusable"
    unusable.mkdir()
    (unusable / "broken.wav").write_bytes(b"RIFF nonsense, not audio")
    write_wav(unusable / "short.wav", render_piece(7, 3.0), RATE)
    only_registered = tmp_path / "registered"
    only_registered.mkdir()
    write_wav(only_registered / "p3.wav", pieces[3][: 12 * RATE], RATE)
    cases: list[tuple[dict[str, object], str]] = [
        ({"sources": [unregistered], "count": 50}, "at least 100 excerpts"),
        ({"sources": [unregistered], "fp_rate": 0.0}, "between 0 and 0.5"),
        ({"sources": [unregistered], "fp_rate": 0.5}, "between 0 and 0.5"),
        ({"sources": [unregistered], "seconds": [0.2]}, "excerpt lengths"),
        ({"sources": [empty]}, "no audio files"),
        ({"sources": [tmp_path / "missing"]}, "no corpus folder"),
        ({"sources": [unusable]}, "none of the 2 audio file"),
        ({"sources": [only_registered], "count": 100}, "only 0 excerpts"),
    ]
    details: dict[str, dict[str, Any]] = {}
    for arguments, message in cases:
        sources = arguments.pop("sources")
        with pytest.raises(InvalidInput, match=message) as refused:
            calibrate_catalogue(catalogue_settings, OPERATOR, sources, **arguments)  # type: ignore[arg-type]
        assert path.read_bytes() == before, message
        details[message] = refused.value.details
    # The refusal names what went wrong with each file.
    skipped = details["none of the 2 audio file"]["skipped"]
    assert sorted(Path(s["path"]).name for s in skipped) == ["broken.wav", "short.wav"]
    (left,) = details["only 0 excerpts"]["left_out"]
    assert left["key"] == "p3" and left["score"] >= 20.0
    licensee = Principal(name="lab", role="licensee", licensee_id=1)
    with pytest.raises(Forbidden):
        calibrate_catalogue(catalogue_settings, licensee, [unregistered], count=100)
    assert path.read_bytes() == before
    assert catalogue_threshold(catalogue_settings) == 6.25


def test_unreadable_files_are_skipped_and_reported(
    catalogue_settings: Settings, unregistered: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "with-bad"
    shutil.copytree(unregistered, folder)
    (folder / "broken.wav").write_bytes(b"RIFF nonsense, not audio")
    write_wav(folder / "short.wav", render_piece(8, 3.0), RATE)
    calibration = calibrate_catalogue(catalogue_settings, OPERATOR, [folder], count=100, save=False)
    assert calibration.queries == 100
    reasons = {Path(s.path).name: s.reason for s in calibration.skipped}
    assert set(reasons) == {"broken.wav", "short.wav"}
    assert reasons["short.wav"] == "shorter than 5 s"


def test_check_output_defaults_to_the_calibrated_threshold(
    catalogue_settings: Settings,
    sqlite_database: Database,
    pieces: dict[int, Samples],
    tmp_path: Path,
) -> None:
    generated = render_piece(9, 20.0)
    generated[4 * RATE : 12 * RATE] += pieces[2][10 * RATE : 18 * RATE]
    out = write_wav(tmp_path / "gen.wav", generated / np.max(np.abs(generated)), RATE)
    found = check_output(sqlite_database, catalogue_settings, OPERATOR, out)
    assert [s["key"] for s in found.segments] == ["p2"]
    score = found.segments[0]["score"]
    above = _calibration_file(threshold=score + 1.0, version=VERSION)
    calibration_path(catalogue_settings).write_text(json.dumps(above))
    assert check_output(sqlite_database, catalogue_settings, OPERATOR, out).segments == []
    explicit = check_output(sqlite_database, catalogue_settings, OPERATOR, out, threshold=10.0)
    assert [s["key"] for s in explicit.segments] == ["p2"]


@pytest.fixture
def data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, built_catalogue: Path
) -> Iterator[Path]:
    data = tmp_path / "data"
    monkeypatch.setenv("SOSTENUTO_DATA_DIR", str(data))
    monkeypatch.delenv("SOSTENUTO_DATABASE_URL", raising=False)
    monkeypatch.delenv("SOSTENUTO_TOKEN", raising=False)
    get_settings.cache_clear()
    _context.database.cache_clear()
    shutil.copytree(built_catalogue, catalogue_path(get_settings()))
    yield data
    _context.database.cache_clear()
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def test_cli_calibrate_and_stats(data_dir: Path, unregistered: Path) -> None:
    code, output = run("identify", "index", "stats", "--json")
    assert code == 0, output
    stats = orjson.loads(output)
    assert stats["threshold"] == DEFAULT_THRESHOLD and stats["threshold source"] == "default"
    code, output = run(
        "identify", "calibrate", str(unregistered), "--count", "100", "--seconds", "5,10",
        "--fp-rate", "0.01", "--seed", "4", "--json",
    )  # fmt: skip
    assert code == 0, output
    answer = orjson.loads(output)
    settings = get_settings()
    assert answer["saved"] == str(calibration_path(settings))
    saved = load_calibration(settings)
    assert saved is not None and saved.as_dict() == {
        k: v for k, v in answer.items() if k != "saved"
    }
    scores = sorted(answer["scores"], reverse=True)
    excerpt_rule = max(1.0, scores[1] + 1.0)  # floor(0.01·100) = 1
    # Every file is also searched whole (25 s: its own band); the threshold in force is the
    # highest any band needs.
    bands = {band["band"]: band for band in answer["bands"]}
    assert bands["up to 15 s"]["queries"] == 100 and bands["15-60 s"]["queries"] == 4
    assert bands["up to 15 s"]["threshold"] == pytest.approx(excerpt_rule)
    assert answer["threshold"] == pytest.approx(max(b["threshold"] for b in bands.values()))
    used = answer["used"]
    assert len(used) == 4 and sum(f["excerpts"] for f in used) == 100
    assert all(f["seconds"] == pytest.approx(25.0) and f["whole_score"] >= 0 for f in used)
    code, output = run("identify", "index", "stats", "--json")
    stats = orjson.loads(output)
    assert stats["threshold"] == answer["threshold"]
    assert stats["threshold source"].startswith("calibrated ")
    notes = data_dir / "notes"
    notes.mkdir()
    (notes / "liner-notes.txt").write_text("not audio")
    code, output = run(
        "identify", "calibrate", str(unregistered), str(notes), "--count", "100", "--no-save",
        "--no-whole",
    )  # fmt: skip
    assert code == 0, output
    assert "not saved" in output and "99.9th" in output
    # What it used and what it skipped, never silently.
    flat = output.replace("\n", "")  # rich wraps long lines
    assert "used 4 file(s)" in flat and "0 whole files" in flat
    assert "skipped (not named as audio (.txt))" in flat and "liner-notes.txt" in flat
    assert load_calibration(settings) == saved  # --no-save left the saved one alone
    with pytest.raises(InvalidInput, match="--seconds"):
        run("identify", "calibrate", str(unregistered), "--seconds", "five")


def _calibration_file(*, threshold: float, version: int) -> dict[str, object]:
    return {
        "queries": 100,
        "fp_rate": 0.001,
        "threshold": threshold,
        "max_score": threshold - 1.0,
        "p99": threshold - 2.0,
        "p999": threshold - 1.5,
        "seconds": [5.0, 10.0],
        "catalogue_tracks": 4,
        "fingerprint_version": version,
        "created_at": "2026-01-01T00:00:00+00:00",
    }

"""Corpus screening against the registry and the consent engine, on both backends."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from sostenuto.audio import write_wav
from sostenuto.auth import OPERATOR, Principal
from sostenuto.errors import Conflict, Forbidden, IntegrityFailure, InvalidInput, NotFound
from sostenuto.identify import (
    ScreenRequest,
    check_output,
    fingerprinted_recordings,
    get_screen_report,
    list_screen_reports,
    open_catalogue,
    register_recording_audio,
    screen_corpus,
    unregister_recording_audio,
)
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency import read_entries
from tests.consent.conftest import World
from tests.identify.conftest import Samples, add_noise, lab, render_piece

RATE = 8000


@pytest.fixture
def registry(
    database: Database, settings: Settings, pieces: dict[int, Samples], wav_of, tmp_path: Path
) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """CMO A licenses lab L1 for train-genai; r1 is A's (permitted), r2 is B's (denied)."""
    world = World(database)
    ids = {"A": world.cmo("A", "ES"), "B": world.cmo("B", "FR")}
    ids["L1"], ids["L2"] = world.licensee("Lab one"), world.licensee("Lab two")
    ids["p1"], ids["p2"] = world.performer("Ana"), world.performer("Cora")
    world.mandate(ids["p1"], ids["A"])
    world.mandate(ids["p2"], ids["B"])
    ids["r1"] = world.recording(ids["p1"], cmo=ids["A"])
    ids["r2"] = world.recording(ids["p2"], cmo=ids["B"])
    ids["r3"] = world.recording(ids["p1"], cmo=ids["A"])  # registered, never in the corpus
    world.licence(ids["A"], ids["L1"])
    for recording, seed in (("r1", 1), ("r2", 2), ("r3", 3)):
        path = wav_of(f"master-{seed}.wav", pieces[seed])
        register_recording_audio(database, settings, ids[recording], path)
    return ids


@pytest.fixture
def corpus(tmp_path: Path, pieces: dict[int, Samples], wav_of) -> Path:  # type: ignore[no-untyped-def]
    """Four files: r1 re-encoded to MP3 and trimmed, r2 under noise, new music, a broken file."""
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    source = wav_of("r1-cut.wav", pieces[1][5 * RATE : 25 * RATE])
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(source), "-b:a", "64k", str(folder / "a.mp3")],
        check=True,
    )
    write_wav(folder / "sub" / "b.wav", add_noise(pieces[2][10 * RATE : 30 * RATE], 10.0), RATE)
    write_wav(folder / "c.wav", render_piece(321, 20.0), RATE)
    (folder / "d.ogg").write_bytes(b"OggS" + bytes(300))
    (folder / "notes.txt").write_text("not audio, not listed")
    return folder


def request(ids: dict[str, int], source: Path, **extra: object) -> ScreenRequest:
    return ScreenRequest(
        source=source, licensee_id=ids["L1"], use="train-genai", territory="ES", **extra
    )  # type: ignore[arg-type]


def test_screening_sorts_permitted_denied_unregistered_unreadable(
    database: Database, settings: Settings, registry: dict[str, int], corpus: Path
) -> None:
    seen: list[tuple[int, int]] = []
    report = screen_corpus(
        database,
        settings,
        lab(registry["L1"]),
        request(registry, corpus),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert report.summary == {
        "permitted": 1,
        "denied": 1,
        "undecided": 0,
        "unregistered": 1,
        "unreadable": 1,
    }
    by_name = {Path(row["path"]).name: row for row in report.files}
    assert by_name["a.mp3"]["status"] == "permitted"
    (found,) = by_name["a.mp3"]["recordings"]
    assert found["recording_id"] == registry["r1"]
    assert found["reference_start"] - found["query_start"] == pytest.approx(5.0, abs=0.2)
    assert found["decision"]["outcome"] == "permit" and found["decision"]["id"]
    denied = by_name["b.wav"]["recordings"][0]
    assert denied["recording_id"] == registry["r2"]
    assert denied["decision"]["outcome"] == "deny"
    assert "CMO" in denied["decision"]["reason"]
    assert by_name["c.wav"]["status"] == "unregistered"
    assert by_name["d.ogg"]["status"] == "unreadable" and by_name["d.ogg"]["error"]
    assert seen[-1] == (4, 4)
    # The three reports.
    folder = report.output_dir
    assert json.loads((folder / "report.json").read_text())["summary"] == report.summary
    with open(folder / "report.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["status"] for r in rows} == {"permitted", "denied", "unregistered", "unreadable"}
    html = (folder / "report.html").read_text()
    assert "denied" in html and "a.mp3" in html
    # Readable by the licensee and auditors, not by another licensee.
    assert get_screen_report(settings, lab(registry["L1"]), report.screen_id)["summary"]
    with pytest.raises(Forbidden):
        get_screen_report(settings, lab(registry["L2"]), report.screen_id)
    assert [r["screen_id"] for r in list_screen_reports(settings, lab(registry["L1"]))] == [
        report.screen_id
    ]
    assert list_screen_reports(settings, lab(registry["L2"])) == []


def test_screening_resumes_where_it_stopped(
    database: Database, settings: Settings, registry: dict[str, int], corpus: Path
) -> None:
    first = screen_corpus(database, settings, lab(registry["L1"]), request(registry, corpus))
    state = first.output_dir / "state.jsonl"
    lines = state.read_text().splitlines()
    assert len(lines) == 4
    # An interruption: two files done, the third torn half-way through its line.
    state.write_text("\n".join(lines[:2]) + "\n" + lines[2][:25])
    seen: list[tuple[int, int]] = []
    again = screen_corpus(
        database,
        settings,
        lab(registry["L1"]),
        request(registry, corpus),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[0] == (2, 4)  # two files were not screened again
    assert again.summary == first.summary
    assert again.screen_id == first.screen_id
    # The torn line was cut off: every file has one whole verdict line.
    paths = [json.loads(line)["path"] for line in state.read_text().splitlines()]
    assert sorted(paths) == sorted(row["path"] for row in again.files)


def test_another_threshold_or_catalogue_is_another_screen(
    database: Database, settings: Settings, registry: dict[str, int], corpus: Path
) -> None:
    """Verdicts are never relabelled: a rerun at another threshold, or after the catalogue
    changed, screens afresh into its own folder and leaves the first screen as it was."""
    principal = lab(registry["L1"])
    first = screen_corpus(database, settings, principal, request(registry, corpus))
    first_state = (first.output_dir / "state.jsonl").read_text()
    strict = screen_corpus(database, settings, principal, request(registry, corpus, threshold=1e6))
    assert strict.screen_id != first.screen_id and strict.output_dir != first.output_dir
    assert strict.meta["threshold"] == 1e6
    # Nothing reaches 10^6: the first screen's finds are not carried over under its name.
    assert strict.summary["permitted"] == strict.summary["denied"] == 0
    assert (first.output_dir / "state.jsonl").read_text() == first_state
    assert first.summary["permitted"] == 1 and first.summary["denied"] == 1
    # The same threshold again resumes the first screen.
    again = screen_corpus(database, settings, principal, request(registry, corpus))
    assert again.screen_id == first.screen_id and again.summary == first.summary
    # A folder given with --output holds one screen: another threshold is refused there.
    with pytest.raises(Conflict, match="not relabelled"):
        screen_corpus(
            database,
            settings,
            principal,
            request(registry, corpus, threshold=1e6, output_dir=first.output_dir),
        )
    # The catalogue changes (r3 taken out): the same command is a new screen.
    unregister_recording_audio(database, settings, registry["r3"])
    after = screen_corpus(database, settings, principal, request(registry, corpus))
    assert after.screen_id != first.screen_id
    assert after.meta["catalogue_version"] != first.meta["catalogue_version"]
    assert after.summary == first.summary


def test_manifest_lists_files_and_missing_ones_are_reported(
    database: Database, settings: Settings, registry: dict[str, int], corpus: Path
) -> None:
    manifest = corpus.parent / "files.csv"
    manifest.write_text("path,licence\ncorpus/a.mp3,x\ncorpus/missing.flac,y\n")
    report = screen_corpus(database, settings, lab(registry["L1"]), request(registry, manifest))
    assert [row["status"] for row in report.files] == ["permitted", "unreadable"]
    assert "cannot read" in report.files[1]["error"]


def test_refusals(
    database: Database, settings: Settings, registry: dict[str, int], corpus: Path
) -> None:
    with pytest.raises(Forbidden):
        screen_corpus(database, settings, lab(registry["L2"]), request(registry, corpus))
    with pytest.raises(InvalidInput, match="use"):
        screen_corpus(
            database,
            settings,
            OPERATOR,
            ScreenRequest(source=corpus, licensee_id=registry["L1"], use="dance", territory="ES"),
        )
    with pytest.raises(NotFound, match="AI model"):
        screen_corpus(database, settings, OPERATOR, request(registry, corpus, model="nope"))
    with pytest.raises(InvalidInput, match="no corpus"):
        screen_corpus(database, settings, OPERATOR, request(registry, corpus / "nothing"))


def test_declare_permitted_files_to_the_log(
    database: Database, settings: Settings, registry: dict[str, int], corpus: Path
) -> None:
    report = screen_corpus(
        database, settings, lab(registry["L1"]), request(registry, corpus, declare=True)
    )
    declaration = report.meta["declaration"]
    assert declaration["files"] == 2  # the permitted file and the unregistered one
    (body,) = read_entries(database, declaration["index"], 1)
    entry = json.loads(body)
    assert entry["type"] == "dataset-manifest"
    files = entry["payload"]["files"]
    assert {f.get("recording_id") for f in files} == {registry["r1"], None}
    permitted = next(f for f in files if f.get("recording_id"))
    assert permitted["decision_id"] == report.files[0]["recordings"][0]["decision"]["id"]


def test_registration_fingerprints_and_checks_the_audio(
    database: Database, settings: Settings, registry: dict[str, int], wav_of
) -> None:  # type: ignore[no-untyped-def]
    assert set(fingerprinted_recordings(database)) == {
        registry["r1"],
        registry["r2"],
        registry["r3"],
    }
    with database.transaction() as session:
        from sostenuto.storage.models.registry import Recording

        recording = session.get(Recording, registry["r3"])
        assert recording is not None
        recording.audio_sha256 = "0" * 64
    before = len(open_catalogue(settings))
    with pytest.raises(IntegrityFailure, match="not the audio registered"):
        register_recording_audio(
            database, settings, registry["r3"], wav_of("other.wav", render_piece(77, 5.0))
        )
    assert len(open_catalogue(settings)) == before
    other_admin = Principal(name="b", role="cmo-admin", cmo_id=registry["B"])
    with pytest.raises(Forbidden):
        unregister_recording_audio(database, settings, registry["r1"], principal=other_admin)
    unregister_recording_audio(database, settings, registry["r1"])
    assert registry["r1"] not in fingerprinted_recordings(database)
    assert len(open_catalogue(settings)) == before - 1


def test_check_output_reports_regurgitated_segments(
    database: Database,
    settings: Settings,
    registry: dict[str, int],
    pieces: dict[int, Samples],
    wav_of,
) -> None:  # type: ignore[no-untyped-def]
    generated = render_piece(900, 30.0)
    generated[8 * RATE : 16 * RATE] += 1.5 * pieces[2][12 * RATE : 20 * RATE]
    path = wav_of("generated.wav", generated / np.max(np.abs(generated)))
    report = check_output(database, settings, lab(registry["L1"]), path)
    (segment,) = report.segments
    assert segment["recording_id"] == registry["r2"]
    assert segment["title"] and segment["isrc"]
    assert segment["query_start"] == pytest.approx(8.0, abs=0.6)
    assert segment["reference_start"] == pytest.approx(12.0, abs=0.6)
    assert 6.0 < report.regurgitated_seconds < 9.0
    uploaded = check_output(database, settings, lab(registry["L1"]), path.read_bytes())
    assert uploaded.segments[0]["recording_id"] == registry["r2"]
    with pytest.raises(Forbidden):
        check_output(database, settings, Principal(name="x", role="public"), path)
    with pytest.raises(InvalidInput, match="cannot read"):
        check_output(database, settings, lab(registry["L1"]), path.with_name("gone.wav"))

"""Witness over a tile mirror (split views raise the alarm) and training-content summaries."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sostenuto import transparency
from sostenuto.auth import PUBLIC, Principal
from sostenuto.declarations import declare, training_summary
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency import (
    SplitView,
    declare_batch,
    mirror,
    summary_pdf,
    verifier_key,
    witness,
)
from sostenuto.transparency._tiles import decode_bundle
from tests.conftest import _fresh_sqlite
from tests.transparency.conftest import World, build_world, manifest, sha


def _outputs(world: World, start: int, count: int) -> list[tuple[str, dict[str, object]]]:
    return [
        (
            "output-declaration",
            {
                "licensee_id": world.licensee,
                "model_id": world.model,
                "output_sha256": sha(f"o{i}"),
                "generated_on": "2026-02-02",
            },
        )
        for i in range(start, start + count)
    ]


def test_witness_follows_the_log_and_alarms_on_a_split_view(
    sqlite_database: Database, sqlite_template: Path, settings: Settings, tmp_path: Path
) -> None:
    world = build_world(sqlite_database)
    key = verifier_key(settings)
    state = tmp_path / "witness.json"
    site = tmp_path / "mirror"
    declare_batch(sqlite_database, settings, world.developer, _outputs(world, 0, 10))
    mirror(sqlite_database, site)
    assert witness(str(site), key, state).status == "first"
    assert witness(str(site), key, state).status == "unchanged"
    declare_batch(sqlite_database, settings, world.developer, _outputs(world, 10, 300))
    mirror(sqlite_database, site)
    report = witness(str(site), key, state)
    assert (report.status, report.previous_size, report.size) == ("advanced", 10, 310)
    bundle = decode_bundle((site / "tile/entries/000").read_bytes())
    assert len(bundle) == 256 and b"output-declaration" in bundle[0]

    # The same key signs a forked history (a log rewritten from entry 5 on).
    fork_dir = tmp_path / "fork"
    fork_dir.mkdir()
    fork = _fresh_sqlite(sqlite_template, fork_dir)
    fork_world = build_world(fork)
    declare_batch(fork, settings, fork_world.developer, _outputs(fork_world, 0, 5))
    declare_batch(fork, settings, fork_world.developer, _outputs(fork_world, 1000, 400))
    forked_site = tmp_path / "forked-mirror"
    mirror(fork, forked_site)
    before = state.read_text()
    with pytest.raises(SplitView, match="ALARM: split view"):
        witness(str(forked_site), key, state)
    assert state.read_text() == before  # the verified state is kept

    # Tiles that do not add up to the signed root are refused too.
    shutil.copy(forked_site / "checkpoint", site / "checkpoint")
    with pytest.raises(Exception, match=r"tiles|exist"):
        witness(str(site), key, state)
    fork.dispose()


def test_summary_fills_the_template_from_the_log(
    database: Database, settings: Settings, world: World
) -> None:
    corpus = declare(database, settings, world.developer, "dataset-manifest", manifest(world))
    public = {
        "licensee_id": world.licensee,
        "name": "open corpus",
        "public_dataset": "FreeSound CC0 subset",
        "files": [
            {"sha256": sha(f"p{i}"), "source": "public", "duration_s": 3600.0} for i in range(2)
        ],
    }
    extra = declare(database, settings, world.developer, "dataset-manifest", public)
    run = {
        "licensee_id": world.licensee,
        "model_id": world.model,
        "model_version": "1.0",
        "manifests": [corpus.entry_id, extra.entry_id],
        "started_on": "2026-03-01",
        "rights_reservation_protocols": ["tdmrep", "aipref"],
    }
    declare(database, settings, world.developer, "training-run", run)
    # Performer 0 opted out before the run (not honoured), performer 1 after it (honoured).
    for performer, date in (
        (world.performers[0], "2026-02-01"),
        (world.performers[1], "2026-04-01"),
    ):
        declare(
            database,
            settings,
            world.cmo_admin,
            "consent-change",
            {
                "cmo_id": world.cmo,
                "change": "opt-out",
                "performer_id": performer,
                "uses": ["train-ai"],
                "effective_on": date,
            },
        )

    summary = training_summary(database, world.auditor, world.model)
    general = summary["general_information"]
    assert general["model"]["versions"] == ["1.0"]
    audio = general["modalities"][0]
    assert audio["files"] == 5 and audio["hours"] == pytest.approx(2 + 3 * 180 / 3600)
    assert audio["size_band"] == "Less than 10,000 hours"
    assert general["latest_collection_date"] == "2026-01-03"
    sources = summary["data_sources"]
    assert (sources["licensed"]["files"], sources["public"]["files"]) == (3, 2)
    assert sources["public"]["datasets"] == ["FreeSound CC0 subset"]
    assert sources["licensed"]["rightsholder_representatives"] == ["CMO 0"]
    processing = summary["data_processing"]
    assert processing["rights_reservation_protocols"] == ["aipref", "tdmrep"]
    assert processing["consent_decisions_cited"] == 3
    assert (processing["opt_outs_honoured"], processing["opt_outs_not_honoured"]) == (1, 1)
    annex = summary["annex_cmo"]
    assert {(row["performer_id"], row["recording_id"]) for row in annex} == {
        (world.performers[i % 3], world.recordings[i]) for i in range(3)
    }
    # The annex names each file's decision with its use, looked up with the consent service;
    # the log alone knows that every cited decision was a permit when declared.
    assert {(row["use"], row["decision_outcome"]) for row in annex} == {("train-genai", "permit")}
    from_log = transparency.training_summary(database, world.auditor, world.model)["annex_cmo"]
    assert {(row["use"], row["decision_outcome"]) for row in from_log} == {(None, "permit")}
    by_performer = {row["performer_id"]: row["opt_out"] for row in annex}
    assert by_performer[world.performers[0]]["honoured"] is False
    assert by_performer[world.performers[1]]["honoured"] is True
    assert by_performer[world.performers[2]] is None

    # The public sees the summary without the annex; another CMO sees none of these rows.
    assert "annex_cmo" not in training_summary(database, PUBLIC, world.model)
    stranger = Principal(name="x", role="cmo-admin", cmo_id=world.other_cmo)
    assert "annex_cmo" not in training_summary(database, stranger, world.model)

    pdf = summary_pdf(summary)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 2000

    # A CMO-wide reservation (no performer named) reaches every performer it represents.
    declare(
        database,
        settings,
        world.cmo_admin,
        "consent-change",
        {
            "cmo_id": world.cmo,
            "change": "opt-out",
            "scope": "repertoire",
            "uses": ["train-genai"],
            "effective_on": "2026-01-15",
        },
    )
    after = training_summary(database, world.auditor, world.model)["annex_cmo"]
    by_performer = {row["performer_id"]: row["opt_out"] for row in after}
    assert by_performer[world.performers[2]] == {"effective_on": "2026-01-15", "honoured": False}

"""In Debian's headless Chromium: a licensee (Aurora) looks up 1 000 ISRCs from a CSV, reads
the summary and downloads the answers; then screens three audio files, follows the
screening, declares the permitted file and downloads the receipt. Every new page is checked
with axe-core at 1280 px and 390 px (no serious or critical violation, no sideways
scrolling) and kept as a screenshot under the test's tmp dir."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sostenuto.api import create_app
from sostenuto.identify import UploadJob
from sostenuto.identify._uploads import _folder, _save
from sostenuto.registry.demo import RECORDINGS
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency import verifier_key, verify_receipt
from tests.serving import CHROMIUM, chromium, served_app
from tests.web.conftest import PASSWORD, World
from tests.web.corpus_audio import Corpus, corpus_against_demo
from tests.web.test_journey_browser import Checker

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"
)
DEMO_ISRCS = [isrc for isrc, *_ in RECORDINGS]


@pytest.fixture
def corpus(sqlite_database: Database, settings: Settings, world: World, tmp_path: Path) -> Corpus:
    return corpus_against_demo(sqlite_database, settings, world.aurora, tmp_path / "audio")


@pytest.fixture
def served(
    sqlite_database: Database, settings: Settings, world: World, corpus: Corpus
) -> Iterator[str]:
    with served_app(create_app(settings, sqlite_database)) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _thousand_isrcs() -> str:
    """1 000 lines: every third an ISRC no one registered, the rest demo recordings."""
    lines = ["isrc"]
    for n in range(1_000):
        lines.append(f"ES-ZZZ-25-{n:05d}" if n % 3 == 0 else DEMO_ISRCS[n % len(DEMO_ISRCS)])
    return "\n".join(lines) + "\n"


def test_a_licensee_looks_up_a_thousand_isrcs_then_screens_and_declares_files(
    served: str,
    browser: Any,
    tmp_path: Path,
    world: World,
    corpus: Corpus,
    settings: Settings,
) -> None:
    check = Checker(tmp_path)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(served + "/sign-in")
    page.get_by_label("Username").fill("aurora")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_selector(".signed-in")
    main_nav = page.get_by_role("navigation", name="Main")

    # The CSV of 1 000 ISRCs: summary, a page of the table, the download.
    main_nav.get_by_role("link", name="Look-up by list").click()
    page.wait_for_selector("#batch-form")
    check(page, "console-batch")
    page.get_by_label("CSV of ISRCs").set_input_files(
        {"name": "catalogue.csv", "mimeType": "text/csv", "buffer": _thousand_isrcs().encode()}
    )
    page.get_by_label("Use").select_option("train-genai")
    page.get_by_role("button", name="Look them up").click()
    page.wait_for_selector("#summary")
    counts = {
        name: int(page.inner_text(f"#count-{name} .count"))
        for name in ("permitted", "denied", "unknown", "malformed")
    }
    assert sum(counts.values()) == 1_000
    assert counts["unknown"] == 334 and counts["malformed"] == 0
    assert counts["permitted"] > 0 and counts["denied"] > 0
    assert page.locator("#answers tbody tr").count() == 100
    check(page, "console-batch-result")
    with page.expect_download() as downloading:
        page.click("#download")
    download = downloading.value
    assert download.suggested_filename.startswith("consent-train-genai-ES-")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    assert len(rows) == 1_000
    assert sum(row["decision"] == "unknown" for row in rows) == 334
    assert all(row["decision_id"] for row in rows if row["decision"] in ("permitted", "denied"))
    page.get_by_role("link", name="Next page").click()
    page.wait_for_selector("text=Page 2 of 10")
    page.get_by_role("link", name="Unknown").click()
    page.wait_for_selector('#answers tr[data-status="unknown"]')
    assert page.locator('#answers tbody tr[data-status="unknown"]').count() == 100
    check(page, "console-batch-unknown")

    # Three audio files: screened, decided, declared.
    main_nav.get_by_role("link", name="Screen files").click()
    page.wait_for_selector("#corpus-form")
    check(page, "console-corpus")
    page.get_by_label("Audio files").set_input_files(list(corpus.files.values()))
    page.get_by_label("Use").select_option("train-genai")
    page.get_by_role("button", name="Screen them").click()
    page.wait_for_selector("#files", timeout=240_000)  # the script reloads once it is over
    statuses = {
        row.get_attribute("data-file"): row.get_attribute("data-status")
        for row in page.locator("#files tbody tr").all()
    }
    assert statuses == {
        "take-one.wav": "permitted",
        "take-two.flac": "denied",
        "new-song.wav": "unregistered",
    }
    check(page, "console-corpus-report")
    page.get_by_role("button", name="Declare the permitted files").click()
    page.wait_for_selector("#receipt")
    check(page, "console-corpus-declared")
    with page.expect_download() as downloading:
        page.click("#receipt-download")
    bundle = json.loads(Path(downloading.value.path()).read_text())
    verified = verify_receipt(bundle, verifier_key(settings))
    assert str(verified.index) == page.inner_text("#receipt-index")

    # A screening still running: the progress page, followed by its script.
    running = UploadJob(
        job_id="0123456789abcdef",
        licensee_id=world.aurora,
        use="train-genai",
        territory="ES",
        names=["a.wav", "b.wav"],
        created_at="2026-01-01T00:00:00+00:00",
        done=1,
    )
    _folder(settings, running.job_id).mkdir(parents=True)
    _save(settings, running)
    page.goto(served + f"/console/corpus/{running.job_id}")
    page.wait_for_selector("#progress-bar")
    assert page.get_attribute("#progress-bar", "value") == "1"
    check(page, "console-corpus-screening")

    assert len(check.checked) == 7
    assert len(list(tmp_path.glob("*.png"))) == 2 * len(check.checked)

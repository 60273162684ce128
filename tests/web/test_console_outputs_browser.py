"""In Debian's headless Chromium: Aurora labels a generated file from the console's form, reads
the result and its log receipts; each page checked with axe-core at 1280 px and 390 px (see
``Checker``) and kept as a screenshot under the test's tmp dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import soundfile

from sostenuto.api import create_app
from sostenuto.label import init_keys
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.label.conftest import RATE, synth_music
from tests.serving import CHROMIUM, chromium, served_app
from tests.web.conftest import World
from tests.web.test_journey_browser import Checker
from tests.web.test_journey_office_browser import _signed_in

pytestmark = [
    pytest.mark.audio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def served(sqlite_database: Database, settings: Settings, world: World) -> Iterator[str]:
    init_keys(settings.keys_dir)
    with served_app(create_app(settings, sqlite_database)) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def test_aurora_labels_an_output_and_reads_its_receipts(
    served: str, browser: Any, tmp_path: Path
) -> None:
    check = Checker(tmp_path)
    song = tmp_path / "song.wav"
    soundfile.write(str(song), synth_music(8.0, seed=5), RATE, subtype="PCM_16")
    page = _signed_in(browser, served, "aurora")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Label an output").click()
    page.wait_for_selector("#label-form")
    check(page, "console-outputs")

    page.get_by_label("Generated audio file").set_input_files(str(song))
    page.get_by_label("Declare this output in the public log").check()
    page.get_by_role("button", name="Label and declare").click()
    page.wait_for_selector("#receipt-index", timeout=60_000)
    index = page.inner_text("#receipt-index")
    check(page, "console-outputs-result")

    page.click("text=My log receipts >> nth=-1")
    page.wait_for_selector(f'#receipts tr[data-index="{index}"]')
    check(page, "console-receipts")

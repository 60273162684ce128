"""In Debian's headless Chromium: the office dashboard with its alerts, and the reference
audio upload with its result, each checked with axe-core at 1280 and 390 px."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile

from sostenuto.api import create_app
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.identify.conftest import render_piece
from tests.serving import CHROMIUM, chromium, served_app
from tests.web.conftest import LUCIA, PASSWORD, World
from tests.web.test_journey_browser import Checker
from tests.web.test_office_alerts_audio import AIE_ISRC, RATE, store_screening

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"
)


@pytest.fixture
def served(sqlite_database: Database, settings: Settings, world: World) -> Iterator[str]:
    with served_app(create_app(settings, sqlite_database)) as url:
        yield url


def test_the_admin_reads_the_alerts_and_registers_audio(
    served: str, sqlite_database: Database, world: World, tmp_path: Path
) -> None:
    store_screening(sqlite_database, world)
    audio = tmp_path / "master.wav"
    soundfile.write(audio, render_piece(7, 12.0, RATE), RATE)
    check = Checker(tmp_path)
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(served + "/sign-in")
        page.get_by_label("Username").fill("marta")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_selector(".signed-in")
        page.goto(served + "/office")
        assert LUCIA in page.inner_text("#alerts")
        check(page, "office-alerts")

        page.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Reference audio"
        ).click()
        page.wait_for_selector("#audio-form")
        page.get_by_label("ISRC of the recording").fill(AIE_ISRC)
        page.get_by_label("Audio file").set_input_files(str(audio))
        page.get_by_role("button", name="Register the audio").click()
        page.wait_for_selector("#audio-result")
        assert page.inner_text("#audio-duration") == "12.0 s"
        check(page, "office-audio-result")
    assert check.checked == ["office-alerts", "office-audio-result"]

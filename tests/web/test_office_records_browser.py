"""In Debian's headless Chromium: the CMO's admin opens a recording from the catalogue, then
one of its performers; both pages pass axe-core at 1280 px and 390 px (see ``Checker``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sostenuto.api import create_app
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.serving import CHROMIUM, chromium, served_app
from tests.web.conftest import LUCIA, PASSWORD, World
from tests.web.test_journey_browser import Checker
from tests.web.test_office_records import MAREA

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"
)


@pytest.fixture
def served(sqlite_database: Database, settings: Settings, world: World) -> Iterator[str]:
    with served_app(create_app(settings, sqlite_database)) as url:
        yield url


def test_the_admin_opens_a_recording_and_its_performer(
    served: str, tmp_path: Path, world: World
) -> None:
    check = Checker(tmp_path)
    with chromium() as browser:
        page: Any = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(served + "/sign-in")
        page.get_by_label("Username").fill("marta")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_selector(".signed-in")
        page.goto(served + "/office/catalogue?isrc=" + MAREA)
        page.click(f'a[href="/office/recordings/{MAREA}"]')
        page.wait_for_selector("#contributions")
        check(page, "office-recording")
        page.get_by_role("link", name=LUCIA).click()
        page.wait_for_selector("#mandates")
        check(page, "office-performer")
    assert check.checked == ["office-recording", "office-performer"]

"""In Debian's headless Chromium: the CMO's admin permits a use on the consent rules page,
reads the consequence, confirms and finds the rule in the list. The confirmation and the list
are checked with axe-core at 1280 px and 390 px (see ``Checker``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sostenuto.api import create_app
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.serving import CHROMIUM, chromium, served_app
from tests.web.conftest import World
from tests.web.test_journey_browser import Checker
from tests.web.test_journey_office_browser import _signed_in

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"
)


@pytest.fixture
def served(sqlite_database: Database, settings: Settings, world: World) -> Iterator[str]:
    with served_app(create_app(settings, sqlite_database)) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def test_the_admin_permits_a_use_after_reading_the_consequence(
    served: str, browser: Any, tmp_path: Path, world: World
) -> None:
    check = Checker(tmp_path)
    admin = _signed_in(browser, served, "marta")
    admin.goto(served + "/office/rules")
    admin.select_option("#permit-scope", "performer")
    admin.fill("#permit-scope-id", str(world.lucia))
    admin.fill("#permit-uses", "fine-tune")
    admin.click("#permit-form button[type=submit]")
    admin.wait_for_selector("#consequence")
    assert "never changes the past" in admin.inner_text("#consequence")
    check(admin, "office-rules-confirm")
    admin.click("#confirm-form button[type=submit]")
    admin.wait_for_selector("#done")
    assert "is recorded and declared" in admin.inner_text("#done")
    check(admin, "office-rules")

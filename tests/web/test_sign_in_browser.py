"""Sign in through the form in Debian's headless Chromium and see the signed-in header."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sostenuto.api import create_app
from sostenuto.auth import add_user
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.serving import CHROMIUM, chromium, served_app

PASSWORD = "correct horse battery staple"


@pytest.fixture
def served(sqlite_database: Database, settings: Settings) -> Iterator[str]:
    with sqlite_database.transaction() as session:
        add_user(session, username="carla", password=PASSWORD, role="auditor")
    with served_app(create_app(settings, sqlite_database)) as url:
        yield url


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_sign_in_and_out_in_headless_chromium(served: str) -> None:

    with chromium() as browser:
        page = browser.new_page()
        page.goto(served + "/")
        page.click("text=Sign in")
        assert page.url.endswith("/sign-in")
        page.get_by_label("Username").fill("carla")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_selector(".signed-in")
        assert "user:carla" in page.inner_text(".signed-in")
        assert "(auditor)" in page.inner_text(".signed-in")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/sign-in")
        page.goto(served + "/")
        assert page.locator(".signed-in").count() == 0

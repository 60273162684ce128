"""In Debian's headless Chromium: the pages with charts (the performer's page with its usage,
voiceprint and money sections, the CMO's dashboard, the licensee's console) pass axe-core at
1280 px and 390 px (no serious or critical violation, no sideways scrolling), and each chart
is drawn at the width of its column with its name available to assistive technology."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sostenuto.api import create_app
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.declarations.revocations import declare_corpus
from tests.serving import CHROMIUM, chromium, served_app
from tests.web.conftest import PASSWORD, World
from tests.web.test_journey_browser import Checker

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"
)


@pytest.fixture
def served(sqlite_database: Database, settings: Settings, world: World) -> Iterator[str]:
    declare_corpus(sqlite_database, settings)  # decisions for the charts, usage for /me
    with served_app(create_app(settings, sqlite_database)) as url:
        yield url


def _sign_in(page: Any, served: str, username: str) -> None:
    page.goto(served + "/sign-in")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/sign-in" not in url)


def _charts_fit(page: Any, name: str) -> None:
    """Every chart has an accessible name and fits its column at 390 px."""
    page.set_viewport_size({"width": 390, "height": 900})
    charts = page.eval_on_selector_all(
        "svg.plot",
        """svgs => svgs.map(svg => ({
            title: svg.querySelector('title') && svg.querySelector('title').textContent,
            width: svg.getBoundingClientRect().width,
            column: svg.parentElement.getBoundingClientRect().width,
        }))""",
    )
    assert charts, f"{name}: no chart"
    for chart in charts:
        assert chart["title"], name
        assert 200 < chart["width"] <= chart["column"] + 0.5, (name, chart)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.parametrize(
    ("username", "path", "name"),
    [("lucia", "/me", "me"), ("marta", "/office", "office"), ("aurora", "/console", "console")],
)
def test_pages_with_charts_pass_axe_at_both_widths(
    served: str, tmp_path: Path, username: str, path: str, name: str
) -> None:
    check = Checker(tmp_path)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _sign_in(page, served, username)
        page.goto(served + path)
        _charts_fit(page, name)
        check(page, name)
        if name == "me":
            # The usage table links each declaration to its receipt in the log.
            assert page.locator("#my-usage a[href^='/api/v1/log/proofs/inclusion/']").count() == 1
    assert check.checked == [name]

"""In Debian's headless Chromium: a performer refuses voice cloning through the request form
(keyboard only), the CMO's admin reviews the consequence and applies it, the performer sees it
applied, a licensee looks the recording up by ISRC. Every page on the way is checked with
axe-core at 1280 px and 390 px (no serious or critical violation, no sideways scrolling) and
kept as a screenshot under the test's tmp dir."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sostenuto.api import create_app
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.serving import CHROMIUM, chromium, served_app
from tests.web.conftest import PASSWORD, World

WIDTHS = (1280, 390)
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


class Checker:
    """Checks the page shown at each width and keeps its screenshots."""

    def __init__(self, folder: Path) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.folder = folder
        self.checked: list[str] = []

    def __call__(self, page: Any, name: str) -> None:
        original = page.viewport_size
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            results = self.axe.run(page)
            bad = [
                (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                for v in results.response["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            assert not bad, (name, width, bad)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (name, width, f"scrolls sideways by {overflow} px")
            page.screenshot(path=str(self.folder / f"{name}-{width}.png"), full_page=True)
        page.set_viewport_size(original)
        self.checked.append(name)


def _tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the element ``selector`` names has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement === document.querySelector({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _sign_in_by_keyboard(page: Any, served: str, username: str) -> None:
    page.goto(served + "/sign-in")
    _tab_to(page, "#username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector(".signed-in")


def test_a_performer_refuses_voice_cloning_and_the_cmo_applies_it(
    served: str, browser: Any, tmp_path: Path, world: World
) -> None:
    check = Checker(tmp_path)
    performer = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    performer.goto(served + "/")
    check(performer, "home-public")
    performer.goto(served + "/sign-in")
    check(performer, "sign-in")
    performer.goto(served + "/office", wait_until="load")
    check(performer, "error-401")

    # The performer, keyboard only: sign in, open the page, refuse voice cloning in Spain.
    _sign_in_by_keyboard(performer, served, "lucia")
    check(performer, "home-performer")
    _tab_to(performer, 'nav a[href="/me"]')
    performer.keyboard.press("Enter")
    performer.wait_for_url("**/me")
    check(performer, "performer")
    _tab_to(performer, "#request-form input[value=prohibit]")
    assert performer.is_checked("#request-form input[value=prohibit]")
    _tab_to(performer, "#use")
    performer.keyboard.type("Voice cloning")
    assert performer.input_value("#use") == "voice-clone"
    performer.keyboard.press("Tab")
    performer.keyboard.press("Control+A")
    performer.keyboard.type("ES")
    _tab_to(performer, "#request-form button[type=submit]")
    performer.keyboard.press("Enter")
    performer.wait_for_selector("p.notice")
    notice = performer.inner_text("p.notice")
    request_id = int(re.search(r"Request (\d+) was sent", notice).group(1))  # type: ignore[union-attr]
    row = performer.locator(f'tr[data-request="{request_id}"]')
    assert "Refuse voice cloning to any AI company in Spain" in row.inner_text()
    assert "pending" in row.inner_text()
    check(performer, "performer-request-sent")
    performer.goto(served + "/office", wait_until="load")
    assert "may not use a CMO" in performer.inner_text("main")
    check(performer, "error-403")

    # The CMO's admin: dashboard, catalogue, the request, its consequence, Apply.
    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    admin.goto(served + "/sign-in")
    admin.get_by_label("Username").fill("marta")
    admin.get_by_label("Password", exact=True).fill(PASSWORD)
    admin.get_by_role("button", name="Sign in", exact=True).click()
    admin.wait_for_selector(".signed-in")
    assert world.aie_name in admin.inner_text("header")
    main_nav = admin.get_by_role("navigation", name="Main")
    main_nav.get_by_role("link", name="CMO office").click()
    admin.wait_for_url("**/office")
    assert admin.inner_text("#pending") == "1"
    check(admin, "office-dashboard")
    main_nav.get_by_role("link", name="Catalogue").click()
    admin.wait_for_selector("#catalogue")
    check(admin, "office-catalogue")
    main_nav.get_by_role("link", name="Performers' requests").click()
    admin.wait_for_selector("#pending")
    check(admin, "office-requests")
    # Review and apply, keyboard only.
    _tab_to(admin, f'a[href="/office/requests/{request_id}"]')
    admin.keyboard.press("Enter")
    admin.wait_for_selector("#consequence")
    assert "will be denied" in admin.inner_text("#consequence")
    check(admin, "office-request")
    _tab_to(admin, f'form[action="/office/requests/{request_id}/apply"] button')
    admin.keyboard.press("Enter")
    admin.wait_for_selector("p.notice")
    assert f"Request {request_id} was applied" in admin.inner_text("p.notice")
    check(admin, "office-requests-applied")

    # The performer sees it applied, and voice cloning refused.
    performer.goto(served + "/me")
    row = performer.locator(f'tr[data-request="{request_id}"]')
    assert "applied" in row.inner_text() and "user:marta" in row.inner_text()
    assert "Refused" in performer.inner_text('tr[data-use="voice-clone"]')
    check(performer, "performer-applied")

    # The licensee looks the recording up by ISRC: denied, at an address it can share.
    licensee = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    licensee.goto(served + "/sign-in")
    licensee.get_by_label("Username").fill("aurora")
    licensee.get_by_label("Password", exact=True).fill(PASSWORD)
    licensee.get_by_role("button", name="Sign in", exact=True).click()
    licensee.wait_for_selector(".signed-in")
    licensee.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Consent look-up"
    ).click()
    licensee.wait_for_selector("#look-up")
    check(licensee, "console")
    licensee.get_by_label("ISRC").fill("ES-A7Q-19-00101")
    licensee.get_by_label("Use").select_option("voice-clone")
    licensee.get_by_role("button", name="Ask").click()
    licensee.wait_for_selector("#decision-id")
    assert "Denied" in licensee.inner_text("h1")
    assert "/console/decisions/" in licensee.url
    check(licensee, "console-decision")

    assert len(check.checked) == 15
    assert len(list(tmp_path.glob("*.png"))) == 2 * len(check.checked)


def test_the_public_pages_do_not_scroll_sideways_on_a_phone(served: str, browser: Any) -> None:
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    for path in ("/", "/sign-in", "/label/inspect", "/transparency", "/remuneration", "/nowhere"):
        page.goto(served + path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (path, overflow)

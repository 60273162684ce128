"""In Debian's headless Chromium: the CMO's admin imports a catalogue with a bad row, reads
the report, downloads the bad rows, fixes and uploads them, and finds the recording in the
catalogue; the admin runs the distribution of an ended period from the office's form (from
the transparency log), reads the run, and the performer opens her statement and downloads it
as CSV and PDF. Every new page is checked with axe-core at
1280 px and 390 px (see ``Checker``) and kept as a screenshot under the test's tmp dir."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from sostenuto import registry
from sostenuto.api import create_app
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.web.import_jobs import ImportJob, ImportJobs
from tests.serving import CHROMIUM, chromium, served_app
from tests.web.conftest import PASSWORD, World
from tests.web.test_journey_browser import Checker
from tests.web.test_office_import import BAD, GOOD, HEADER
from tests.web.test_office_remuneration import PERIOD, prepare

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"
)


@pytest.fixture
def app(sqlite_database: Database, settings: Settings, world: World) -> FastAPI:
    return create_app(settings, sqlite_database)


@pytest.fixture
def served(app: FastAPI) -> Iterator[str]:
    with served_app(app) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _signed_in(browser: Any, served: str, username: str) -> Any:
    page = browser.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True
    ).new_page()
    page.goto(served + "/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_selector(".signed-in")
    return page


def _download(page: Any, selector: str, folder: Path) -> tuple[str, bytes]:
    """Click the link ``selector`` names; the file's suggested name and its bytes."""
    with page.expect_download() as started:
        page.click(selector)
    download = started.value
    saved = folder / download.suggested_filename
    download.save_as(str(saved))
    return download.suggested_filename, saved.read_bytes()


def test_the_admin_imports_fixes_the_bad_row_and_finds_the_recording(
    served: str, app: FastAPI, browser: Any, tmp_path: Path, world: World
) -> None:
    check = Checker(tmp_path)
    upload = tmp_path / "spring.csv"
    upload.write_text(f"{HEADER}\n{GOOD}\n{BAD}\n", encoding="utf-8")
    admin = _signed_in(browser, served, "marta")
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    admin.wait_for_selector("#import-form")
    check(admin, "office-import")
    admin.get_by_label("Catalogue CSV").set_input_files(str(upload))
    admin.get_by_role("button", name="Import").click()
    admin.wait_for_selector("#import-result", timeout=30_000)
    assert admin.inner_text("#imported") == "1" and admin.inner_text("#bad-count") == "1"
    row = admin.locator('#bad-rows tr[data-line="3"]').inner_text()
    assert "fixation_year" in row and "not a whole number" in row
    check(admin, "office-import-report")

    name, content = _download(admin, "#bad-rows-download", tmp_path)
    assert name == "spring-bad-rows.csv"
    fixed = tmp_path / "spring-fixed.csv"
    fixed.write_bytes(content.replace(b"20x6", b"2026"))
    admin.goto(served + "/office/import")
    admin.get_by_label("Catalogue CSV").set_input_files(str(fixed))
    admin.get_by_role("button", name="Import").click()
    admin.wait_for_selector("#import-result", timeout=30_000)
    assert admin.inner_text("#imported") == "1" and admin.inner_text("#bad-count") == "0"
    check(admin, "office-import-clean")
    admin.goto(served + "/office/import")
    assert admin.locator("#imports tbody tr").count() == 2
    check(admin, "office-import-recent")

    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Catalogue").click()
    admin.get_by_label("or ISRC").fill("ES-A7Q-26-00002")
    admin.get_by_role("button", name="Search").click()
    admin.wait_for_selector("#catalogue")
    assert "Tierra adentro" in admin.inner_text("#catalogue")

    # A long import, as its page shows it while it runs (staged: a file that takes seconds
    # here would make the test slow and its timing uncertain). The page polls its status.
    jobs: ImportJobs = app.state.import_jobs
    running = ImportJob(
        id="running-import-1",
        cmo_id=world.aie,
        started_by="user:marta",
        filename="large.csv",
        started_at=dt.datetime.now(dt.UTC),
        read=40,
        size=100,
    )
    jobs._jobs[running.id] = running
    admin.goto(f"{served}/office/import/{running.id}")
    admin.wait_for_selector("#import-progress")
    assert admin.inner_text("#percent") == "40 %"
    check(admin, "office-import-running")
    running.read = 90
    admin.wait_for_function("document.getElementById('percent').textContent === '90 %'")
    running.report, running.state = registry.ImportReport(imported=3), "done"
    admin.wait_for_selector("#import-result")
    assert admin.inner_text("#imported") == "3"
    assert len(check.checked) == 5


def test_the_admin_runs_the_distribution_and_the_performer_downloads_her_statement(
    served: str,
    browser: Any,
    tmp_path: Path,
    sqlite_database: Database,
    settings: Settings,
    world: World,
) -> None:
    check = Checker(tmp_path)
    # A tariff on AIE's licence to Aurora, and Aurora's training declared to the log.
    prepare(sqlite_database, settings, world)

    admin = _signed_in(browser, served, "marta")
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Distributions").click()
    admin.wait_for_selector("#run-form")
    assert "every CMO's" in admin.inner_text("#run-consequence")
    assert admin.locator("#no-runs").count() == 1
    check(admin, "office-remuneration-form")
    admin.get_by_label("Run the distribution for period").fill(PERIOD)
    # The browser keeps the form until the consequence is acknowledged.
    admin.get_by_role("button", name="Run the distribution").click()
    assert admin.locator("#run-form input:invalid").count() == 1
    admin.get_by_label("I understand that this distributes every CMO's money").check()
    admin.get_by_role("button", name="Run the distribution").click()
    admin.wait_for_selector("#ran", timeout=30_000)
    assert f"The distribution for {PERIOD} was run" in admin.inner_text("#ran")
    assert "1,234,567.89 EUR" in admin.inner_text(f"#run-{PERIOD}")
    check(admin, "office-remuneration")
    for path, table in (("/office/licences", "#licences"), ("/office/agreements", "#agreements")):
        admin.goto(served + path)
        admin.wait_for_selector(table)
        check(admin, path.rsplit("/", 1)[1])
    admin.goto(served + "/office/remuneration")
    admin.locator(f"#run-{PERIOD}").get_by_role("link", name="5 statements").click()
    admin.wait_for_selector("#statements")
    assert "Lucía Ferrer (performer)" in admin.inner_text("#statements")
    check(admin, "remuneration-statements")

    lucia = _signed_in(browser, served, "lucia")
    lucia.goto(served + "/me")
    lucia.click(f'a[href="/remuneration/{PERIOD}/performer/{world.lucia}"]')
    lucia.wait_for_selector("#lines")
    assert "Lucía Ferrer (performer)" in lucia.inner_text("h1")
    assert "Marea baja" in lucia.inner_text("#lines")
    assert lucia.inner_text("#total").endswith(" EUR") and "," in lucia.inner_text("#total")
    check(lucia, "remuneration-statement")

    name, content = _download(lucia, "#download-csv", tmp_path)
    assert name == f"statement-{PERIOD}-performer-{world.lucia}.csv"
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    assert rows and all("." in row["net"] and "," not in row["net"] for row in rows)
    name, content = _download(lucia, "#download-pdf", tmp_path)
    assert name.endswith(".pdf") and content.startswith(b"%PDF")
    assert len(check.checked) == 6

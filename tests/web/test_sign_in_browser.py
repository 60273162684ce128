"""Sign in through the form in Debian's headless Chromium and see the signed-in header."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from sostenuto.api import create_app
from sostenuto.auth import add_user
from sostenuto.settings import Settings
from sostenuto.storage import Database

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(sqlite_database: Database, settings: Settings) -> Iterator[str]:
    with sqlite_database.transaction() as session:
        add_user(session, username="carla", password=PASSWORD, role="auditor")
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, sqlite_database), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{url}/api/v1/health").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_sign_in_and_out_in_headless_chromium(served: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
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
        finally:
            browser.close()

"""In Debian's headless Chromium, the public: inspects a labelled file, opens the result at its
shareable address, follows it to the log explorer, and checks a receipt by uploading it in the
page and, with JavaScript, by dropping it on the drop zone; then reads a CMO's reservations and
the embeddable label. Every new page is checked with axe-core at 1280 px and 390 px (no serious
or critical violation, no sideways scrolling) and kept as a screenshot under the test's tmp dir."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sostenuto.api import create_app
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.serving import CHROMIUM, chromium, served_app
from tests.web.conftest import World
from tests.web.test_embed import label_demo_output
from tests.web.test_journey_browser import Checker

pytestmark = [
    pytest.mark.audio,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]

# Drops a file holding ``text`` on the form, as a person dragging it from their desktop would.
_DROP = """([selector, name, text]) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([text], name, {type: "application/json"}));
  const target = document.querySelector(selector);
  const options = {dataTransfer: transfer, bubbles: true, cancelable: true};
  for (const type of ["dragenter", "dragover", "drop"]) {
    target.dispatchEvent(new DragEvent(type, options));
  }
}"""


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def test_the_public_inspects_a_file_follows_it_to_the_log_and_checks_a_receipt(
    sqlite_database: Database, settings: Settings, world: World, browser: Any, tmp_path: Path
) -> None:
    labelled_path, labelled = label_demo_output(sqlite_database, settings, world, tmp_path)
    check = Checker(tmp_path)
    with served_app(create_app(settings, sqlite_database)) as served:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()

        # Inspect: the upload form, then the result at the file's own address.
        page.goto(served + "/")
        page.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Inspect a file"
        ).click()
        page.wait_for_url("**/label/inspect")
        assert page.is_visible("[data-dropzone-target]")  # the script enhanced the form
        check(page, "inspect-form")
        page.get_by_label("Audio file to inspect").set_input_files(str(labelled_path))
        page.get_by_role("button", name="Inspect", exact=True).click()
        page.wait_for_url(f"**/label/inspect/{labelled.sha256}")
        assert "labelled as AI-generated" in page.inner_text("#verdict")
        assert "aurora-music 2.1" in page.inner_text("#declaration")
        check(page, "inspection")

        # The shareable address opens the same result in a fresh browser.
        other = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        other.goto(f"{served}/label/inspect/{labelled.sha256}")
        assert "labelled as AI-generated" in other.inner_text("#verdict")
        other.goto(f"{served}/embed/label/{labelled.sha256}")
        assert other.inner_text("#embed-verdict") == "AI-generated"
        check(other, "embed-label")

        # Follow it to the log: the entry, verified; the explorer; a search by content hash.
        page.get_by_role(
            "link", name=f"Log entry {labelled.log_index} and its inclusion proof"
        ).click()
        page.wait_for_url(f"**/log/entries/{labelled.log_index}")
        assert "Verified" in page.inner_text("#inclusion")
        check(page, "log-entry")
        page.get_by_role("navigation", name="Breadcrumb").get_by_role(
            "link", name="Transparency log"
        ).click()
        page.wait_for_url("**/log")
        assert page.inner_text("#checkpoint-size") == "1"
        check(page, "log-explorer")
        page.get_by_label("Find an entry by log index, entry id or a file's SHA-256").fill(
            hashlib.sha256(labelled.source).hexdigest()
        )
        page.get_by_role("button", name="Find", exact=True).click()
        page.wait_for_url("**/log/hash/*")
        assert page.locator(f'tr[data-index="{labelled.log_index}"]').count() == 1
        check(page, "log-search")

        # Check a receipt: upload it with the form's file input.
        receipt = page.request.get(f"{served}/api/v1/log/proofs/inclusion/{labelled.log_index}")
        receipt_path = tmp_path / "receipt.json"
        receipt_path.write_text(receipt.text())
        page.goto(served + "/log")
        page.get_by_role("link", name="Check a receipt").click()
        page.wait_for_url("**/log/verify")
        check(page, "log-verify")
        page.get_by_label("Upload a receipt file (JSON)").set_input_files(str(receipt_path))
        page.get_by_role("button", name="Check", exact=True).click()
        page.wait_for_selector("#verdict-text")
        assert page.inner_text("#verdict-text") == "The receipt verifies"
        check(page, "log-verify-valid")

        # With JavaScript: drop a tampered receipt on the drop zone; it fails with the reason.
        tampered = json.loads(receipt.text())
        tampered["inclusion_proof"] = ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]
        page.goto(served + "/log/verify")
        with page.expect_navigation():
            page.evaluate(_DROP, ["#verify-form", "tampered.json", json.dumps(tampered)])
        assert page.inner_text("#verdict-text") == "The receipt does not verify"
        assert "inclusion" in page.inner_text("#reason")
        check(page, "log-verify-invalid")
        # And the genuine one, dropped, verifies.
        with page.expect_navigation():
            page.evaluate(_DROP, ["#verify-form", "receipt.json", receipt.text()])
        assert page.inner_text("#verdict-text") == "The receipt verifies"

        # A CMO's reservations, from the public navigation.
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Reservations").click()
        page.wait_for_url("**/reservations")
        check(page, "reservations")
        page.get_by_role("link", name="AIE").click()
        page.wait_for_url("**/reservations/AIE")
        assert "Voice cloning" in page.inner_text("#reserved")
        check(page, "reservations-cmo")

    assert len(check.checked) == 11
    assert len(list(tmp_path.glob("*.png"))) == 2 * len(check.checked)

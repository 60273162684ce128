"""``client.changes.since`` and ``sostenuto_client.webhooks.verify`` against a live server
(uvicorn over SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sostenuto_client as sc
from sostenuto_client import webhooks

from sostenuto.declarations import DeliveryPolicy, set_delivery_policy, wait_for_deliveries
from sostenuto.settings import Settings
from tests.client.conftest import AURORA, CADENZA, Live
from tests.declarations.revocations import EFFECTIVE, LUCIA_ONLY, USE, Corpus, declare_corpus


@pytest.fixture
def corpus(live_both: Live, settings: Settings) -> Corpus:
    return declare_corpus(live_both.database, settings)


def _prohibit_lucia(live: Live, corpus: Corpus) -> int:
    with live.client("cmo-admin:AIE") as cmo:
        rule = cmo.consent.rules.prohibit(
            scope="performer",
            scope_id=corpus.performer_id,
            uses=[USE],
            territories=["WW"],
            valid_from=EFFECTIVE,
        )
    assert wait_for_deliveries(30)
    return int(rule["log_entry"]["index"])


def test_since_lists_the_revoked_file_per_manifest_and_the_next_checkpoint(
    live_both: Live, corpus: Corpus
) -> None:
    index = _prohibit_lucia(live_both, corpus)
    with live_both.client(AURORA) as client:
        found = client.changes.since(0, page_size=1)
        [manifest] = found.manifests
        assert manifest.index == corpus.manifest_index and manifest.name == "aurora-corpus-2026"
        [revoked] = manifest.revoked
        assert (revoked.isrc, revoked.from_date, revoked.change_index) == (
            LUCIA_ONLY,
            EFFECTIVE,
            index,
        )
        assert revoked.sha256 == corpus.hashes[LUCIA_ONLY]
        assert [change["index"] for change in found.changes] == [index]
        assert found.checkpoint == index + 1
        later = client.changes.since(found.checkpoint)
        assert later.manifests == [] and later.changes == []
        assert later.checkpoint == found.checkpoint
    with live_both.client(CADENZA) as other:
        assert other.changes.since(0).files == []


def test_the_async_twin_answers_the_same(live_both: Live, corpus: Corpus) -> None:
    _prohibit_lucia(live_both, corpus)

    async def read() -> sc.Revocations:
        async with sc.AsyncClient(live_both.url, live_both.tokens[AURORA]) as client:
            return await client.changes.since(0)

    found = asyncio.run(read())
    with live_both.client(AURORA) as client:
        assert found == client.changes.since(0)
    assert [item.isrc for item in found.files] == [LUCIA_ONLY]


def test_bad_arguments_are_refused_before_any_request(live: Live) -> None:
    with live.client(AURORA) as client:
        with pytest.raises(sc.UsageError, match="checkpoint"):
            client.changes.since(-1)
        with pytest.raises(sc.UsageError, match="page_size"):
            client.changes.since(0, page_size=0)
        with pytest.raises(sc.InvalidInput, match="beyond the log's size"):
            client.changes.since(10**6)
    with live.client(CADENZA) as other, pytest.raises(sc.Forbidden):
        other.changes.list(licensee_id=1)


@pytest.fixture
def inbox() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    got: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            got.append((dict(self.headers.items()), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    server.shutdown()
    server.server_close()


def test_a_webhook_delivery_verifies_with_the_client_helper(
    live_both: Live, corpus: Corpus, inbox: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, got = inbox
    # The inbox listens on loopback: a private network, allowed for this deployment.
    set_delivery_policy(live_both.database, DeliveryPolicy(allow_private_networks=True))
    with live_both.client(AURORA) as client:
        subscription = client.webhooks.add(url=url)
        _prohibit_lucia(live_both, corpus)
        [(headers, body)] = got
        webhooks.verify(subscription["secret"], headers, body)
        with pytest.raises(webhooks.InvalidSignature):
            webhooks.verify(subscription["secret"], headers, body + b" ")
        [delivery] = client.webhooks.deliveries.list(subscription["id"])
        assert delivery["status"] == "delivered"
        assert delivery["id"] == headers["webhook-id"]


def test_the_cli_reads_the_feed_from_the_server(live: Live, settings: Settings) -> None:
    from typer.testing import CliRunner

    from sostenuto.cli.main import app

    corpus = declare_corpus(live.database, settings)
    index = _prohibit_lucia(live, corpus)
    common = ["--server", live.url, "--token", live.tokens[AURORA]]
    ran = CliRunner().invoke(app, ["log", "changes", "--since", "0", "--json", *common])
    assert ran.exit_code == 0, ran.output
    feed = json.loads(ran.stdout)
    assert feed["checkpoint"] == index + 1
    assert [item["isrc"] for item in feed["manifests"][0]["revoked"]] == [LUCIA_ONLY]
    table = CliRunner().invoke(app, ["log", "changes", "--since", "0", *common])
    assert table.exit_code == 0, table.output
    assert "Revoked files" in table.stdout and LUCIA_ONLY in table.stdout

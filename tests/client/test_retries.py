"""Retries against a live server wrapped to fail its first calls: idempotent calls come
through, with one idempotency key across their attempts; writes that are not safe to repeat
are tried once after a 5xx, but again after a 429 (the server refused before acting)."""

from __future__ import annotations

import pytest
import sostenuto_client as sc

from sostenuto.registry.demo import RECORDINGS
from tests.client.conftest import AURORA, Live

ISRC = RECORDINGS[0][0]


def test_an_idempotent_read_survives_two_503s(live: Live) -> None:
    live.flaky.path, live.flaky.failures = f"/api/v1/registry/recordings/{ISRC}", 2
    with live.client(AURORA) as client:
        assert client.registry.recordings.show(ISRC)["title"] == RECORDINGS[0][1]
    assert len(live.flaky.seen) == 3


def test_a_batch_decision_is_retried_with_one_idempotency_key(live: Live) -> None:
    live.flaky.path, live.flaky.failures = "/api/v1/consent/decisions/batch", 2
    with live.client(AURORA) as client:
        answer = client.consent.decide_batch(
            licensee_id=1, isrcs=[r[0] for r in RECORDINGS], use="train-genai", territory="ES"
        )
    assert answer["size"] == len(RECORDINGS)
    keys = {headers["idempotency-key"] for _, _, headers in live.flaky.seen}
    assert len(live.flaky.seen) == 3 and len(keys) == 1


def test_a_declaration_retried_after_a_lost_answer_is_declared_once(live: Live) -> None:
    """The log is content-addressed: the same entry sent twice is one entry."""
    with live.client(AURORA) as client:
        decision = client.consent.decide(
            licensee_id=1, isrc="SE-K4L-21-00090", use="train-genai", territory="SE"
        )
        assert decision["outcome"] == "permit"
        payload = {
            "licensee_id": 1,
            "name": "retried manifest",
            "files": [
                {"sha256": "c" * 64, "isrc": "SE-K4L-21-00090", "decision_id": decision["id"]}
            ],
        }
        first = client.log.entries.declare(type="dataset-manifest", payload=payload)
        live.flaky.path, live.flaky.failures = "/api/v1/log/entries", 1
        second = client.log.entries.declare(type="dataset-manifest", payload=payload)
        assert second["index"] == first["index"] and second["new"] is False
        listed = client.log.entries.list(entry_type="dataset-manifest", licensee_id=1)
        assert [e["index"] for e in listed["items"]].count(first["index"]) == 1


def test_a_write_that_is_not_safe_to_repeat_is_not_retried_after_a_5xx(live: Live) -> None:
    live.flaky.path, live.flaky.failures = "/api/v1/consent/requests", 1
    with live.client("performer:Lucía Ferrer") as client, pytest.raises(sc.ServerError) as failed:
        client.consent.requests.add(action="prohibit", uses=["fine-tune"], note="no")
    assert failed.value.status == 503 and len(live.flaky.seen) == 1


def test_a_429_is_retried_even_for_a_write(live: Live) -> None:
    live.flaky.path, live.flaky.failures, live.flaky.status = "/api/v1/consent/requests", 2, 429
    with live.client("performer:Lucía Ferrer") as client:
        made = client.consent.requests.add(action="prohibit", uses=["fine-tune"], note="no")
    assert made["status"] == "pending" and len(live.flaky.seen) == 3
    assert len({headers["idempotency-key"] for _, _, headers in live.flaky.seen}) == 1


def test_retries_give_up_with_the_last_problem(live: Live) -> None:
    live.flaky.path, live.flaky.failures = "/api/v1/health", 10
    with live.client(None) as client, pytest.raises(sc.ServerError) as failed:
        client.meta.health()
    assert failed.value.status == 503 and len(live.flaky.seen) == 4  # FAST_RETRY.attempts

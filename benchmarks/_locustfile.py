"""Mixed traffic for ``benchmarks/load.py``: what licensees, the public and auditors send.

Configured by the environment ``load.py`` sets (tokens, ISRCs, ids); every acknowledged
declaration is written to ``SOSTENUTO_LOAD_RECEIPTS`` (one JSON line each) so that the run
can check afterwards that each is in the log.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
import uuid
from typing import Any

from locust import HttpUser, between, events, task

TOKEN = os.environ["SOSTENUTO_LOAD_TOKEN"]
LICENSEE = int(os.environ["SOSTENUTO_LOAD_LICENSEE"])
MODEL = int(os.environ["SOSTENUTO_LOAD_MODEL"])
ISRCS: list[str] = json.loads(os.environ["SOSTENUTO_LOAD_ISRCS"])
RECEIPTS = os.environ["SOSTENUTO_LOAD_RECEIPTS"]
USES = ("train-ai", "voice-clone", "style-imitation")
TERRITORIES = ("ES", "DE", "FR", "PT")

_acknowledged: list[dict[str, Any]] = []
_lock = threading.Lock()


@events.test_stop.add_listener
def _save(**_: Any) -> None:
    with open(RECEIPTS, "w") as handle:
        for receipt in _acknowledged:
            handle.write(json.dumps(receipt) + "\n")


class Licensee(HttpUser):
    wait_time = between(0.05, 0.3)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {TOKEN}"

    def _ask(self) -> dict[str, Any]:
        return {
            "licensee_id": LICENSEE,
            "use": random.choice(USES),
            "territory": random.choice(TERRITORIES),
        }

    @task(6)
    def decide_one(self) -> None:
        self.client.post(
            "/api/v1/consent/decisions",
            json={**self._ask(), "isrc": random.choice(ISRCS)},
            name="decide one",
        )

    @task(2)
    def decide_batch(self) -> None:
        self.client.post(
            "/api/v1/consent/decisions/batch",
            json={**self._ask(), "isrcs": random.sample(ISRCS, min(len(ISRCS), 50))},
            name="decide batch of 50",
        )

    @task(4)
    def declare_output(self) -> None:
        digest = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
        payload = {
            "licensee_id": LICENSEE,
            "model_id": MODEL,
            "output_sha256": digest,
            "generated_on": "2026-12-03",
        }
        with self.client.post(
            "/api/v1/log/entries",
            json={"type": "output-declaration", "payload": payload},
            name="declare output",
            catch_response=True,
        ) as answer:
            if answer.status_code == 201:
                receipt = answer.json()
                with _lock:
                    _acknowledged.append({**receipt, "output_sha256": digest})
                answer.success()
            else:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")

    @task(3)
    def prove(self) -> None:
        with _lock:
            known = _acknowledged[-1]["index"] if _acknowledged else None
        if known is None:
            self.client.get("/api/v1/log/checkpoint", name="checkpoint")
            return
        self.client.get(
            f"/api/v1/log/proofs/inclusion/{random.randrange(known + 1)}", name="inclusion proof"
        )

    @task(3)
    def read(self) -> None:
        self.client.get(f"/api/v1/registry/recordings/{random.choice(ISRCS)}", name="recording")
        self.client.get("/api/v1/log/checkpoint", name="checkpoint")

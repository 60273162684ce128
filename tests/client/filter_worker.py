"""A training script's filter loop, run as its own process by ``test_resume.py`` (which kills
it mid-corpus): filter a corpus with a checkpoint, note each item it uses, declare at the end.

    python -m tests.client.filter_worker URL TOKEN N CHECKPOINT USED_LOG RECEIPT PAUSE_S
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time

import sostenuto_client as sc

from sostenuto.registry.demo import RECORDINGS

ISRCS = [r[0] for r in RECORDINGS]


def corpus(size: int) -> list[sc.CorpusItem]:
    return [
        sc.CorpusItem(isrc=ISRCS[n % len(ISRCS)], sha256=hashlib.sha256(b"%d" % n).hexdigest())
        for n in range(size)
    ]


def main() -> None:
    url, token, size, checkpoint, used_log, receipt, pause = sys.argv[1:8]
    with sc.Client(url, token) as client:
        run = client.consent.filter(
            corpus(int(size)),
            licensee_id=1,
            use="train-genai",
            territory="SE",
            checkpoint=checkpoint,
            chunk_size=40,
        )
        used = os.open(used_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        for outcome in run:
            os.write(used, b"%d\n" % outcome.index)  # "trained on it"
            time.sleep(float(pause))
        os.close(used)
        declared = run.declare(client.log, name="resumed corpus", receipt=receipt)
        print(json.dumps({"files": declared.files, "new": declared.new, "counts": run.counts}))


if __name__ == "__main__":
    main()

"""The PyTorch adapter: a DataLoader over a filter's permitted items, shared out over its
workers with each item loaded exactly once."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sostenuto_client import CorpusItem, Outcome

from sostenuto.registry.demo import RECORDINGS
from tests.client.conftest import AURORA, Live

torch = pytest.importorskip("torch")
from sostenuto_client.pytorch import PermittedDataset  # noqa: E402


def _load(outcome: Outcome) -> tuple[int, str]:
    return outcome.index, outcome.decision_id or ""


def test_a_dataloader_sees_each_permitted_item_once(live: Live, tmp_path: Path) -> None:
    corpus = [
        CorpusItem(isrc=r[0], sha256=hashlib.sha256(b"%d" % n).hexdigest())
        for n, r in enumerate(RECORDINGS * 5)
    ]
    with live.client(AURORA) as client:
        run = client.consent.filter(
            corpus,
            licensee_id=1,
            use="train-genai",
            territory="SE",
            chunk_size=16,
            checkpoint=tmp_path / "c.csv",
        )
        permitted = [(o.index, o.decision_id) for o in run]
    assert permitted
    for workers in (0, 2):
        loader = torch.utils.data.DataLoader(
            PermittedDataset(run, _load), batch_size=None, num_workers=workers
        )
        seen = sorted((int(index), str(decision)) for index, decision in loader)
        assert seen == sorted(permitted), workers

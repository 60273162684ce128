"""Shards served by Ray actors answer exactly as the same shards searched in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sostenuto.errors import InvalidInput
from sostenuto.identify import RayShardPool, ShardedIndex, fingerprint_samples
from tests.identify.conftest import Samples, add_noise

ray = pytest.importorskip("ray")
RATE = 8000


@pytest.fixture
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.slow
def test_actors_per_shard_give_the_in_process_answer(
    pieces: dict[int, Samples], tmp_path: Path, local_ray: None
) -> None:
    catalogue = ShardedIndex.create(tmp_path / "catalogue", shards=3)
    catalogue.add_many(
        [(f"track-{seed}", fingerprint_samples(pieces[seed])) for seed in range(1, 7)]
    )
    assert max(len(shard) for shard in catalogue.shards) < 6  # spread over several shards
    pool = RayShardPool(tmp_path / "catalogue", cpus_per_shard=0.5)
    assert len(pool) == 3
    for seed in (2, 5):
        query = fingerprint_samples(
            add_noise(pieces[seed][10 * RATE : 20 * RATE], 10.0), query=True
        )
        remote = pool.search(query)
        local = catalogue.search(query)
        assert [(m.key, round(m.score, 6)) for m in remote] == [
            (m.key, round(m.score, 6)) for m in local
        ]
        assert remote[0].key == f"track-{seed}"
        assert remote[0].query_start == pytest.approx(0.0, abs=0.5)
        assert remote[0].reference_start == pytest.approx(10.0, abs=0.5)

    # A track added after the actors opened their shards is found once they reload.
    catalogue.add("track-8", fingerprint_samples(pieces[8]))
    late = fingerprint_samples(pieces[8][5 * RATE : 15 * RATE], query=True)
    assert pool.reload() == 7
    assert pool.search(late)[0].key == "track-8"
    pool.close()
    assert len(pool) == 0


def test_a_folder_that_is_not_a_catalogue_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a sharded catalogue"):
        RayShardPool(tmp_path)

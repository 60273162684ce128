"""A small catalogue-scale check: real tracks among synthetic ones, 4 shards served by Ray
actors, the same answers as the in-process fan-out (benchmarks/identify_scale.py runs the
same check at 10^4 tracks)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.identify_scale import HashStatistics, synthetic_tracks

from sostenuto.identify import RayShardPool, ShardedIndex, fingerprint_samples, shard_of
from sostenuto.identify._index import EncodedTrack
from tests.identify.conftest import Samples, add_noise, render_piece

ray = pytest.importorskip("ray")
RATE = 8000
SHARDS = 4


@pytest.mark.slow
def test_ray_shards_answer_as_the_in_process_catalogue(
    pieces: dict[int, Samples], tmp_path: Path
) -> None:
    prints = {f"track-{seed}": fingerprint_samples(pieces[seed]) for seed in range(1, 7)}
    real = [EncodedTrack.of(key, fp) for key, fp in prints.items()]
    synthetic = synthetic_tracks(HashStatistics.of(list(prints.values())), 0, 600, seed=3)
    catalogue = ShardedIndex.create(tmp_path / "catalogue", shards=SHARDS)
    for number, shard in enumerate(catalogue.shards):
        shard.add_encoded([t for t in real + synthetic if shard_of(t.key, SHARDS) == number])
    catalogue = catalogue.reload()
    assert len(catalogue) == 606 and min(len(s) for s in catalogue.shards) > 100
    queries = [
        fingerprint_samples(add_noise(pieces[seed][5 * RATE : 15 * RATE], 10.0), query=True)
        for seed in (2, 5)
    ] + [fingerprint_samples(render_piece(20, 10.0), query=True)]  # not in the catalogue
    ray.init(num_cpus=SHARDS, include_dashboard=False, log_to_driver=False)
    try:
        pool = RayShardPool(tmp_path / "catalogue", cpus_per_shard=1.0)
        answers = [pool.search(query) for query in queries]
        pool.close()
    finally:
        ray.shutdown()
    for query, remote in zip(queries, answers, strict=True):
        local = catalogue.search(query)
        assert [(m.key, m.score, m.query_start) for m in remote] == [
            (m.key, m.score, m.query_start) for m in local
        ]
    assert answers[0][0].key == "track-2" and answers[1][0].key == "track-5"
    assert answers[2] == []

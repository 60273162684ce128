"""The corpus adapters against a live server: a Hugging Face dataset, WebDataset shards and
Parquet manifests keep exactly the items a licensee may use; items naming no recording and
unknown recordings are reported apart, never kept."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
import sostenuto_client as sc

from sostenuto.registry.demo import RECORDINGS
from tests.client.conftest import AURORA, Live

datasets = pytest.importorskip("datasets")
pq = pytest.importorskip("pyarrow.parquet")
from sostenuto_client.hf import consent_filter  # noqa: E402
from sostenuto_client.parquet import read_parquet, write_parquet  # noqa: E402
from sostenuto_client.shards import DECISION_MEMBER, filter_shards  # noqa: E402

QUESTION: dict[str, Any] = {"licensee_id": 1, "use": "train-genai", "territory": "SE"}
ISRCS = [sc.normalise_isrc(r[0]) or "" for r in RECORDINGS]
UNKNOWN = "ESA7Q2499999"


def _expected(client: sc.Client) -> dict[str, bool]:
    """Each demo ISRC: may Aurora train on it in Sweden (one single decision each)?"""
    return {
        isrc: client.consent.decide(isrc=isrc, **QUESTION)["outcome"] == "permit" for isrc in ISRCS
    }


def _sha(n: int) -> str:
    return hashlib.sha256(b"audio %d" % n).hexdigest()


def test_a_hugging_face_dataset_keeps_exactly_the_permitted_rows(live: Live) -> None:
    column = [*ISRCS, None, UNKNOWN, "", "not an isrc"]
    dataset = datasets.Dataset.from_dict(
        {"isrc": column, "title": [f"track {n}" for n in range(len(column))]}
    )
    with live.client(AURORA) as client:
        expected = _expected(client)
        split = consent_filter(dataset, client, isrc_column="isrc", **QUESTION)
        permitted = [isrc for isrc in ISRCS if expected[isrc]]
        assert permitted and len(permitted) < len(ISRCS)
        assert split.permitted["isrc"] == permitted
        assert split.permitted["title"] == [f"track {ISRCS.index(i)}" for i in permitted]
        decision = split.permitted["decision_id"][0]
        shown = client.consent.decisions.show(decision)
        assert shown["outcome"] == "permit"
    n = len(ISRCS)
    assert split.unidentified["title"] == [f"track {n}", f"track {n + 2}"]
    assert split.unregistered["isrc"] == [UNKNOWN]
    assert sorted(split.refused["status"]) == ["denied"] * (n - len(permitted)) + ["invalid"]
    assert split.counts["unidentified"] == 2 and split.counts["unregistered"] == 1
    with live.client(AURORA) as client, pytest.raises(sc.UsageError, match="no column 'ISRC'"):
        consent_filter(dataset, client, isrc_column="ISRC", **QUESTION)


def _shard(path: Path, samples: list[tuple[str, dict[str, bytes]]]) -> Path:
    with tarfile.open(path, "w") as archive:
        for key, members in samples:
            for extension, data in members.items():
                info = tarfile.TarInfo(f"{key}.{extension}")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return path


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as archive:
        return {
            m.name: (archive.extractfile(m) or io.BytesIO()).read() for m in archive if m.isfile()
        }


def test_webdataset_shards_keep_exactly_the_permitted_samples(live: Live, tmp_path: Path) -> None:
    samples: list[tuple[str, dict[str, bytes]]] = []
    for n, isrc in enumerate(ISRCS):
        # Half name the ISRC in a .isrc member, half in the .json member.
        facts = {"isrc": isrc} if n % 2 else {"title": f"track {n}"}
        members = {"flac": b"audio %d" % n, "json": json.dumps(facts).encode()}
        if n % 2 == 0:
            members["isrc"] = isrc.encode()
        samples.append((f"{n:06d}", members))
    samples.append(("unlabelled", {"flac": b"audio x", "json": b"{}"}))
    samples.append(("unknown", {"flac": b"audio y", "isrc": UNKNOWN.encode()}))
    half = len(samples) // 2
    shards = [
        _shard(tmp_path / "train-000.tar", samples[:half]),
        _shard(tmp_path / "train-001.tar", samples[half:]),
    ]
    with live.client(AURORA) as client:
        expected = _expected(client)
        done = filter_shards(shards, tmp_path / "filtered", client, chunk_size=5, **QUESTION)
    kept_keys = {f"{n:06d}" for n, isrc in enumerate(ISRCS) if expected[isrc]}
    assert done.kept == len(kept_keys)
    assert [p.name for p in done.written] == ["train-000.tar", "train-001.tar"]
    written: dict[str, bytes] = {}
    for path in done.written:
        written |= _members(path)
    assert {name.partition(".")[0] for name in written} == kept_keys
    for key in kept_keys:
        n = int(key)
        assert written[f"{key}.flac"] == b"audio %d" % n
        decision = json.loads(written[f"{key}.{DECISION_MEMBER}"])
        assert decision["isrc"] == ISRCS[n] and decision["decision_id"]
        assert decision["sha256"] == hashlib.sha256(b"audio %d" % n).hexdigest()
    assert [o.item.path for o in done.unidentified] == [f"{shards[1]}#unlabelled"]
    assert [o.item.path for o in done.unregistered] == [f"{shards[1]}#unknown"]
    assert done.counts["permitted"] == len(kept_keys)
    with live.client(AURORA) as client, pytest.raises(sc.UsageError, match="not a readable tar"):
        (tmp_path / "broken.tar").write_bytes(b"not a tar file at all")
        filter_shards([tmp_path / "broken.tar"], tmp_path / "out", client, **QUESTION)


def test_parquet_manifests_in_and_out_and_only_permitted_declared(
    live: Live, tmp_path: Path
) -> None:
    rows: list[dict[str, Any]] = [
        {"path": f"audio/{n}.flac", "sha256": _sha(n), "isrc": isrc, "recording_id": None}
        for n, isrc in enumerate(ISRCS)
    ]
    rows += [
        {"path": "audio/untagged.flac", "sha256": _sha(90), "isrc": None, "recording_id": None},
        {"path": "audio/unknown.flac", "sha256": _sha(91), "isrc": UNKNOWN, "recording_id": None},
        {"path": "audio/by-id.flac", "sha256": _sha(92), "isrc": None, "recording_id": 2},
    ]
    import pyarrow as pa  # type: ignore[import-untyped]

    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "corpus.parquet")
    items = list(read_parquet(tmp_path / "corpus.parquet"))
    assert [item.path for item in items] == [row["path"] for row in rows]
    with live.client(AURORA) as client:
        expected = _expected(client)
        run = client.consent.filter(items, checkpoint=tmp_path / "c.csv", **QUESTION)
        written = write_parquet(run.outcomes(), tmp_path / "decisions.parquet")
        declared = run.declare(client.log, name="parquet corpus")
    assert written == len(rows)
    table = pq.read_table(tmp_path / "decisions.parquet").to_pylist()
    status = {row["path"]: row["status"] for row in table}
    for n, isrc in enumerate(ISRCS):
        assert status[f"audio/{n}.flac"] == ("permitted" if expected[isrc] else "denied")
    assert status["audio/untagged.flac"] == "unidentified"
    assert status["audio/unknown.flac"] == "unregistered"
    permitted = [row for row in table if row["status"] == "permitted"]
    assert all(row["decision_id"] for row in permitted)
    # A denial is a stored decision too; what names no known recording has none.
    unknown = ("unidentified", "unregistered")
    assert not any(row["decision_id"] for row in table if row["status"] in unknown)
    # The manifest names exactly the permitted files, by hash.
    assert declared.files == len(permitted)
    entry = client_entry(live, declared.entries[0]["index"])
    assert {f["sha256"] for f in entry["payload"]["files"]} == {r["sha256"] for r in permitted}


def client_entry(live: Live, index: int) -> dict[str, Any]:
    with live.client(None) as client:
        return dict(client.log.entries.show(index)["entry"])


def test_a_bad_parquet_manifest_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "x.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(sc.UsageError, match="not a readable Parquet file"):
        list(read_parquet(tmp_path / "x.parquet"))
    import pyarrow as pa

    pq.write_table(pa.Table.from_pylist([{"title": "a"}]), tmp_path / "y.parquet")
    with pytest.raises(sc.UsageError, match="names none of isrc, recording_id, path"):
        list(read_parquet(tmp_path / "y.parquet"))

"""WebDataset tar shards: keep the samples a licensee may use (standard library only).

A WebDataset shard is a tar file whose members are grouped into samples by key: the part of
a member's name before its first dot after the last ``/`` (``s/000017.flac``,
``s/000017.json`` are sample ``s/000017``). A sample names its recording by an ``isrc`` (or
``isrc.txt``) member, or an ``isrc`` / ``recording_id`` field of its ``json`` member; its first
audio member is hashed for the dataset manifest.

:func:`filter_shards` reads every shard once to collect the samples, asks
``client.consent.filter`` about all of them, then writes one filtered shard per input shard
holding the permitted samples only, each with a ``sostenuto.json`` member naming its consent
decision. Samples naming no recording are ``unidentified``, those naming an unknown one
``unregistered``: both are reported, never kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sostenuto_client._errors import UsageError
from sostenuto_client._items import CorpusItem, Outcome, Status

if TYPE_CHECKING:
    from sostenuto_client._client import Client
    from sostenuto_client._filter import ConsentFilter

__all__ = ["AUDIO_EXTENSIONS", "FilteredShards", "Sample", "filter_shards", "read_samples"]

AUDIO_EXTENSIONS = frozenset({"flac", "wav", "mp3", "ogg", "opus", "m4a", "mp4", "aac"})
DECISION_MEMBER = "sostenuto.json"


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample of a shard: its key, the recording it names and its audio's hash."""

    shard: str
    key: str
    isrc: str | None
    recording_id: int | None
    sha256: str | None

    @property
    def where(self) -> str:
        return f"{self.shard}#{self.key}"


@dataclass
class FilteredShards:
    """What :func:`filter_shards` kept and wrote, and every sample it left out."""

    written: list[Path]
    kept: int
    counts: dict[Status, int]
    left_out: dict[Status, list[Outcome]] = field(default_factory=dict)
    run: ConsentFilter | None = None

    @property
    def unidentified(self) -> list[Outcome]:
        return self.left_out.get("unidentified", [])

    @property
    def unregistered(self) -> list[Outcome]:
        return self.left_out.get("unregistered", [])


def _split(name: str) -> tuple[str, str]:
    folder, _, base = name.rpartition("/")
    stem, dot, extension = base.partition(".")
    if not dot:
        return name, ""
    return (f"{folder}/{stem}" if folder else stem), extension.lower()


def _samples(shard: Path) -> Iterator[tuple[str, dict[str, bytes]]]:
    """The samples of a shard, each as ``key -> {extension: bytes}``, in shard order."""
    key: str | None = None
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(shard, "r|*") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                name_key, extension = _split(member.name)
                if key is not None and name_key != key:
                    yield key, members
                    members = {}
                key = name_key
                source = archive.extractfile(member)
                members[extension] = source.read() if source is not None else b""
    except tarfile.TarError as error:
        raise UsageError(f"{shard}: not a readable tar shard ({error})") from None
    if key is not None:
        yield key, members


def _identify(shard: Path, key: str, members: dict[str, bytes]) -> Sample:
    isrc: str | None = None
    recording: int | None = None
    for extension in ("isrc", "isrc.txt"):
        if extension in members:
            isrc = members[extension].decode("utf-8", "replace").strip() or None
    if "json" in members:
        try:
            facts = json.loads(members["json"])
        except ValueError:
            raise UsageError(f"{shard}#{key}: its json member is not JSON") from None
        if isinstance(facts, dict):
            isrc = isrc or (str(facts["isrc"]).strip() or None if facts.get("isrc") else None)
            value = facts.get("recording_id")
            if value is not None:
                if not str(value).isdigit():
                    raise UsageError(f"{shard}#{key}: recording_id {value!r} is not a number")
                recording = int(value)
    audio = next((members[e] for e in members if e.rpartition(".")[2] in AUDIO_EXTENSIONS), None)
    sha256 = hashlib.sha256(audio).hexdigest() if audio is not None else None
    return Sample(str(shard), key, isrc, recording, sha256)


def read_samples(shards: Sequence[str | os.PathLike[str]]) -> Iterator[Sample]:
    """Every sample of ``shards``, in order, with what names its recording."""
    for shard in shards:
        path = Path(shard)
        for key, members in _samples(path):
            yield _identify(path, key, members)


def _write(source: Path, target: Path, decisions: dict[str, dict[str, Any]]) -> int:
    """Copy the permitted samples of ``source`` into ``target`` (atomically); how many."""
    temporary = target.with_name(target.name + ".tmp")
    kept = 0
    with tarfile.open(temporary, "w") as archive:
        for key, members in _samples(source):
            decision = decisions.get(key)
            if decision is None:
                continue
            members = {**members, DECISION_MEMBER: json.dumps(decision).encode()}
            for extension, data in members.items():
                info = tarfile.TarInfo(f"{key}.{extension}" if extension else key)
                info.size = len(data)
                info.mode = 0o644
                archive.addfile(info, io.BytesIO(data))
            kept += 1
    os.replace(temporary, target)
    return kept


def filter_shards(
    shards: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    client: Client,
    *,
    licensee_id: int,
    use: str,
    territory: str,
    model_id: int | None = None,
    on_date: dt.date | None = None,
    checkpoint: str | Path | None = None,
    chunk_size: int = 10_000,
) -> FilteredShards:
    """Write the permitted samples of each shard to ``out_dir`` under the shard's name."""
    paths = [Path(shard) for shard in shards]
    if not paths:
        raise UsageError("no shards to filter")
    names = [path.name for path in paths]
    if len(set(names)) != len(names):
        raise UsageError("two shards share a name: their filtered copies would collide")
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    if any(target.resolve() == path.parent.resolve() for path in paths):
        raise UsageError(f"{target}: write filtered shards beside, not over, the originals")
    samples = list(read_samples(paths))
    run = client.consent.filter(
        [
            CorpusItem(isrc=s.isrc, recording_id=s.recording_id, sha256=s.sha256, path=s.where)
            for s in samples
        ],
        licensee_id=licensee_id,
        use=use,
        territory=territory,
        model_id=model_id,
        on_date=on_date,
        checkpoint=checkpoint,
        chunk_size=chunk_size,
    )
    decisions: dict[str, dict[str, dict[str, Any]]] = {str(path): {} for path in paths}
    left_out: dict[Status, list[Outcome]] = {}
    for outcome in run.outcomes():
        sample = samples[outcome.index]
        if outcome.permitted:
            decisions[sample.shard][sample.key] = {
                "decision_id": outcome.decision_id,
                "isrc": outcome.isrc,
                "recording_id": outcome.recording_id,
                "sha256": sample.sha256,
            }
        else:
            left_out.setdefault(outcome.status, []).append(outcome)
    written = [target / path.name for path in paths]
    kept = sum(
        _write(path, out, decisions[str(path)]) for path, out in zip(paths, written, strict=True)
    )
    return FilteredShards(written, kept, run.counts, left_out, run)

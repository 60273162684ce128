"""A persistent fingerprint index: immutable, memory-mapped segments plus tombstones.

Layout of an index directory::

    manifest.json          segments in order, removed track ids, next track id, versions
    seg-000001/keys.npy    uint32 hashes, sorted
    seg-000001/tracks.npy  uint32 internal track id of each posting
    seg-000001/marks.npy   uint32 ``frame << 8 | log-frequency bin`` of each posting
    seg-000001/catalog.json  the tracks the segment holds: id, key, duration, hash count

A posting costs 12 bytes. Adding writes a new segment; removing writes a tombstone;
:meth:`Index.compact` merges segments and drops removed tracks. Every change ends with an
atomic replace of ``manifest.json``, so readers see the old or the new index, never half.
One writer at a time holds ``lock``; any number of processes may read (the segments are
memory-mapped, so they share the page cache).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sostenuto.errors import Conflict, IntegrityFailure, InvalidInput, NotFound
from sostenuto.identify._fingerprint import Fingerprint
from sostenuto.identify._params import VERSION

U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]

_MANIFEST = "manifest.json"
_MAX_FRAMES = 1 << 24  # 74 hours at 16 ms per frame


@dataclass(frozen=True)
class TrackInfo:
    """One fingerprinted track in the index."""

    track_id: int
    key: str
    duration: float
    hashes: int
    peaks: int = 0
    peak_start: int = 0  # where the track's peaks begin in its segment's peaks.npy


@dataclass(frozen=True)
class Postings:
    """Index hits for a batch of query hashes: which query row, which track, where."""

    rows: I64
    tracks: U32
    times: npt.NDArray[np.int32]
    bins: npt.NDArray[np.int32]


@dataclass(frozen=True)
class IndexStats:
    tracks: int
    removed_tracks: int
    segments: int
    postings: int
    hours: float
    disk_bytes: int

    @property
    def bytes_per_hour(self) -> float:
        return self.disk_bytes / self.hours if self.hours else 0.0


class _Segment:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.keys: U32 = np.load(path / "keys.npy", mmap_mode="r")
        self.tracks: U32 = np.load(path / "tracks.npy", mmap_mode="r")
        self.marks: U32 = np.load(path / "marks.npy", mmap_mode="r")
        self.peaks: U32 = np.load(path / "peaks.npy", mmap_mode="r")
        if not (self.keys.shape == self.tracks.shape == self.marks.shape):
            raise IntegrityFailure(f"index segment {path.name} has arrays of unequal length")
        catalog = json.loads((path / "catalog.json").read_text())
        self.catalog = [TrackInfo(**entry) for entry in catalog]

    def lookup(self, hashes: U32, max_postings: int) -> tuple[I64, I64]:
        """Posting positions and the query row each came from."""
        lo = np.searchsorted(self.keys, hashes, side="left")
        hi = np.searchsorted(self.keys, hashes, side="right")
        counts = hi - lo
        # Hashes this common carry no evidence and only cost time.
        counts[counts > max_postings] = 0
        total = int(counts.sum())
        rows = np.repeat(np.arange(hashes.size, dtype=np.int64), counts)
        starts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
        positions = starts + np.arange(total, dtype=np.int64)
        return positions.astype(np.int64), rows


def _write_array(folder: Path, name: str, array: npt.NDArray[Any]) -> None:
    with open(folder / name, "wb") as handle:
        np.save(handle, array)
        handle.flush()
        os.fsync(handle.fileno())


def _atomic_json(path: Path, value: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w") as handle:
        json.dump(value, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class Index:
    """An on-disk fingerprint index; open with :meth:`open` or :meth:`create`."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        self._load(manifest)

    def _load(self, manifest: dict[str, Any]) -> None:
        path = self.path
        self._manifest = manifest
        self._segments = [_Segment(path / name) for name in manifest["segments"]]
        self._removed = np.array(sorted(manifest["removed"]), dtype=np.uint32)
        self._tracks: dict[int, TrackInfo] = {}
        self._segment_of: dict[int, _Segment] = {}
        self._by_key: dict[str, int] = {}
        for segment in self._segments:
            for info in segment.catalog:
                self._tracks[info.track_id] = info
                self._segment_of[info.track_id] = segment
        removed = set(manifest["removed"])
        for track_id, info in self._tracks.items():
            if track_id not in removed:
                self._by_key[info.key] = track_id

    # -- opening -----------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, *, exist_ok: bool = True) -> Index:
        """Open the index at ``path``, creating an empty one when there is none."""
        path = Path(path)
        if (path / _MANIFEST).exists():
            if not exist_ok:
                raise Conflict(f"an index already exists at {path}")
            return cls.open(path)
        path.mkdir(parents=True, exist_ok=True)
        with _locked(path):
            if not (path / _MANIFEST).exists():
                manifest = {
                    "format": 1,
                    "fingerprint_version": VERSION,
                    "segments": [],
                    "removed": [],
                    "next_track": 1,
                    "next_segment": 1,
                }
                _atomic_json(path / _MANIFEST, manifest)
        return cls.open(path)

    @classmethod
    def open(cls, path: str | Path) -> Index:
        path = Path(path)
        try:
            manifest = json.loads((path / _MANIFEST).read_text())
        except FileNotFoundError:
            raise NotFound(f"no fingerprint index at {path}") from None
        except json.JSONDecodeError as error:
            raise IntegrityFailure(f"index manifest at {path} is not JSON: {error}") from None
        if manifest.get("fingerprint_version") != VERSION:
            raise IntegrityFailure(
                f"index at {path} holds fingerprints of version "
                f"{manifest.get('fingerprint_version')}, this build makes version {VERSION}; "
                "re-index the catalogue"
            )
        return cls(path, manifest)

    def reload(self) -> Index:
        """A fresh view of the directory (after another process changed it)."""
        return Index.open(self.path)

    # -- reading -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def track(self, track_id: int) -> TrackInfo:
        try:
            return self._tracks[track_id]
        except KeyError:
            raise NotFound(f"no track {track_id} in the index") from None

    def track_id(self, key: str) -> int:
        try:
            return self._by_key[key]
        except KeyError:
            raise NotFound(f"no track with key {key!r} in the index") from None

    def peaks(self, track_id: int) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """The reference peaks of a track: frames (ascending) and log-frequency bins."""
        info = self.track(track_id)
        segment = self._segment_of[track_id]
        packed = np.asarray(segment.peaks[info.peak_start : info.peak_start + info.peaks])
        return (packed >> 8).astype(np.int32), (packed & 0xFF).astype(np.int32)

    def keys(self) -> list[str]:
        return sorted(self._by_key)

    def version(self) -> str:
        """A digest of what the index holds (key, length and counts of every live track, and
        the fingerprint version): it changes with any add, replace or removal, not with
        ``compact``, which moves tracks without changing them."""
        digest = hashlib.sha256(f"fingerprints {VERSION}\n".encode())
        for key in sorted(self._by_key):
            info = self._tracks[self._by_key[key]]
            digest.update(f"{key}\t{info.duration:.3f}\t{info.hashes}\t{info.peaks}\n".encode())
        return digest.hexdigest()[:16]

    def lookup(self, hashes: U32, *, max_postings: int = 2000) -> Postings:
        """Every live posting of every hash in ``hashes``."""
        hashes = np.asarray(hashes, dtype=np.uint32)
        rows_parts: list[I64] = []
        tracks_parts: list[U32] = []
        marks_parts: list[U32] = []
        for segment in self._segments:
            positions, rows = segment.lookup(hashes, max_postings)
            if positions.size:
                rows_parts.append(rows)
                tracks_parts.append(np.asarray(segment.tracks[positions]))
                marks_parts.append(np.asarray(segment.marks[positions]))
        if not rows_parts:
            return Postings(
                np.zeros(0, np.int64),
                np.zeros(0, np.uint32),
                np.zeros(0, np.int32),
                np.zeros(0, np.int32),
            )
        rows = np.concatenate(rows_parts)
        tracks = np.concatenate(tracks_parts)
        marks = np.concatenate(marks_parts)
        if self._removed.size:
            live = ~np.isin(tracks, self._removed)
            rows, tracks, marks = rows[live], tracks[live], marks[live]
        return Postings(
            rows, tracks, (marks >> 8).astype(np.int32), (marks & 0xFF).astype(np.int32)
        )

    def stats(self) -> IndexStats:
        live = [self._tracks[t] for t in self._by_key.values()]
        disk = sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
        postings = sum(int(s.keys.size) for s in self._segments)
        return IndexStats(
            tracks=len(live),
            removed_tracks=len(self._manifest["removed"]),
            segments=len(self._segments),
            postings=postings,
            hours=sum(info.duration for info in live) / 3600.0,
            disk_bytes=disk,
        )

    # -- writing -----------------------------------------------------------------------
    def add(self, key: str, fingerprint: Fingerprint, *, replace: bool = False) -> TrackInfo:
        """Add one track as its own segment (use :meth:`add_many` for batches)."""
        return self.add_many([(key, fingerprint)], replace=replace)[0]

    def add_many(
        self, items: Sequence[tuple[str, Fingerprint]], *, replace: bool = False
    ) -> list[TrackInfo]:
        """Add tracks as one new segment; ``replace`` retires an older track of the same key."""
        if not items:
            return []
        keys = [key for key, _ in items]
        if len(set(keys)) != len(keys):
            raise InvalidInput("the same key appears twice in one batch")
        for key, fingerprint in items:
            if not key or len(key) > 500:
                raise InvalidInput("a track key must be 1 to 500 characters")
            if fingerprint.times.size and int(fingerprint.times.max()) >= _MAX_FRAMES:
                raise InvalidInput(f"track {key!r} is longer than the index allows (74 h)")
        with _locked(self.path):
            manifest = json.loads((self.path / _MANIFEST).read_text())
            current = Index(self.path, manifest)
            retired = [current._by_key[k] for k in keys if k in current._by_key]
            if retired and not replace:
                taken = [k for k in keys if k in current._by_key]
                raise Conflict(f"already in the index: {', '.join(taken[:5])}")
            next_track = int(manifest["next_track"])
            infos: list[TrackInfo] = []
            key_parts: list[U32] = []
            track_parts: list[U32] = []
            mark_parts: list[U32] = []
            peak_parts: list[U32] = []
            peak_start = 0
            for offset, (key, fingerprint) in enumerate(items):
                track_id = next_track + offset
                n_peaks = int(fingerprint.peak_times.size)
                infos.append(
                    TrackInfo(
                        track_id,
                        key,
                        float(fingerprint.duration),
                        len(fingerprint),
                        n_peaks,
                        peak_start,
                    )
                )
                peak_start += n_peaks
                peak_parts.append(_pack(fingerprint.peak_times, fingerprint.peak_bins))
                key_parts.append(fingerprint.hashes.astype(np.uint32))
                track_parts.append(np.full(len(fingerprint), track_id, dtype=np.uint32))
                mark_parts.append(_pack(fingerprint.times, fingerprint.bins))
            name = f"seg-{int(manifest['next_segment']):06d}"
            _write_segment(
                self.path,
                name,
                infos,
                np.concatenate(key_parts),
                np.concatenate(track_parts),
                np.concatenate(mark_parts),
                np.concatenate(peak_parts),
            )
            manifest["segments"].append(name)
            manifest["removed"] = sorted(set(manifest["removed"]) | set(retired))
            manifest["next_track"] = next_track + len(items)
            manifest["next_segment"] = int(manifest["next_segment"]) + 1
            _atomic_json(self.path / _MANIFEST, manifest)
            self._load(manifest)
        return infos

    def remove(self, keys: Sequence[str]) -> int:
        """Tombstone the tracks of ``keys``; unknown keys are an error, nothing is removed."""
        with _locked(self.path):
            manifest = json.loads((self.path / _MANIFEST).read_text())
            current = Index(self.path, manifest)
            missing = [k for k in keys if k not in current._by_key]
            if missing:
                raise NotFound(f"not in the index: {', '.join(missing[:5])}")
            ids = {current._by_key[k] for k in keys}
            manifest["removed"] = sorted(set(manifest["removed"]) | ids)
            _atomic_json(self.path / _MANIFEST, manifest)
            self._load(manifest)
        return len(ids)

    def compact(self) -> None:
        """Merge every segment into one and drop removed tracks for good."""
        with _locked(self.path):
            manifest = json.loads((self.path / _MANIFEST).read_text())
            current = Index(self.path, manifest)
            removed = current._removed
            gone = set(manifest["removed"])
            infos: list[TrackInfo] = []
            peaks: list[U32] = []
            peak_start = 0
            for seg in current._segments:
                for info in seg.catalog:
                    if info.track_id in gone:
                        continue
                    peaks.append(
                        np.asarray(seg.peaks[info.peak_start : info.peak_start + info.peaks])
                    )
                    infos.append(
                        TrackInfo(
                            info.track_id,
                            info.key,
                            info.duration,
                            info.hashes,
                            info.peaks,
                            peak_start,
                        )
                    )
                    peak_start += info.peaks
            keys: list[U32] = []
            tracks: list[U32] = []
            marks: list[U32] = []
            for segment in current._segments:
                live = ~np.isin(segment.tracks, removed) if removed.size else slice(None)
                keys.append(np.asarray(segment.keys[live]))
                tracks.append(np.asarray(segment.tracks[live]))
                marks.append(np.asarray(segment.marks[live]))
            old = list(manifest["segments"])
            name = f"seg-{int(manifest['next_segment']):06d}"
            if infos:
                _write_segment(
                    self.path,
                    name,
                    infos,
                    np.concatenate(keys),
                    np.concatenate(tracks),
                    np.concatenate(marks),
                    np.concatenate(peaks),
                )
                manifest["segments"] = [name]
            else:
                manifest["segments"] = []
            manifest["removed"] = []
            manifest["next_segment"] = int(manifest["next_segment"]) + 1
            _atomic_json(self.path / _MANIFEST, manifest)
            for folder in old:
                shutil.rmtree(self.path / folder, ignore_errors=True)
            self._load(manifest)


def _pack(times: npt.NDArray[np.int32], bins: npt.NDArray[np.int32]) -> U32:
    return (times.astype(np.uint32) << np.uint32(8)) | bins.astype(np.uint32)


def _write_segment(
    root: Path,
    name: str,
    infos: list[TrackInfo],
    keys: U32,
    tracks: U32,
    marks: U32,
    peaks: U32,
) -> None:
    """Write a sorted segment into a temporary folder, then rename it into place."""
    order = np.argsort(keys, kind="stable")
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-seg-"))
    try:
        _write_array(tmp, "keys.npy", keys[order])
        _write_array(tmp, "tracks.npy", tracks[order])
        _write_array(tmp, "marks.npy", marks[order])
        _write_array(tmp, "peaks.npy", peaks.astype(np.uint32))
        (tmp / "catalog.json").write_text(json.dumps([info.__dict__ for info in infos]))
        os.replace(tmp, root / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path / "lock", "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

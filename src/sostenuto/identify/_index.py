"""A persistent fingerprint index: immutable, memory-mapped segments plus tombstones.

Layout of an index directory (format 2, docs/identify.md)::

    manifest.json            segments in order, removed track ids, next track id, versions
    seg-000001/blocks.npy    where each block of the hash space starts in the postings
    seg-000001/postings.npy  bit-packed postings: hash low bits and half-second slot (_postings)
    seg-000001/peaks.npy     the tracks' verification peaks, one zlib blob each (_reference)
    seg-000001/catalog.json  the tracks of the segment (id, key, duration, counts, where their
                             slots and peaks are) and how its postings are packed

Matching is in two stages: the posting table says which tracks hold a query's hashes and
about when (enough to rank candidates), and only the few candidate tracks have their peaks
decoded and their hashes remade for the exact alignment. About 1.3 MB per hour of audio.

Adding writes a new segment; removing writes a tombstone; :meth:`Index.compact` merges
segments and drops removed tracks. Every change ends with an atomic replace of
``manifest.json``, so readers see the old or the new index, never half. One writer at a
time holds ``lock``; any number of processes may read (the segments are memory-mapped, so
they share the page cache).
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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sostenuto.errors import Conflict, IntegrityFailure, InvalidInput, NotFound
from sostenuto.identify._fingerprint import Fingerprint
from sostenuto.identify._params import VERSION
from sostenuto.identify._postings import COARSE_FRAMES, KEY_BITS, PostingTable, write_table
from sostenuto.identify._reference import (
    TrackReference,
    decode_peaks,
    encode_peaks,
    hashed_mask,
    reference_hashes,
)

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]

FORMAT = 2  # on-disk layout; bumped with any change to what a segment holds
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
    peak_start: int = 0  # byte offset of the track's peak blob in its segment's peaks.npy
    peak_bytes: int = 0
    slot: int = 0  # the track's first half-second slot in its segment's postings
    slots: int = 0


@dataclass(frozen=True)
class EncodedTrack:
    """A track as the index stores it: its hashes, their frames, and its peak blob.

    :meth:`Index.add_many` makes these from fingerprints; a bulk loader that already holds
    encoded tracks can hand them to :meth:`Index.add_encoded` directly."""

    key: str
    duration: float
    hashes: U32
    times: I32  # frame of each hash's first peak
    peaks: int  # verification peaks in the blob
    blob: bytes

    @classmethod
    def of(cls, key: str, fingerprint: Fingerprint) -> EncodedTrack:
        hashed = hashed_mask(fingerprint)
        if hashed.shape != fingerprint.peak_times.shape:
            raise InvalidInput(f"track {key!r}: the hashed-peak mask does not fit its peaks")
        hashes, times, _ = reference_hashes(fingerprint.peak_times, fingerprint.peak_bins, hashed)
        # The index keeps only peaks and remakes hashes from them: a fingerprint whose
        # hashes are not the reference hashes of its peaks (a query's) cannot be stored.
        if not np.array_equal(np.sort(hashes), np.sort(fingerprint.hashes)):
            raise InvalidInput(f"track {key!r}: only reference fingerprints can be indexed")
        blob = encode_peaks(fingerprint.peak_times, fingerprint.peak_bins, hashed)
        return cls(key, float(fingerprint.duration), hashes, times, int(hashed.size), blob)


@dataclass(frozen=True)
class Postings:
    """Index hits for a batch of query hashes: which query row, which track, about when.

    ``times`` is the middle frame of the hit's half-second slot (``COARSE_FRAMES``): the
    exact frame and bin come from the candidate's :class:`TrackReference`."""

    rows: I64
    tracks: U32
    times: npt.NDArray[np.int32]


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
        try:
            catalog = json.loads((path / "catalog.json").read_text())
            self.table = PostingTable.from_catalog(path, catalog["postings"])
            self.catalog = [TrackInfo(**entry) for entry in catalog["tracks"]]
        except (KeyError, TypeError, ValueError, FileNotFoundError) as error:
            raise IntegrityFailure(f"index segment {path.name} is unreadable: {error}") from None
        self.peak_data: npt.NDArray[np.uint8] = np.load(path / "peaks.npy", mmap_mode="r")
        self.slot_starts = np.array([info.slot for info in self.catalog], dtype=np.int64)
        self.track_ids = np.array([info.track_id for info in self.catalog], dtype=np.uint32)

    def blob(self, info: TrackInfo) -> bytes:
        return bytes(self.peak_data[info.peak_start : info.peak_start + info.peak_bytes])

    def lookup(self, hashes: U32, max_postings: int) -> tuple[I64, U32, I32]:
        rows, slots = self.table.lookup(hashes, max_postings)
        where = np.searchsorted(self.slot_starts, slots.astype(np.int64), side="right") - 1
        coarse = slots.astype(np.int64) - self.slot_starts[where]
        times = (coarse * COARSE_FRAMES + COARSE_FRAMES // 2).astype(np.int32)
        return rows, self.track_ids[where], times

    def postings_by_track(self) -> tuple[U32, U32, I64]:
        """Every posting as (hash, track id, slot within the track), for compaction."""
        keys, slots = self.table.decode_all()
        where = np.searchsorted(self.slot_starts, slots.astype(np.int64), side="right") - 1
        return keys, self.track_ids[where], slots.astype(np.int64) - self.slot_starts[where]


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
                    "format": FORMAT,
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
        if manifest.get("format") != FORMAT:
            raise IntegrityFailure(
                f"index at {path} is in format {manifest.get('format')}, this build reads "
                f"format {FORMAT} (compact postings, docs/identify.md); re-index the catalogue"
            )
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

    def peaks(self, track_id: int) -> tuple[I32, I32]:
        """The reference peaks of a track: frames (ascending) and log-frequency bins."""
        info = self.track(track_id)
        times, bins, _ = decode_peaks(self._segment_of[track_id].blob(info))
        return times, bins

    def reference(self, track_id: int) -> TrackReference:
        """A track's peaks and its exact hashes, decoded for matching."""
        info = self.track(track_id)
        return TrackReference.from_blob(self._segment_of[track_id].blob(info))

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
        parts = [segment.lookup(hashes, max_postings) for segment in self._segments]
        parts = [part for part in parts if part[0].size]
        if not parts:
            return Postings(np.zeros(0, np.int64), np.zeros(0, np.uint32), np.zeros(0, np.int32))
        rows = np.concatenate([part[0] for part in parts])
        tracks = np.concatenate([part[1] for part in parts])
        times = np.concatenate([part[2] for part in parts])
        if self._removed.size:
            live = ~np.isin(tracks, self._removed)
            rows, tracks, times = rows[live], tracks[live], times[live]
        return Postings(rows, tracks, times)

    def stats(self) -> IndexStats:
        live = [self._tracks[t] for t in self._by_key.values()]
        disk = sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
        postings = sum(len(s.table) for s in self._segments)
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
        for key, fingerprint in items:
            _check_key(key)
            if fingerprint.times.size and int(fingerprint.times.max()) >= _MAX_FRAMES:
                raise InvalidInput(f"track {key!r} is longer than the index allows (74 h)")
        return self.add_encoded([EncodedTrack.of(key, fp) for key, fp in items], replace=replace)

    def add_encoded(
        self, tracks: Sequence[EncodedTrack], *, replace: bool = False
    ) -> list[TrackInfo]:
        """Add tracks already encoded (see :class:`EncodedTrack`) as one new segment."""
        if not tracks:
            return []
        keys = [track.key for track in tracks]
        if len(set(keys)) != len(keys):
            raise InvalidInput("the same key appears twice in one batch")
        for track in tracks:
            _check_key(track.key)
            if track.times.size and int(track.times.max()) >= _MAX_FRAMES:
                raise InvalidInput(f"track {track.key!r} is longer than the index allows (74 h)")
            if track.hashes.size and int(track.hashes.max()) >> KEY_BITS:
                raise InvalidInput(f"track {track.key!r} has a hash wider than {KEY_BITS} bits")
        with _locked(self.path):
            manifest = json.loads((self.path / _MANIFEST).read_text())
            current = Index(self.path, manifest)
            retired = [current._by_key[k] for k in keys if k in current._by_key]
            if retired and not replace:
                taken = [k for k in keys if k in current._by_key]
                raise Conflict(f"already in the index: {', '.join(taken[:5])}")
            next_track = int(manifest["next_track"])
            ids = np.arange(next_track, next_track + len(tracks), dtype=np.uint32)
            name = f"seg-{int(manifest['next_segment']):06d}"
            infos = _write_segment(
                self.path,
                name,
                [
                    (int(i), t.key, t.duration, t.peaks, t.blob)
                    for i, t in zip(ids, tracks, strict=True)
                ],
                [t.hashes for t in tracks],
                [(t.times.astype(np.int64) // COARSE_FRAMES) for t in tracks],
            )
            manifest["segments"].append(name)
            manifest["removed"] = sorted(set(manifest["removed"]) | set(retired))
            manifest["next_track"] = next_track + len(tracks)
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
            gone = set(manifest["removed"])
            live: list[tuple[TrackInfo, _Segment]] = [
                (info, seg)
                for seg in current._segments
                for info in seg.catalog
                if info.track_id not in gone
            ]
            position = {info.track_id: n for n, (info, _) in enumerate(live)}
            hashes: list[list[U32]] = [[] for _ in live]
            slots: list[list[I64]] = [[] for _ in live]
            for segment in current._segments:
                keys, owners, coarse = segment.postings_by_track()
                order = np.argsort(owners, kind="stable")
                keys, owners, coarse = keys[order], owners[order], coarse[order]
                bounds = np.flatnonzero(np.diff(owners.astype(np.int64))) + 1
                for part_keys, part_owner, part_slots in zip(
                    np.split(keys, bounds),
                    np.split(owners, bounds),
                    np.split(coarse, bounds),
                    strict=True,
                ):
                    if part_owner.size and int(part_owner[0]) in position:
                        n = position[int(part_owner[0])]
                        hashes[n].append(part_keys)
                        slots[n].append(part_slots)
            old = list(manifest["segments"])
            name = f"seg-{int(manifest['next_segment']):06d}"
            if live:
                _write_segment(
                    self.path,
                    name,
                    [
                        (info.track_id, info.key, info.duration, info.peaks, seg.blob(info))
                        for info, seg in live
                    ],
                    [_joined(parts, np.uint32) for parts in hashes],
                    [_joined(parts, np.int64) for parts in slots],
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


def _check_key(key: str) -> None:
    if not key or len(key) > 500:
        raise InvalidInput("a track key must be 1 to 500 characters")


def _joined(parts: list[Any], dtype: type) -> npt.NDArray[Any]:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def _write_segment(
    root: Path,
    name: str,
    tracks: list[tuple[int, str, float, int, bytes]],
    hashes: list[U32],
    coarse: list[I64],
) -> list[TrackInfo]:
    """Write a segment into a temporary folder, then rename it into place.

    ``tracks`` are (id, key, duration, peak count, peak blob); ``hashes[i]`` and
    ``coarse[i]`` the postings of track ``i`` (hash, half-second slot within the track)."""
    infos: list[TrackInfo] = []
    slot = 0
    peak_start = 0
    for (track_id, key, duration, peaks, blob), track_hashes, track_slots in zip(
        tracks, hashes, coarse, strict=True
    ):
        slots = int(track_slots.max()) + 1 if track_slots.size else 0
        infos.append(
            TrackInfo(
                track_id,
                key,
                float(duration),
                int(track_hashes.size),
                peaks,
                peak_start,
                len(blob),
                slot,
                slots,
            )
        )
        slot += slots
        peak_start += len(blob)
    all_slots = np.concatenate(
        [c.astype(np.uint64) + np.uint64(info.slot) for c, info in zip(coarse, infos, strict=True)]
    )
    slot_bits = max(1, (slot - 1).bit_length())
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-seg-"))
    try:
        shape = write_table(tmp, np.concatenate(hashes), all_slots, slot_bits)
        del all_slots
        peak_data = np.frombuffer(b"".join(track[4] for track in tracks), dtype=np.uint8)
        with open(tmp / "peaks.npy", "wb") as handle:
            np.save(handle, peak_data)
            handle.flush()
            os.fsync(handle.fileno())
        catalog = {"postings": shape.as_dict(), "tracks": [asdict(info) for info in infos]}
        (tmp / "catalog.json").write_text(json.dumps(catalog))
        os.replace(tmp, root / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return infos


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path / "lock", "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

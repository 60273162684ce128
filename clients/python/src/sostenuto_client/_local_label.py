"""Labelling in the client's own processes with the server package (``local=True``).

Tags, a signed C2PA manifest and a watermark cost about 0.05 CPU s per 10 s output, much of
it Python code that holds the GIL, so threads would share one core for it. A batch is
labelled by a pool of processes instead, one per core, each loading the signing keys once.
The server package is imported only here, and only in those processes and for
``local=True``, so a client that labels through the API never loads numpy.
"""

from __future__ import annotations

import functools
import multiprocessing
import tempfile
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sostenuto_client._errors import SostenutoClientError


@dataclass(frozen=True)
class LocalJob:
    """One output to label: what the server would put in its label, and the watermark id."""

    name: str
    data: bytes
    model: str
    licensee: str
    composite: bool
    watermark_id: int
    layers: tuple[str, ...] | None
    keys_dir: str
    # Where an earlier run of the same batch may have written this output, labelled.
    kept: str | None = None


@functools.lru_cache(maxsize=4)
def _keys(keys_dir: str) -> Any:
    from sostenuto.label import load_keys

    return load_keys(Path(keys_dir))


def label_locally(job: LocalJob) -> bytes:
    """The labelled file's bytes (in this process): the kept file's when it already carries
    this watermark id (a C2PA signature differs each time, so labelling again would make
    another file, and another declaration)."""
    from sostenuto.errors import SostenutoError
    from sostenuto.label import LAYERS, Label, label_file, parse_source_type, read_metadata

    if job.kept is not None and Path(job.kept).is_file():
        try:
            found = read_metadata(job.kept).fields.get("SOSTENUTO_WATERMARK_ID")
        except SostenutoError:
            found = None
        if found == f"{job.watermark_id:08x}":
            return Path(job.kept).read_bytes()

    label = Label(
        model=job.model,
        licensee=job.licensee,
        source_type=parse_source_type(
            "compositeWithTrainedAlgorithmicMedia" if job.composite else "trainedAlgorithmicMedia"
        ),
        watermark_id=job.watermark_id,
    )
    layers = list(job.layers) if job.layers else list(LAYERS)
    with tempfile.TemporaryDirectory(prefix="sostenuto-label-") as folder:
        source = Path(folder) / Path(job.name).name
        source.write_bytes(job.data)
        try:
            result = label_file(
                source,
                label,
                output=Path(folder) / f"labelled-{source.name}",
                layers=layers,
                keys=_keys(job.keys_dir) if "c2pa" in layers else None,
            )
        except SostenutoError as error:  # the server package's errors, as the API words them
            raise SostenutoClientError(f"label: {error.code}: {error.message}") from None
        return Path(result.path).read_bytes()


def _warm(keys_dir: str) -> None:
    # Each process pays for numpy, the label package and the keys before its first output.
    import sostenuto.label  # noqa: F401

    _keys(keys_dir)


class LocalLabeller:
    """Labels on ``processes`` cores; with one, in the calling thread (no pool to start)."""

    def __init__(self, processes: int, keys_dir: str) -> None:
        self.processes = processes
        self.keys_dir = keys_dir
        self._pool: ProcessPoolExecutor | None = None
        if processes > 1:
            # spawn, not fork: the client has threads (its HTTP pool), and a forked child
            # of a threaded process may inherit a held lock.
            self._pool = ProcessPoolExecutor(
                processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_warm,
                initargs=(keys_dir,),
            )

    def submit(self, job: LocalJob) -> Future[bytes]:
        if self._pool is not None:
            return self._pool.submit(label_locally, job)
        done: Future[bytes] = Future()
        try:
            done.set_result(label_locally(job))
        except BaseException as error:  # handed to the caller, as the pool would
            done.set_exception(error)
        return done

    def pids(self) -> list[int]:
        """The labelling processes' ids (to account for their CPU time)."""
        processes = getattr(self._pool, "_processes", None) or {}
        return list(processes)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

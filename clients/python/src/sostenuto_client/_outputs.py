"""Generated outputs: check, label and declare each one, alone or many at a time.

For every output the client asks the server which registered recordings it reproduces
(``identify.outputs.check``) and whose enrolled voices it carries (``voice.screenings.add``).
An output carrying a voice its performer did not consent to is ``blocked``: it is neither
labelled nor declared. The others are labelled (metadata tags, a signed C2PA manifest and a
watermark) through ``label.apply``, or here with the server package when ``local=True``, and
declared to the transparency log as ``output-declaration`` entries naming the labelled file's
hash, its label and watermark ids and its resemblances.

Each output is declared exactly once: ``label.apply`` is asked not to declare (``declare``
false; the server links the watermark id to the declaration when it comes), and many outputs
are declared in one ``log.batches.declare`` call. The log is content-addressed, so a retried
call returns the same entries and never doubles them; with ``idempotency_key`` every request
of a batch carries a key derived from it, so running the same batch again is answered from
the server's record of the first run and adds nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sostenuto_client._errors import ProblemError, SostenutoClientError, UsageError

if TYPE_CHECKING:
    from sostenuto_client._client import Client
    from sostenuto_client._local_label import LocalLabeller

OutputStatus = Literal["labelled", "declared", "blocked", "failed"]
"""``labelled``: labelled, not yet declared; ``declared``: labelled and in the log;
``blocked``: it carries a voice without consent, so it was neither labelled nor declared;
``failed``: it could not be read, checked or labelled (``error`` says why)."""

OutputSource = str | os.PathLike[str] | bytes | tuple[str, bytes]
"""An output: a path, its bytes, or ``(filename, bytes)``."""

DECLARATIONS_PER_CALL = 1_000
MAX_WORKERS = 32


@dataclass
class LabelledOutput:
    """One output after :meth:`Outputs.label_and_declare`: the labelled file (its bytes, and
    its path when written to disk), what the checks found and the log's receipt."""

    name: str
    status: OutputStatus
    data: bytes | None = None
    path: Path | None = None
    sha256: str | None = None
    watermark_id: str | None = None
    label_id: str | None = None
    resemblances: list[dict[str, Any]] = field(default_factory=list)
    unauthorised_voices: list[dict[str, Any]] = field(default_factory=list)
    receipt: dict[str, Any] | None = None
    proof: dict[str, Any] | None = None
    error: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def declared(self) -> bool:
        return self.status == "declared"

    def declaration(self, *, licensee_id: int, model_id: int, on: dt.date) -> dict[str, Any]:
        """The ``output-declaration`` entry this output is declared as."""
        if self.sha256 is None:
            raise UsageError(f"{self.name}: an output that was not labelled cannot be declared")
        payload: dict[str, Any] = {
            "licensee_id": licensee_id,
            "model_id": model_id,
            "output_sha256": self.sha256,
            "generated_on": on.isoformat(),
            "resemblances": self.resemblances,
        }
        if self.label_id:
            payload["label_id"] = self.label_id
        if self.watermark_id:
            payload["watermark_id"] = self.watermark_id
        return {"type": "output-declaration", "payload": payload}


@dataclass
class OutputBatch:
    """Many outputs labelled and declared together, in the order given."""

    items: list[LabelledOutput]
    declaration_calls: int = 0

    def of(self, status: OutputStatus) -> list[LabelledOutput]:
        return [item for item in self.items if item.status == status]

    @property
    def new(self) -> int:
        """How many log entries this call appended (0 when all were declared before)."""
        return sum(1 for item in self.items if item.receipt and item.receipt.get("new", True))

    def as_json(self) -> dict[str, Any]:
        return {
            "items": [
                {
                    "name": item.name,
                    "status": item.status,
                    "sha256": item.sha256,
                    "watermark_id": item.watermark_id,
                    "label_id": item.label_id,
                    "resemblances": item.resemblances,
                    "unauthorised_voices": item.unauthorised_voices,
                    "receipt": item.receipt,
                    "proof": item.proof,
                    "error": item.error,
                }
                for item in self.items
            ]
        }


@dataclass(frozen=True)
class _Terms:
    licensee_id: int
    model_id: int
    territory: str | None
    composite: bool
    check_recordings: bool
    check_voices: bool
    allow_unauthorised_voices: bool
    local: bool
    keys_dir: Path | None
    layers: str | None
    out_dir: Path | None
    idempotency_key: str | None = None

    def key(self, step: str, name: str, digest: str) -> str | None:
        """The Idempotency-Key of one step for one output (told apart by name and content),
        or None (a fresh key per call) without ``idempotency_key``."""
        if self.idempotency_key is None:
            return None
        parts = (self.idempotency_key, step, name, digest)
        return "sostenuto-out-" + hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _name_of(source: OutputSource) -> str:
    """What an output is called in its reports: its file name."""
    if isinstance(source, bytes):
        return f"output-{hashlib.sha256(source).hexdigest()[:12]}.wav"
    if isinstance(source, tuple):
        return source[0]
    return Path(source).name


def _read(source: OutputSource) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, tuple):
        return source[1]
    try:
        return Path(source).read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {source} ({error.strerror})") from None


def _recording_resemblances(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One resemblance per reproduced recording; its score is the share of the output's
    duration that reproduces it (the log takes scores in [0, 1])."""
    duration = float(report.get("duration_s") or 0) or 1.0
    seconds: dict[int, float] = {}
    for segment in report.get("segments", []):
        recording = segment.get("recording_id")
        if recording is None:
            continue
        span = float(segment["query_end"]) - float(segment["query_start"])
        seconds[recording] = seconds.get(recording, 0.0) + max(span, 0.0)
    return [
        {"recording_id": rid, "score": round(min(1.0, span / duration), 4), "method": "fingerprint"}
        for rid, span in sorted(seconds.items())
    ]


def _voice_resemblances(
    report: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One resemblance per matched performer, scored as the share of the output's duration
    in that voice (as recordings are), and the unauthorised ranges."""
    duration = float(report.get("duration_s") or 0) or 1.0
    seconds: dict[int, float] = {}
    for matched in report.get("ranges", []):
        performer = matched.get("performer_id")
        if performer is not None:
            span = max(float(matched["end"]) - float(matched["start"]), 0.0)
            seconds[performer] = seconds.get(performer, 0.0) + span
    unauthorised = [r for r in report.get("ranges", []) if r.get("status") == "unauthorised"]
    return [
        {"performer_id": pid, "score": round(min(1.0, span / duration), 4), "method": "voice"}
        for pid, span in sorted(seconds.items())
    ], unauthorised


class Outputs:
    """``client.outputs``: label generated outputs and declare them to the log."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._names: dict[tuple[int, int], tuple[str, str]] = {}
        self._labeller: LocalLabeller | None = None

    def close(self) -> None:
        """Stop the labelling processes of ``local=True`` (the client's ``close`` does)."""
        if self._labeller is not None:
            self._labeller.close()
            self._labeller = None

    def _labeller_for(self, processes: int, terms: _Terms) -> LocalLabeller:
        """The labelling processes, kept between batches (starting one costs a second)."""
        from sostenuto_client._local_label import LocalLabeller

        keys_dir = str(terms.keys_dir or _default_keys_dir())
        current = self._labeller
        if current is None or current.keys_dir != keys_dir or current.processes < processes:
            self.close()
            self._labeller = current = LocalLabeller(processes, keys_dir)
        return current

    def label_and_declare(
        self,
        audio: OutputSource,
        *,
        model_id: int,
        licensee_id: int,
        territory: str | None = None,
        output: str | os.PathLike[str] | None = None,
        composite: bool = False,
        check_recordings: bool = True,
        check_voices: bool = True,
        allow_unauthorised_voices: bool = False,
        local: bool = False,
        keys_dir: str | os.PathLike[str] | None = None,
        layers: Sequence[str] | None = None,
        proof: bool = True,
        idempotency_key: str | None = None,
    ) -> LabelledOutput:
        """Check, label and declare one output. A failure to read, check or label it raises
        (the batch form reports it instead); a blocked output comes back unlabelled. The same
        ``idempotency_key`` again declares nothing new (see :meth:`label_and_declare_many`)."""
        batch = self.label_and_declare_many(
            [audio],
            model_id=model_id,
            licensee_id=licensee_id,
            territory=territory,
            out_dir=None,
            composite=composite,
            check_recordings=check_recordings,
            check_voices=check_voices,
            allow_unauthorised_voices=allow_unauthorised_voices,
            local=local,
            keys_dir=keys_dir,
            layers=layers,
            proofs=proof,
            workers=1,
            idempotency_key=idempotency_key,
        )
        item = batch.items[0]
        if item.status == "failed":
            raise SostenutoClientError(item.error)
        if output is not None and item.data is not None:
            item.path = Path(output)
            item.path.write_bytes(item.data)
        return item

    def label_and_declare_many(
        self,
        outputs: Iterable[OutputSource],
        *,
        model_id: int,
        licensee_id: int,
        territory: str | None = None,
        out_dir: str | os.PathLike[str] | None = None,
        composite: bool = False,
        check_recordings: bool = True,
        check_voices: bool = True,
        allow_unauthorised_voices: bool = False,
        local: bool = False,
        keys_dir: str | os.PathLike[str] | None = None,
        layers: Sequence[str] | None = None,
        proofs: bool = True,
        workers: int = 4,
        receipt: str | os.PathLike[str] | None = None,
        idempotency_key: str | None = None,
        processes: int | None = None,
    ) -> OutputBatch:
        """Check and label ``outputs`` with up to ``workers`` at a time, then declare every
        labelled one in one ``log.batches.declare`` call per 1 000. Each item reports its own
        status; one bad file never stops the others. With ``out_dir`` the labelled files are
        written there under their names (``path``; ``data`` stays empty), else kept in
        ``data``; ``receipt`` saves every receipt as JSON.

        ``check_voices`` screens each output for enrolled voices on the server: about 1.4 CPU
        s per 10 s output there, ten times the rest together; pass False only where no output
        can carry a voice (instrumental models). ``local=True`` labels in ``processes``
        processes (default: one per core, at most ``workers``). With ``idempotency_key``,
        running the same batch again (after a crash, say) labels nothing anew and declares
        nothing twice: the server answers each request as it did the first time."""
        if not 1 <= workers <= MAX_WORKERS:
            raise UsageError(f"workers must be 1..{MAX_WORKERS}, got {workers}")
        if processes is not None and not 1 <= processes <= MAX_WORKERS:
            raise UsageError(f"processes must be 1..{MAX_WORKERS}, got {processes}")
        if idempotency_key is not None and not idempotency_key:
            raise UsageError("idempotency_key must not be empty")
        if local:
            _require_server_package()
        terms = _Terms(
            licensee_id=licensee_id,
            model_id=model_id,
            territory=territory,
            composite=composite,
            check_recordings=check_recordings,
            check_voices=check_voices,
            allow_unauthorised_voices=allow_unauthorised_voices,
            local=local,
            keys_dir=Path(keys_dir) if keys_dir is not None else None,
            layers=",".join(layers) if layers else None,
            out_dir=Path(out_dir) if out_dir is not None else None,
            idempotency_key=idempotency_key,
        )
        if terms.out_dir is not None:
            terms.out_dir.mkdir(parents=True, exist_ok=True)
        sources = list(outputs)
        if local:
            wanted = processes or min(workers, len(sources), os.cpu_count() or 1)
            self._labeller_for(wanted, terms)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sostenuto-out") as pool:
            items = list(pool.map(lambda source: self._prepare(source, terms), sources))
        batch = OutputBatch(items)
        self.declare(
            batch, licensee_id=licensee_id, model_id=model_id, proofs=proofs, workers=workers
        )
        if receipt is not None:
            target = Path(receipt)
            temporary = target.with_name(target.name + ".tmp")
            temporary.write_text(json.dumps(batch.as_json(), indent=1) + "\n")
            os.replace(temporary, target)
        return batch

    def declare(
        self,
        batch: OutputBatch,
        *,
        licensee_id: int,
        model_id: int,
        proofs: bool = True,
        on: dt.date | None = None,
        workers: int = 4,
    ) -> OutputBatch:
        """Declare the labelled outputs of ``batch`` (again, after a crash: the log returns
        the same entries with ``new`` false) and fetch their inclusion proofs, ``workers`` at
        a time."""
        on = on or dt.date.today()
        ready = [item for item in batch.items if item.status in ("labelled", "declared")]
        for start in range(0, len(ready), DECLARATIONS_PER_CALL):
            group = ready[start : start + DECLARATIONS_PER_CALL]
            entries = [
                item.declaration(licensee_id=licensee_id, model_id=model_id, on=on)
                for item in group
            ]
            # The same entries get the same key, so a retry of this call is one request.
            key = hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()
            started = time.perf_counter()
            receipts = self._declare_entries(entries, key)
            batch.declaration_calls += 1
            share = (time.perf_counter() - started) / len(group)
            for item, found in zip(group, receipts, strict=True):
                item.receipt = found
                item.status = "declared"
                item.timings["declare"] = share
        if proofs:
            with ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="sostenuto-proof"
            ) as pool:
                list(pool.map(self._prove, [item for item in ready if item.receipt is not None]))
        return batch

    def _declare_entries(self, entries: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
        """``log.batches.declare``; a replayed answer (this key was sent before) says what
        the first call appended: here nothing was, so no receipt says ``new``."""
        from sostenuto_client._generated import OPERATIONS
        from sostenuto_client._transport import _build, _result

        operation = OPERATIONS["log.batches.declare"]
        request = _build(operation, {}, {}, {"entries": entries}, key)
        response = self._client.transport.send(operation, request)
        receipts: list[dict[str, Any]] = _result(operation, response)
        if response.headers.get("Idempotent-Replayed") == "true":
            receipts = [{**receipt, "new": False} for receipt in receipts]
        return receipts

    def _prove(self, item: LabelledOutput) -> None:
        assert item.receipt is not None
        started = time.perf_counter()
        item.proof = self._client.log.proofs.inclusion(item.receipt["index"])
        item.timings["proof"] = time.perf_counter() - started

    def _prepare(self, source: OutputSource, terms: _Terms) -> LabelledOutput:
        """Read, check and label one output; any failure is reported on the item."""
        name = _name_of(source)
        try:
            data = _read(source)
            item = LabelledOutput(name=name, status="failed")
            if not data:
                raise UsageError(f"{name}: the file is empty")
            digest = hashlib.sha256(data).hexdigest()
            self._check(item, data, digest, terms)
            if item.unauthorised_voices and not terms.allow_unauthorised_voices:
                item.status = "blocked"
                performers = sorted({int(v["performer_id"]) for v in item.unauthorised_voices})
                item.error = (
                    f"{name}: carries the voice of performer(s) {performers} without consent; "
                    "not labelled, not declared"
                )
                return item
            self._label(item, data, digest, terms)
            item.status = "labelled"
            return item
        except (ProblemError, SostenutoClientError) as error:
            reason = str(error) if str(error).startswith(name) else f"{name}: {error}"
            return LabelledOutput(name=name, status="failed", error=reason)

    def _timed(self, item: LabelledOutput, step: str, call: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return call()
        finally:
            item.timings[step] = time.perf_counter() - started

    def _check(self, item: LabelledOutput, data: bytes, digest: str, terms: _Terms) -> None:
        upload = (item.name, data)
        if terms.check_recordings:
            key = terms.key("check", item.name, digest)
            report = self._timed(
                item,
                "check",
                lambda: self._client.identify.outputs.check(file=upload, idempotency_key=key),
            )
            item.resemblances += _recording_resemblances(report)
        if terms.check_voices:
            key = terms.key("voices", item.name, digest)
            report = self._timed(
                item,
                "voices",
                lambda: self._client.voice.screenings.add(
                    file=upload,
                    licensee_id=terms.licensee_id,
                    territory=terms.territory,
                    idempotency_key=key,
                ),
            )
            voices, item.unauthorised_voices = _voice_resemblances(report)
            item.resemblances += voices

    def _label(self, item: LabelledOutput, data: bytes, digest: str, terms: _Terms) -> None:
        key = terms.key("label", item.name, digest)
        if terms.local:
            labelled, watermark = self._timed(
                item, "label", lambda: self._label_locally(item.name, data, terms, key)
            )
        else:
            labelled, watermark = self._timed(
                item, "label", lambda: self._label_remotely(item.name, data, terms, key)
            )
        item.data = labelled
        item.sha256 = hashlib.sha256(labelled).hexdigest()
        item.watermark_id = watermark
        item.label_id = f"sostenuto-label:{watermark}" if watermark else None
        if terms.out_dir is not None:
            # On disk, not in memory: a batch of any size holds no file's bytes.
            item.path = terms.out_dir / Path(item.name).name
            item.path.write_bytes(labelled)
            item.data = None

    def _label_remotely(
        self, name: str, data: bytes, terms: _Terms, key: str | None
    ) -> tuple[bytes, str | None]:
        # label.apply answers the file; its ids come in headers the generated method drops.
        # It does not declare the output: the batch declaration (with the resemblances) is
        # the output's one entry, and the server links the watermark id to it.
        from sostenuto_client._generated import OPERATIONS
        from sostenuto_client._transport import _build, _raise_for_problem

        transport = self._client.transport
        body: dict[str, Any] = {
            "file": (name, data),
            "licensee_id": terms.licensee_id,
            "model_id": terms.model_id,
            "composite": terms.composite or None,
            "layers": terms.layers,
            "declare": False,
        }
        operation = OPERATIONS["label.apply"]
        # Not safe to repeat, so a 429 (refused before labelling) is the only answer retried.
        response = transport.send(operation, _build(operation, {}, {}, body, key))
        _raise_for_problem(operation, response)
        watermark = response.headers.get("X-Sostenuto-Watermark-Id")
        if watermark is None and response.headers.get("Idempotent-Replayed") == "true":
            # A replayed answer has the file but not its headers: the id is in its tags.
            found = self._client.label.inspect(file=(name, response.content), watermark=False)
            watermark = found["metadata"]["fields"].get("SOSTENUTO_WATERMARK_ID")
        return response.content, watermark

    def _names_of(self, terms: _Terms) -> tuple[str, str]:
        """The licensee's and the model's names, as the server labels them."""
        key = (terms.licensee_id, terms.model_id)
        if key not in self._names:
            registry = self._client.registry
            licensee = next(
                (x for x in registry.licensees.list() if x["id"] == terms.licensee_id), None
            )
            model = next(
                (m for m in registry.models.list(terms.licensee_id) if m["id"] == terms.model_id),
                None,
            )
            if licensee is None or model is None:
                raise UsageError(
                    f"model {terms.model_id} of licensee {terms.licensee_id} is not registered"
                )
            model_name = f"{model['name']} {model.get('version') or ''}".strip()
            self._names[key] = (str(licensee["name"]), model_name)
        return self._names[key]

    def _label_locally(
        self, name: str, data: bytes, terms: _Terms, key: str | None
    ) -> tuple[bytes, str]:
        from sostenuto_client._local_label import LocalJob

        licensee, model = self._names_of(terms)
        # With a key, the same output gets the same id again; else a fresh one.
        watermark = int(key[-8:], 16) if key is not None else secrets.randbits(32)
        labeller = self._labeller or self._labeller_for(1, terms)
        job = LocalJob(
            name=name,
            data=data,
            model=model,
            licensee=licensee,
            composite=terms.composite,
            watermark_id=watermark,
            layers=tuple(terms.layers.split(",")) if terms.layers else None,
            keys_dir=labeller.keys_dir,
            kept=str(terms.out_dir / Path(name).name)
            if key is not None and terms.out_dir is not None
            else None,
        )
        return labeller.submit(job).result(), f"{watermark:08x}"


def _default_keys_dir() -> Path:
    from sostenuto.settings import get_settings

    return Path(get_settings().keys_dir)


def _require_server_package() -> None:
    try:
        import sostenuto.label  # noqa: F401
    except ImportError:
        raise UsageError(
            "local=True labels with the server package (sostenuto.label), which is not "
            "installed here; leave local=False to label through the API"
        ) from None

"""A worked example: train a tiny model only on what consent permits, and account for it.

    filter -> declare the manifest -> train -> declare the training run
           -> generate an output -> label and declare it -> verify every receipt offline

The corpus is a CSV manifest (``path,isrc``) of 16-bit mono WAV files; ``--demo-corpus``
writes a small synthetic one first. The model learns the average magnitude spectrum of the
permitted audio (one parameter per frequency bin) and "generates" by giving that spectrum
random phases. It runs on a CPU in seconds; the point is the accounting around it.

    python clients/python/examples/train_tiny.py --server http://127.0.0.1:8000 \\
        --token "$SOSTENUTO_TOKEN" --licensee 1 --model 1 --territory SE \\
        --demo-corpus ESA7Q1900101 ESA7Q1900102 --work tiny-run

It prints one JSON line: the counts, the log indices and whether every receipt verified.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import random
import struct
import sys
import wave
from pathlib import Path
from typing import Any

import sostenuto_client as sc
import torch
from sostenuto_client.pytorch import PermittedDataset

RATE = 16_000
FRAME = 512


def read_wav(path: str | Path) -> torch.Tensor:
    """A 16-bit mono WAV file as floats in [-1, 1]."""
    with wave.open(str(path), "rb") as source:
        if source.getsampwidth() != 2 or source.getnchannels() != 1:
            raise SystemExit(f"{path}: this example reads 16-bit mono WAV only")
        frames = source.readframes(source.getnframes())
    return torch.frombuffer(bytearray(frames), dtype=torch.int16).float() / 32768.0


def wav_bytes(samples: torch.Tensor) -> bytes:
    pcm = (samples.clamp(-1, 1) * 32767).to(torch.int16).numpy().tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(RATE)
        target.writeframes(pcm)
    return buffer.getvalue()


def write_demo_corpus(folder: Path, isrcs: list[str]) -> Path:
    """A few seconds of distinct chords per ISRC, and one file that names no recording."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for n, isrc in enumerate([*isrcs, ""]):
        rng = random.Random(n)
        notes = [110.0 * 2 ** (rng.randrange(24) / 12) for _ in range(3)]
        samples = [
            sum(math.sin(2 * math.pi * f * t / RATE) for f in notes) / 4 for t in range(RATE * 2)
        ]
        path = folder / f"track-{n}.wav"
        with wave.open(str(path), "wb") as target:
            target.setnchannels(1)
            target.setsampwidth(2)
            target.setframerate(RATE)
            target.writeframes(b"".join(struct.pack("<h", int(s * 32767)) for s in samples))
        rows.append(f"{path},{isrc}")
    manifest = folder / "corpus.csv"
    manifest.write_text("path,isrc\n" + "\n".join(rows) + "\n")
    return manifest


class TinySpectrum(torch.nn.Module):
    """One learnt magnitude per frequency bin of a frame."""

    def __init__(self) -> None:
        super().__init__()
        self.log_magnitude = torch.nn.Parameter(torch.zeros(FRAME // 2 + 1))

    def forward(self) -> torch.Tensor:
        return self.log_magnitude.exp()

    def generate(self, seconds: float, seed: int = 0) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        frames = int(seconds * RATE) // (FRAME // 2)
        window = torch.hann_window(FRAME)
        out = torch.zeros((frames + 1) * (FRAME // 2))
        with torch.no_grad():
            magnitude = self()
            for k in range(frames):
                phase = torch.rand(magnitude.shape, generator=generator) * 2 * math.pi
                frame = torch.fft.irfft(torch.polar(magnitude, phase), n=FRAME) * window
                start = k * (FRAME // 2)
                out[start : start + FRAME] += frame
        return 0.5 * out / out.abs().max().clamp(min=1e-6)


def frames_of(samples: torch.Tensor) -> torch.Tensor:
    usable = samples[: len(samples) // FRAME * FRAME]
    return torch.fft.rfft(usable.reshape(-1, FRAME) * torch.hann_window(FRAME)).abs()


def train(model: TinySpectrum, dataset: PermittedDataset[torch.Tensor], epochs: int) -> float:
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    loss = torch.tensor(0.0)
    for _ in range(epochs):
        for spectra in torch.utils.data.DataLoader(dataset, batch_size=None):
            optimiser.zero_grad()
            loss = torch.nn.functional.mse_loss(model().log(), spectra.clamp(min=1e-4).log())
            loss.backward()
            optimiser.step()
    return float(loss)


def verify_offline(bundles: list[dict[str, Any]], key: str) -> bool:
    """Check every receipt with the log's public key, without asking the server."""
    from sostenuto.transparency import verify_receipt  # the verifier ships with Sostenuto

    for bundle in bundles:
        verify_receipt(bundle, key)  # raises IntegrityFailure on any mismatch
    return True


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=None)
    parser.add_argument("--token", default=None)
    parser.add_argument("--licensee", type=int, required=True)
    parser.add_argument("--model", type=int, required=True)
    parser.add_argument("--model-version", default="tiny-1")
    parser.add_argument("--territory", required=True)
    parser.add_argument("--corpus", type=Path, help="CSV manifest with path and isrc columns")
    parser.add_argument("--demo-corpus", nargs="+", metavar="ISRC", help="write one first")
    parser.add_argument("--work", type=Path, default=Path("tiny-run"))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of the output")
    parser.add_argument("--no-voice-check", action="store_true")
    args = parser.parse_args(argv)
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    corpus = args.corpus or (
        write_demo_corpus(work / "corpus", args.demo_corpus) if args.demo_corpus else None
    )
    if corpus is None:
        parser.error("give --corpus or --demo-corpus")
    started = dt.date.today()

    with sc.Client(args.server, args.token) as client:
        # 1. Consent: only the permitted files are ever read for training.
        run = client.consent.filter(
            sc.read_csv(corpus, hash_files=True),
            licensee_id=args.licensee,
            use="train-genai",
            territory=args.territory,
            model_id=args.model,
            checkpoint=work / "filter.checkpoint.csv",
        )
        counts = run.run()
        manifest = run.declare(
            client.log, name=f"tiny corpus {started}", receipt=work / "manifest.receipt.json"
        )

        # 2. Train on the permitted files, read back from the filter's journal.
        model = TinySpectrum()
        dataset = PermittedDataset(run, lambda outcome: frames_of(read_wav(outcome.item.path)))
        loss = train(model, dataset, args.epochs)

        # 3. Declare the training run over the manifest just declared.
        training = client.log.entries.declare(
            type="training-run",
            payload={
                "licensee_id": args.licensee,
                "model_id": args.model,
                "model_version": args.model_version,
                "manifests": [entry["entry_id"] for entry in manifest.entries],
                "started_on": started.isoformat(),
                "ended_on": dt.date.today().isoformat(),
                "modalities": ["audio"],
            },
        )
        training_proof = client.log.proofs.inclusion(training["index"])

        # 4. Generate, then label and declare the output with its resemblances.
        output = client.outputs.label_and_declare(
            ("tiny-output.wav", wav_bytes(model.generate(args.seconds))),
            model_id=args.model,
            licensee_id=args.licensee,
            territory=args.territory,
            check_voices=not args.no_voice_check,
            output=work / "tiny-output.labelled.wav",
        )
        assert output.proof is not None

        # 5. Every receipt, checked offline against the log's public key.
        key = client.log.key.show()["verifier_key"]
        bundles = [*manifest.proofs, training_proof, output.proof]
        (work / "receipts.json").write_text(json.dumps(bundles, indent=1) + "\n")
        verified = verify_offline(bundles, key)

    summary = {
        "counts": counts,
        "manifest_files": manifest.files,
        "manifest_indices": [entry["index"] for entry in manifest.entries],
        "training_run_index": training["index"],
        "output": {
            "path": str(output.path),
            "sha256": output.sha256,
            "watermark_id": output.watermark_id,
            "index": output.receipt["index"] if output.receipt else None,
            "resemblances": output.resemblances,
        },
        "loss": round(loss, 4),
        "receipts": len(bundles),
        "verified": verified,
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    try:
        main()
    except sc.SostenutoClientError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None

"""Labelling and inspecting files: the three layers applied in order, written atomically.

Order matters: the watermark changes the samples (and so re-encodes lossy files), the tags
are written next, and the C2PA manifest is signed last so that its hash covers both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import soundfile

from sostenuto.audio import decode, probe_bit_rate
from sostenuto.errors import DependencyMissing, InvalidInput, UnsupportedFormat
from sostenuto.label import _watermark
from sostenuto.label._c2pa import read_manifest, sign_file
from sostenuto.label._formats import ENCODERS, c2pa_mime, detect_format, supports
from sostenuto.label._keys import SigningKeys
from sostenuto.label._metadata import read_metadata, write_metadata
from sostenuto.label._model import (
    LAYERS,
    Inspection,
    Label,
    LabelResult,
    ManifestFinding,
    WatermarkFinding,
)
from sostenuto.label._summary import summarise

_SUFFIX = {
    "wav": ".wav",
    "flac": ".flac",
    "mp3": ".mp3",
    "ogg-vorbis": ".ogg",
    "ogg-opus": ".opus",
    "mp4": ".m4a",
}


def default_output(path: Path) -> Path:
    """``song.wav`` -> ``song.labelled.wav`` beside it."""
    return path.with_name(f"{path.stem}.labelled{path.suffix}")


def check_layers(source: str | Path, layers: Sequence[str]) -> str:
    """The file's format, once every layer is known to fit it (else UnsupportedFormat)."""
    source = Path(source)
    if not source.is_file():
        raise InvalidInput(f"no such file: {source}")
    file_format = detect_format(source)
    _check_layers(file_format, layers, None)
    return file_format


def _check_layers(file_format: str, layers: Sequence[str], label: Label | None) -> None:
    for layer in layers:
        if layer not in LAYERS:
            raise InvalidInput(f"unknown layer {layer!r}; layers are {', '.join(LAYERS)}")
        if layer == "c2pa":
            c2pa_mime(file_format)  # raises UnsupportedFormat naming layer and format
        elif not supports(file_format, layer):
            raise UnsupportedFormat(
                f"the {layer} layer cannot be carried by {file_format} files",
                details={"layer": layer, "format": file_format},
            )
    if label is not None and "watermark" in layers and label.watermark_id is None:
        raise InvalidInput("the watermark layer needs a watermark id in the label")


@contextmanager
def _workdir(near: Path) -> Iterator[Path]:
    # Working files live beside the destination so the final rename stays on one filesystem.
    folder = Path(tempfile.mkdtemp(prefix=".sostenuto-label-", dir=near))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _bitrate(path: Path) -> str:
    rate = probe_bit_rate(path)
    # Keep the source's bit rate (so a re-encode costs as little as possible), at least 96k.
    return f"{max(96, (rate // 1000) if rate else 192)}k"


def _write_marked(source: Path, target: Path, file_format: str, watermark_id: int) -> float:
    audio = decode(source, mono=False)
    marked, report = _watermark.embed(audio.samples, audio.sample_rate, watermark_id)
    encoder = ENCODERS[file_format]
    if encoder is None:
        info = soundfile.info(str(source))
        subtype = (
            info.subtype if info.subtype in soundfile.available_subtypes(info.format) else None
        )
        soundfile.write(str(target), marked, audio.sample_rate, subtype=subtype, format=info.format)
        return report.snr_db
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise DependencyMissing("ffmpeg is needed to re-encode a watermarked lossy file")
    wav = target.with_suffix(".pcm.wav")
    soundfile.write(str(wav), marked, audio.sample_rate, subtype="FLOAT")
    codec, container = encoder
    result = subprocess.run(
        [
            ffmpeg,
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-i",
            str(wav),
            "-i",
            str(source),
            "-map",
            "0:a",
            "-map_metadata",
            "1",
            "-c:a",
            codec,
            "-b:a",
            _bitrate(source),
            "-f",
            container,
            str(target),
        ],
        capture_output=True,
        check=False,
    )
    wav.unlink(missing_ok=True)
    if result.returncode != 0:
        raise UnsupportedFormat(
            f"cannot re-encode the watermarked {file_format} file: "
            f"{result.stderr.decode(errors='replace').strip()[-300:]}"
        )
    return report.snr_db


def label_file(
    source: str | Path,
    label: Label,
    *,
    output: str | Path | None = None,
    in_place: bool = False,
    layers: Sequence[str] = LAYERS,
    keys: SigningKeys | None = None,
) -> LabelResult:
    """Write a labelled copy of ``source`` (or replace it when ``in_place``).

    Every layer is checked against the format before anything is written; the result
    appears at its destination in one rename, or not at all.
    """
    source = Path(source)
    if not source.is_file():
        raise InvalidInput(f"no such file: {source}")
    if in_place and output is not None:
        raise InvalidInput("give either an output path or in-place, not both")
    destination = source if in_place else Path(output) if output else default_output(source)
    if not in_place and destination.resolve() == source.resolve():
        raise InvalidInput("the output would overwrite the source; pass in-place to do that")
    file_format = detect_format(source)
    layers = [layer for layer in LAYERS if layer in layers] + [
        layer for layer in layers if layer not in LAYERS
    ]
    _check_layers(file_format, layers, label)
    if "c2pa" in layers and keys is None:
        raise InvalidInput("the c2pa layer needs signing keys (sostenuto keys init)")
    destination.parent.mkdir(parents=True, exist_ok=True)
    snr: float | None = None
    manifest_bytes: int | None = None
    with _workdir(destination.parent) as work:
        current = work / f"step0{_SUFFIX[file_format]}"
        shutil.copyfile(source, current)
        if "watermark" in layers:
            assert label.watermark_id is not None
            marked = work / f"step1{_SUFFIX[file_format]}"
            snr = _write_marked(current, marked, file_format, label.watermark_id)
            current = marked
        if "metadata" in layers:
            write_metadata(current, label)
        if "c2pa" in layers:
            assert keys is not None
            signed = work / f"step3{_SUFFIX[file_format]}"
            manifest_bytes = sign_file(current, signed, c2pa_mime(file_format), label, keys)
            current = signed
        os.chmod(current, 0o644)
        os.replace(current, destination)
    return LabelResult(
        path=str(destination),
        file_format=file_format,
        layers=list(layers),
        watermark_id=label.watermark_id if "watermark" in layers else None,
        watermark_snr_db=snr,
        manifest_bytes=manifest_bytes,
    )


def detect_watermark(path: str | Path) -> WatermarkFinding:
    """Decode ``path`` at the watermark's internal rate and look for a mark."""
    audio = decode(path, sample_rate=_watermark.RATE, mono=True)
    return finding_from(_watermark.detect(audio.samples))


def finding_from(detection: _watermark.Detection) -> WatermarkFinding:
    return WatermarkFinding(
        found=detection.found,
        watermark_id=detection.watermark_id,
        confidence=detection.confidence,
        false_alarm=detection.false_alarm,
        z=detection.z,
        seconds_analysed=detection.seconds_analysed,
    )


def inspect_file(
    path: str | Path,
    *,
    trust_anchors: bytes | None,
    watermark: bool = True,
    display_name: str | None = None,
) -> Inspection:
    """Read every layer of ``path`` and say in plain words what it shows."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    file_format = detect_format(path)
    metadata = read_metadata(path)
    manifest = (
        read_manifest(path, c2pa_mime(file_format), trust_anchors)
        if supports(file_format, "c2pa")
        else ManifestFinding(present=False)
    )
    mark = detect_watermark(path) if watermark else None
    log_entry = (
        str(manifest.sostenuto["log_entry_id"])
        if manifest.intact and manifest.sostenuto.get("log_entry_id")
        else metadata.fields.get("SOSTENUTO_LOG_ENTRY")
    )
    return Inspection(
        file_format=file_format,
        metadata=metadata,
        manifest=manifest,
        watermark=mark,
        log_entry_id=log_entry,
        summary=summarise(display_name or path.name, file_format, metadata, manifest, mark),
    )

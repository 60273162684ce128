"""All layers written into a copy of each format, read back by inspect_file."""

from __future__ import annotations

from pathlib import Path

import pytest

from sostenuto.errors import InvalidInput, UnsupportedFormat
from sostenuto.label import (
    LAYERS,
    Label,
    SigningKeys,
    detect_format,
    inspect_file,
    label_file,
)
from tests.label.conftest import copy

LABEL = Label(
    model="Tessitura 2.1",
    licensee="Aurora Audio Ltd",
    log_entry_id="ab" * 32,
    watermark_id=0x00C0FFEE,
    reservations={"c2pa.ai_generative_training": "notAllowed"},
)


@pytest.mark.audio
@pytest.mark.parametrize("name", ["wav", "flac", "mp3", "mp4"])
def test_every_layer_round_trips(
    format_files: dict[str, Path], tmp_path: Path, keys: SigningKeys, name: str
) -> None:
    source = copy(format_files[name], tmp_path)
    before = source.read_bytes()
    result = label_file(source, LABEL, keys=keys)
    output = Path(result.path)
    assert output != source and output.name == f"music.labelled{source.suffix}"
    assert source.read_bytes() == before  # never in place unless asked
    assert result.layers == list(LAYERS)
    assert result.watermark_snr_db is not None and result.watermark_snr_db >= 30
    assert detect_format(output) == name
    found = inspect_file(output, trust_anchors=keys.root_pem)
    assert found.ai_generated
    assert found.metadata.fields["AI_MODEL"] == "Tessitura 2.1"
    assert found.manifest.trusted and found.manifest.sostenuto["watermark_id"] == 0x00C0FFEE
    assert found.watermark is not None and found.watermark.watermark_id == 0x00C0FFEE
    assert found.log_entry_id == "ab" * 32
    assert any("verified and trusted" in line for line in found.summary)
    # No working files are left beside the output.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([source.name, output.name])


@pytest.mark.audio
@pytest.mark.parametrize("name", ["ogg-vorbis", "ogg-opus"])
def test_ogg_takes_watermark_and_tags_but_not_c2pa(
    format_files: dict[str, Path], tmp_path: Path, keys: SigningKeys, name: str
) -> None:
    source = copy(format_files[name], tmp_path)
    with pytest.raises(UnsupportedFormat, match=f"c2pa layer cannot be carried by {name}"):
        label_file(source, LABEL, keys=keys)
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]  # nothing half-written
    result = label_file(source, LABEL, layers=["watermark", "metadata"])
    found = inspect_file(result.path, trust_anchors=keys.root_pem)
    assert found.metadata.ai_generated and not found.manifest.present
    assert found.watermark is not None and found.watermark.watermark_id == 0x00C0FFEE
    assert any("cannot carry a C2PA manifest" in line for line in found.summary)


def test_in_place_replaces_the_source(
    format_files: dict[str, Path], tmp_path: Path, keys: SigningKeys
) -> None:
    source = copy(format_files["flac"], tmp_path)
    result = label_file(source, LABEL, in_place=True, layers=["metadata", "c2pa"], keys=keys)
    assert Path(result.path) == source
    found = inspect_file(source, trust_anchors=keys.root_pem, watermark=False)
    assert found.manifest.trusted and found.metadata.ai_generated and found.watermark is None


def test_unlabelled_file_reads_as_unlabelled(
    format_files: dict[str, Path], keys: SigningKeys
) -> None:
    found = inspect_file(format_files["wav"], trust_anchors=keys.root_pem)
    assert not found.ai_generated
    assert found.watermark is not None and not found.watermark.found
    assert "carries no AI-generation label" in found.summary[0]


def test_bad_requests_are_refused(format_files: dict[str, Path], tmp_path: Path) -> None:
    source = copy(format_files["wav"], tmp_path)
    with pytest.raises(InvalidInput, match="signing keys"):
        label_file(source, LABEL)
    with pytest.raises(InvalidInput, match="unknown layer"):
        label_file(source, LABEL, layers=["stamp"])
    with pytest.raises(InvalidInput, match="watermark id"):
        label_file(source, Label(model="m", licensee="l"), layers=["watermark"])
    with pytest.raises(InvalidInput, match="overwrite the source"):
        label_file(source, LABEL, output=source, layers=["metadata"])
    with pytest.raises(InvalidInput, match="model"):
        Label(model=" ", licensee="l")
    with pytest.raises(InvalidInput, match="source type"):
        Label(model="m", licensee="l", source_type="photo")  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]

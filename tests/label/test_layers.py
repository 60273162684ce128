"""Metadata and C2PA layers per format: round trips, tampering, forged signers, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from sostenuto.errors import IntegrityFailure, UnsupportedFormat
from sostenuto.label import (
    IPTC_PREFIX,
    Label,
    SigningKeys,
    c2pa_mime,
    detect_format,
    read_manifest,
    read_metadata,
    require_valid,
    sign_file,
    write_metadata,
)
from tests.label.conftest import copy

LABEL = Label(
    model="Tessitura 2.1",
    licensee="Aurora Audio Ltd",
    source_type="compositeWithTrainedAlgorithmicMedia",
    log_entry_id="9f" * 32,
    licence_ref="licence:17",
    consent_ref="decision:5b1c",
    watermark_id=0xCAFE0042,
    reservations={"c2pa.ai_training": "notAllowed", "c2pa.data_mining": "constrained"},
    reservation_note="performers of recordings 4 and 9 reserve text and data mining",
)
C2PA_FORMATS = ["wav", "flac", "mp3", "mp4"]


@pytest.mark.parametrize("name", ["wav", "flac", "mp3", "ogg-vorbis", "ogg-opus", "mp4"])
def test_metadata_round_trip(format_files: dict[str, Path], tmp_path: Path, name: str) -> None:
    path = copy(format_files[name], tmp_path)
    assert detect_format(path) == name
    assert not read_metadata(path).present
    write_metadata(path, LABEL)
    found = read_metadata(path)
    assert found.ai_generated
    assert (
        found.fields["DIGITAL_SOURCE_TYPE"] == IPTC_PREFIX + "compositeWithTrainedAlgorithmicMedia"
    )
    assert found.fields["AI_MODEL"] == "Tessitura 2.1"
    assert found.fields["AI_LICENSEE"] == "Aurora Audio Ltd"
    assert found.fields["SOSTENUTO_LOG_ENTRY"] == "9f" * 32
    assert found.fields["SOSTENUTO_LICENCE"] == "licence:17"
    assert found.fields["SOSTENUTO_CONSENT"] == "decision:5b1c"
    assert found.fields["SOSTENUTO_WATERMARK_ID"] == "cafe0042"
    # Writing again replaces the fields rather than piling up duplicates.
    write_metadata(path, Label(model="Other", licensee="Aurora Audio Ltd"))
    again = read_metadata(path)
    assert again.fields["AI_MODEL"] == "Other" and "SOSTENUTO_LOG_ENTRY" not in again.fields


@pytest.mark.parametrize("name", C2PA_FORMATS)
def test_manifest_round_trip_is_trusted(
    format_files: dict[str, Path], tmp_path: Path, keys: SigningKeys, name: str
) -> None:
    source = format_files[name]
    signed = tmp_path / f"signed{source.suffix}"
    size = sign_file(source, signed, c2pa_mime(name), LABEL, keys)
    assert size > 1000
    found = read_manifest(signed, c2pa_mime(name), keys.root_pem)
    assert found.present and found.trusted and found.state == "Trusted"
    assert found.source_type == IPTC_PREFIX + "compositeWithTrainedAlgorithmicMedia"
    assert found.model == "Tessitura 2.1"
    assert found.signer == "Sostenuto C2PA signer"
    assert found.sostenuto["log_entry_id"] == "9f" * 32
    assert found.sostenuto["watermark_id"] == 0xCAFE0042
    assert found.training_mining == {  # written as CAWG training-mining entries
        "cawg.ai_training": "notAllowed",
        "cawg.data_mining": "constrained",
    }
    require_valid(found)
    assert not read_manifest(source, c2pa_mime(name), keys.root_pem).present


def _audio_offset(path: Path) -> int:
    # A byte well inside the audio payload, past every header and before any trailing manifest.
    return path.stat().st_size // 3


@pytest.mark.parametrize("name", C2PA_FORMATS)
def test_an_altered_byte_fails_validation(
    format_files: dict[str, Path], tmp_path: Path, keys: SigningKeys, name: str
) -> None:
    source = format_files[name]
    signed = tmp_path / f"signed{source.suffix}"
    sign_file(source, signed, c2pa_mime(name), LABEL, keys)
    data = bytearray(signed.read_bytes())
    data[_audio_offset(signed)] ^= 0x01
    tampered = tmp_path / f"tampered{source.suffix}"
    tampered.write_bytes(bytes(data))
    found = read_manifest(tampered, c2pa_mime(name), keys.root_pem)
    assert found.present and not found.intact and found.state == "Invalid"
    assert any("mismatch" in problem for problem in found.problems)
    with pytest.raises(IntegrityFailure):
        require_valid(found)


def test_an_altered_sample_fails_validation(
    format_files: dict[str, Path], tmp_path: Path, keys: SigningKeys
) -> None:
    import struct

    signed = tmp_path / "signed.wav"
    sign_file(format_files["wav"], signed, "audio/wav", LABEL, keys)
    data = bytearray(signed.read_bytes())
    position = 12  # walk the RIFF chunks to the PCM data
    while data[position : position + 4] != b"data":
        size = struct.unpack_from("<I", data, position + 4)[0]
        position += 8 + size + (size & 1)
    sample = position + 8 + 2 * 2 * 44_100  # left channel, one second in
    value = struct.unpack_from("<h", data, sample)[0]
    struct.pack_into("<h", data, sample, value + 1 if value < 32767 else value - 1)
    signed.write_bytes(bytes(data))
    found = read_manifest(signed, "audio/wav", keys.root_pem)
    assert found.state == "Invalid"


@pytest.mark.parametrize("name", ["wav", "mp3"])
def test_a_manifest_from_another_key_is_untrusted(
    format_files: dict[str, Path],
    tmp_path: Path,
    keys: SigningKeys,
    forged_keys: SigningKeys,
    name: str,
) -> None:
    source = format_files[name]
    forged = tmp_path / f"forged{source.suffix}"
    sign_file(source, forged, c2pa_mime(name), LABEL, forged_keys)
    found = read_manifest(forged, c2pa_mime(name), keys.root_pem)
    assert found.present and found.intact and not found.trusted
    assert any("untrusted" in problem for problem in found.problems)
    with pytest.raises(IntegrityFailure, match="untrusted"):
        require_valid(found)
    # The forger's own anchor would trust it: trust comes only from the anchor.
    assert read_manifest(forged, c2pa_mime(name), forged_keys.root_pem).trusted


@pytest.mark.parametrize("name", ["ogg-vorbis", "ogg-opus"])
def test_ogg_cannot_carry_a_manifest(name: str) -> None:
    with pytest.raises(UnsupportedFormat) as raised:
        c2pa_mime(name)
    assert "c2pa" in raised.value.message and name in raised.value.message
    assert raised.value.details == {"layer": "c2pa", "format": name}


def test_non_audio_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("not audio at all")
    with pytest.raises(UnsupportedFormat):
        detect_format(path)

"""WAV/BWF labels in RIFF INFO and bext, read back by ffprobe as well as by us."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import given
from hypothesis import strategies as st
from mutagen.wave import WAVE

from sostenuto.errors import UnsupportedFormat
from sostenuto.label import Label, read_metadata, write_metadata
from sostenuto.label._riff import comment_text, read_riff_label, write_riff_label
from tests.label.conftest import encode, synth_music

LABEL = Label(
    model="Tessitura 2.1; beta",
    licensee="Aurora Audio Ltd",
    log_entry_id="9f" * 32,
    watermark_id=0xCAFE0042,
)


def _probe_tags(path: Path) -> dict[str, str]:
    shown = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format_tags", "-of", "json", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    tags: dict[str, str] = json.loads(shown.stdout)["format"].get("tags", {})
    return tags


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    path = tmp_path / "take.wav"
    soundfile.write(path, synth_music(2.0), 44_100, subtype="PCM_16")
    return path


def test_info_and_bext_are_written_and_other_readers_see_them(wav: Path) -> None:
    before, _ = soundfile.read(wav, dtype="int16")
    write_metadata(wav, LABEL)
    tags = _probe_tags(wav)
    assert tags["comment"].startswith("AI_GENERATED=true; DIGITAL_SOURCE_TYPE=http://cv.iptc")
    assert "AI_MODEL=Tessitura 2.1%3B beta" in tags["comment"]
    # ffmpeg's names: INFO ISFT is "encoder", bext Originator "encoded_by".
    assert tags["encoder"] == "Tessitura 2.1; beta"
    assert tags["encoded_by"] == "Sostenuto"
    assert tags["originator_reference"] == "SOSTENUTO-WM-cafe0042"
    description = read_riff_label(wav)["BEXT_DESCRIPTION"]
    assert description == (
        "AI-generated audio (trainedAlgorithmicMedia), model Tessitura 2.1; beta, "
        "licensee Aurora Audio Ltd"
    )
    after, _ = soundfile.read(wav, dtype="int16")
    assert np.array_equal(before, after)  # tags only: not one sample changes


def test_the_label_survives_losing_the_id3_chunk(wav: Path) -> None:
    write_metadata(wav, LABEL)
    handle = WAVE(str(wav))
    handle.delete()  # many WAV editors drop ID3 chunks they do not know
    assert WAVE(str(wav)).tags is None
    found = read_metadata(wav)
    assert found.ai_generated
    assert found.fields["AI_MODEL"] == "Tessitura 2.1; beta"
    assert found.fields["SOSTENUTO_WATERMARK_ID"] == "cafe0042"


def test_other_info_entries_and_an_existing_bext_are_kept(wav: Path, tmp_path: Path) -> None:
    broadcast = encode(
        wav,
        tmp_path / "broadcast.wav",
        "-write_bext",
        "1",
        "-metadata",
        "title=Evening take",
        "-metadata",
        "description=Studio B, evening session",
        "-metadata",
        "comment=first comment",
    )
    write_metadata(broadcast, LABEL)
    tags = _probe_tags(broadcast)
    assert tags["title"] == "Evening take"
    assert tags["comment"].startswith("AI_GENERATED=true")
    # Their bext stays as it was.
    assert read_riff_label(broadcast)["BEXT_DESCRIPTION"] == "Studio B, evening session"
    write_metadata(broadcast, Label(model="Other", licensee="Aurora Audio Ltd"))
    fields = read_riff_label(broadcast)
    assert fields["AI_MODEL"] == "Other" and "SOSTENUTO_LOG_ENTRY" not in fields
    assert _probe_tags(broadcast)["title"] == "Evening take"


def test_a_broken_riff_file_is_refused_by_name(wav: Path) -> None:
    raw = wav.read_bytes()
    wav.write_bytes(raw[: len(raw) // 2])  # the data chunk now claims more than is there
    with pytest.raises(UnsupportedFormat, match="truncated"):
        read_riff_label(wav)


@given(
    st.dictionaries(
        st.sampled_from(["AI_MODEL", "AI_LICENSEE", "SOSTENUTO_LICENCE", "SOSTENUTO_CONSENT"]),
        st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=40),
    )
)
def test_any_value_reads_back_whole(
    tmp_path_factory: pytest.TempPathFactory, fields: dict[str, str]
) -> None:

    path = tmp_path_factory.mktemp("riff") / "x.wav"
    soundfile.write(path, np.zeros(800, dtype=np.float32), 8000)
    values = {"AI_GENERATED": "true", **fields}
    write_riff_label(path, values)
    found = read_riff_label(path)
    assert {k: v for k, v in found.items() if k != "BEXT_DESCRIPTION"} == values
    assert comment_text(values).count("; ") == len(values) - 1

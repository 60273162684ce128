"""The IPTC digital source type in XMP (``Iptc4xmpExt:DigitalSourceType``), where other tools
look: an ID3v2 PRIV frame owned by "XMP" (XMP Specification Part 3), read back as RDF/XML."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import soundfile
from mutagen.id3 import ID3, PRIV
from mutagen.wave import WAVE
from rdflib import Graph, Literal, URIRef

from sostenuto.label._metadata import read_metadata, write_metadata
from sostenuto.label._model import IPTC_PREFIX, Label
from tests.label.conftest import RATE, encode, synth_music

DIGITAL_SOURCE_TYPE = URIRef("http://iptc.org/std/Iptc4xmpExt/2008-02-29/DigitalSourceType")
LABEL = Label(model="Tessitura 2.1", licensee="Aurora", source_type="trainedAlgorithmicMedia")


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    folder = tmp_path_factory.mktemp("xmp")
    wav = folder / "music.wav"
    soundfile.write(str(wav), synth_music(2.0), RATE, subtype="PCM_16")
    return {"wav": wav, "mp3": encode(wav, folder / "music.mp3", "-c:a", "libmp3lame")}


def _xmp_statement(id3: ID3) -> set[object]:
    (frame,) = [f for f in id3.getall("PRIV") if f.owner == "XMP"]
    packet = frame.data.decode()
    rdf_xml = packet[packet.index("<rdf:RDF") : packet.index("</rdf:RDF>") + len("</rdf:RDF>")]
    graph = Graph()
    graph.parse(data=rdf_xml, format="xml")
    return set(graph.objects(None, DIGITAL_SOURCE_TYPE))


@pytest.mark.parametrize("name", ["mp3", "wav"])
def test_source_type_is_in_xmp(sources: dict[str, Path], tmp_path: Path, name: str) -> None:
    path = tmp_path / sources[name].name
    shutil.copyfile(sources[name], path)
    write_metadata(path, LABEL)
    write_metadata(path, LABEL)  # labelling again replaces our packet, never duplicates it
    expected = IPTC_PREFIX + "trainedAlgorithmicMedia"
    id3 = ID3(str(path)) if name == "mp3" else WAVE(str(path)).tags
    assert _xmp_statement(id3) == {Literal(expected)}
    assert read_metadata(path).fields["XMP_DIGITAL_SOURCE_TYPE"] == expected


def test_a_foreign_xmp_packet_is_kept(sources: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "foreign.mp3"
    shutil.copyfile(sources["mp3"], path)
    id3 = ID3(str(path))
    foreign = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><!-- a DAW wrote this --></x:xmpmeta>'
    id3.add(PRIV(owner="XMP", data=foreign))
    id3.save()
    write_metadata(path, LABEL)
    assert [f.data for f in ID3(str(path)).getall("PRIV") if f.owner == "XMP"] == [foreign]
    assert read_metadata(path).fields["AI_GENERATED"] == "true"

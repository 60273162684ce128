"""Synthetic catalogues for tests and benchmarks: valid ISRCs and ISNIs, seeded, any size.

``write_csv_catalogue`` and ``write_ddex_catalogue`` write the same catalogue (same seed, same
recordings and contributors) in the two import formats of docs/registry.md.
"""

from __future__ import annotations

import csv
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from sostenuto.registry._readers import CSV_COLUMNS
from sostenuto.registry._validate import isni_check_character

INSTRUMENTS = ("guitar", "piano", "double bass", "drums", "violin", "cello", "trumpet", "saxophone")
WORDS = (
    "luz", "norte", "marea", "sommar", "natt", "vinter", "herbst", "stille", "river", "ember",
    "quiet", "city", "glass", "orilla", "fjäll", "himmel", "salt", "copper", "ribbon", "dawn",
)  # fmt: skip


def synthetic_isni(index: int, salt: int = 0) -> str:
    """A valid ISNI derived from ``index`` (the 0000 000X range is avoided on purpose)."""
    digits = f"{9_000_000_000_000 + salt * 1_000_000_000 + index:015d}"[-15:]
    return digits + isni_check_character(digits)


@dataclass(frozen=True)
class SyntheticContributor:
    name: str
    isni: str | None
    featured: bool
    kind: str
    instrument: str | None
    weight: str


@dataclass(frozen=True)
class SyntheticRecording:
    isrc: str
    title: str
    duration_ms: int
    fixation_year: int
    audio_sha256: str
    contributors: tuple[SyntheticContributor, ...]


def synthetic_recordings(
    count: int,
    *,
    performers: int,
    seed: int = 1,
    country: str = "ES",
    registrant: str = "S0S",
    contributors_per_recording: int = 2,
) -> Iterator[SyntheticRecording]:
    """``count`` recordings whose contributors are drawn from ``performers`` people."""
    rng = random.Random(seed)
    for index in range(count):
        year = (index // 100_000) % 100
        isrc = f"{country}{registrant}{year:02d}{index % 100_000:05d}"
        people = rng.sample(range(performers), min(contributors_per_recording, performers))
        parts = []
        for rank, person in enumerate(people):
            voice = person % 3 == 0
            parts.append(
                SyntheticContributor(
                    name=f"Performer {seed}-{person}",
                    isni=synthetic_isni(person, seed) if person % 4 else None,
                    featured=rank == 0,
                    kind="voice" if voice else "instrument",
                    instrument=None if voice else INSTRUMENTS[person % len(INSTRUMENTS)],
                    weight="2" if rank == 0 else "1",
                )
            )
        yield SyntheticRecording(
            isrc=isrc,
            title=" ".join(rng.choice(WORDS) for _ in range(3)).capitalize(),
            duration_ms=rng.randrange(60_000, 420_000),
            fixation_year=1960 + index % 65,
            audio_sha256=hashlib.sha256(isrc.encode()).hexdigest(),
            contributors=tuple(parts),
        )


def write_csv_catalogue(path: Path, recordings: Iterator[SyntheticRecording]) -> int:
    """One row per (recording, contributor); returns the number of recordings written."""
    written = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for rec in recordings:
            written += 1
            for part in rec.contributors:
                writer.writerow(
                    (
                        rec.isrc, rec.title, rec.duration_ms, rec.fixation_year,
                        rec.audio_sha256, part.name, part.isni or "", "",
                        "true" if part.featured else "false", part.kind,
                        part.instrument or "", part.weight,
                    )
                )  # fmt: skip
    return written


def _duration(ms: int) -> str:
    minutes, rest = divmod(ms, 60_000)
    return f"PT{minutes}M{rest / 1000:.3f}S"


def ddex_record(rec: SyntheticRecording) -> dict[str, object]:
    """The DDEX-style JSON object of one recording (docs/registry.md)."""
    contributors = []
    for part in rec.contributors:
        item: dict[str, object] = {
            "DisplayName": part.name,
            "Role": ["MainArtist" if part.featured else "Musician"]
            + (["Vocalist"] if part.kind == "voice" else []),
            "HasMadeFeaturedContribution": part.featured,
            "Weight": part.weight,
        }
        if part.isni:
            item["PartyId"] = {"ISNI": part.isni}
        if part.instrument:
            item["InstrumentType"] = part.instrument
        else:
            item["ContributionKind"] = part.kind
        contributors.append(item)
    return {
        "ISRC": rec.isrc,
        "DisplayTitleText": rec.title,
        "Duration": _duration(rec.duration_ms),
        "CreationDate": str(rec.fixation_year),
        "HashSum": {"Algorithm": "SHA256", "HashSumValue": rec.audio_sha256},
        "ResourceContributor": contributors,
    }


def write_ddex_catalogue(path: Path, recordings: Iterator[SyntheticRecording]) -> int:
    """JSON Lines, one recording per line; returns the number written."""
    written = 0
    with path.open("wb") as handle:
        for rec in recordings:
            written += 1
            handle.write(orjson.dumps(ddex_record(rec)) + b"\n")
    return written

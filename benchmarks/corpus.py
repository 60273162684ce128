"""Fetch and unpack the real-audio benchmark corpus from Debian packages (never committed).

Music: game soundtracks that Debian ships under free licences. Voices: recorded voice packs.
Each package's ``copyright`` file is kept beside its audio so the licence travels with it.

    python benchmarks/corpus.py            # fetch everything into ~/.cache/sostenuto/corpus
    python benchmarks/corpus.py music      # only the music packages
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

CACHE = Path(os.environ.get("SOSTENUTO_CORPUS", Path.home() / ".cache" / "sostenuto" / "corpus"))

MUSIC_PACKAGES = [
    "wesnoth-1.16-music",
    "warzone2100-music",
    "ufoai-music",
    "singularity-music",
    "planetblupi-music-ogg",
]
VOICE_PACKAGES = ["hedgewars-data", "warzone2100-data"]
AUDIO_SUFFIXES = {".ogg", ".opus", ".flac", ".wav", ".mp3"}


def fetch(package: str) -> Path:
    """Download and unpack one Debian package into the cache; return its folder."""
    target = CACHE / package
    if (target / ".complete").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", package], cwd=tmp, check=True)
        (deb,) = Path(tmp).glob("*.deb")
        subprocess.run(["dpkg", "-x", str(deb), str(target)], check=True)
    (target / ".complete").write_text("ok\n")
    return target


def audio_files(package: str) -> list[Path]:
    root = fetch(package)
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)


def music_files(packages: list[str] | None = None) -> dict[str, list[Path]]:
    """Every music file, by package (hedgewars' music folder included)."""
    found = {name: audio_files(name) for name in (packages or MUSIC_PACKAGES)}
    hedgewars = fetch("hedgewars-data")
    found["hedgewars-data"] = sorted(
        p for p in hedgewars.rglob("Music/*") if p.suffix.lower() in AUDIO_SUFFIXES
    )
    return found


def hedgewars_voices() -> dict[str, list[Path]]:
    """Hedgewars voice packs: one folder of short utterances per voice."""
    root = fetch("hedgewars-data")
    packs: dict[str, list[Path]] = {}
    for folder in sorted(root.rglob("Sounds/voices/*")):
        if folder.is_dir():
            files = sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
            if files:
                packs[folder.name] = files
    return packs


def main(argv: list[str]) -> None:
    want = argv[1:] or ["music", "voices"]
    if "music" in want:
        for name, files in music_files().items():
            print(f"{name}: {len(files)} files")
    if "voices" in want:
        for name, files in hedgewars_voices().items():
            print(f"hedgewars voice {name}: {len(files)} files")
        fetch("warzone2100-data")


if __name__ == "__main__":
    main(sys.argv)

"""Fetch and unpack the real-audio benchmark corpus from Debian packages (never committed).

Music: game soundtracks that Debian ships under free licences. Voices: recorded voice packs.
Each package's ``copyright`` file is kept beside its audio so the licence travels with it.

    python benchmarks/corpus.py            # fetch everything into ~/.cache/sostenuto/corpus
    python benchmarks/corpus.py music      # only the music packages
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

CACHE = Path(os.environ.get("SOSTENUTO_CORPUS", Path.home() / ".cache" / "sostenuto" / "corpus"))

MUSIC_PACKAGES = [
    "wesnoth-1.16-music",
    "warzone2100-music",
    "ufoai-music",
    "singularity-music",
    "planetblupi-music-ogg",
]
VOICE_PACKAGES = ["hedgewars-data", "warzone2100-data", "0ad-data"]
# Whole unregistered tracks held out from every identification tuning (benchmarks/identify.py
# whole-file row): no threshold, constant or decoy setting was chosen looking at them.
# (package, glob of its music inside the unpacked package or pk3 archive).
HELD_OUT_MUSIC = {
    "supertux-data": "usr/share/games/supertux2/music/**/*.ogg",
    "ufoai-music": "pk3/music/*.ogg",
    "nexuiz-music": "pk3/sound/cdtracks/*.ogg",
    "hyperrogue-music": "usr/share/hyperrogue/music/*.ogg",
    "asc-music": "**/*.mp3",
    "drascula-music": "**/*.ogg",
}
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


def _unpack_pk3(root: Path) -> None:
    """Unzip the package's ``.pk3`` archives (Quake-style zips) into ``root/pk3`` once."""
    target = root / "pk3"
    if (target / ".complete").exists():
        return
    for archive in sorted(root.rglob("*.pk3")):
        with zipfile.ZipFile(archive) as pk3:
            for name in pk3.namelist():
                if Path(name).suffix.lower() in AUDIO_SUFFIXES:
                    pk3.extract(name, target)
    target.mkdir(parents=True, exist_ok=True)
    (target / ".complete").write_text("ok\n")


def held_out_music(min_seconds: float = 30.0) -> dict[str, list[Path]]:
    """The held-out whole tracks by package: at least ``min_seconds`` long (sound effects
    and jingles left out) and each content once (drascula ships the same tracks twice)."""
    import hashlib

    import soundfile

    found: dict[str, list[Path]] = {}
    seen: set[str] = set()
    for package, pattern in HELD_OUT_MUSIC.items():
        root = fetch(package)
        _unpack_pk3(root)
        kept = []
        for path in sorted(root.glob(pattern)):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            try:
                if soundfile.info(str(path)).duration < min_seconds:
                    continue
            except RuntimeError:
                pass  # libsndfile cannot tell: kept, the benchmark decodes it itself
            kept.append(path)
        found[package] = kept
    return found


def audio_files(package: str) -> list[Path]:
    """The package's audio files as shipped (not what held_out_music unpacked from its
    archives: ufoai-music's tracks are held out, never part of the excerpt rows)."""
    root = fetch(package)
    return sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() in AUDIO_SUFFIXES and "pk3" not in p.relative_to(root).parts[:1]
    )


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


# Warzone 2100 voice folders inside ``base.wz`` (a zip): the tutorial narration (about 3 s
# sentences), the commander's unit replies and the three multiplayer taunt voices. NEXUS (an
# AI voice under a vocoder effect) and the radio-filtered pilot chatter are left out.
WARZONE_VOICES = {
    "wz-tutorial": "audio/tutorial/",
    "wz-commander": "audio/memressp/cmndrvoc/",
    "wz-taunt1": "audio/taunts/taunt1/",
    "wz-taunt2": "audio/taunts/taunt2/",
    "wz-taunt3": "audio/taunts/taunt3/",
}


def warzone_voices() -> dict[str, list[Path]]:
    """Warzone 2100 voices unpacked from ``base.wz`` (GPL-2+, Eidos Interactive and the
    Warzone 2100 Project per the package's copyright file; no voice actor is credited)."""
    root = fetch("warzone2100-data")
    target = root / "voices"
    if not (target / ".complete").exists():
        (archive,) = root.rglob("base.wz")
        with zipfile.ZipFile(archive) as wz:
            for name in wz.namelist():
                if name.endswith(".ogg") and name.startswith(tuple(WARZONE_VOICES.values())):
                    wz.extract(name, target)
        (target / ".complete").write_text("ok\n")
    return {
        voice: sorted((target / folder).glob("*.ogg")) for voice, folder in WARZONE_VOICES.items()
    }


def zeroad_voices() -> dict[str, list[Path]]:
    """0 A.D. citizen voices, one folder per civilisation and sex (CC-BY-SA-3.0 per the
    package's copyright file; performers in ``gui/credits/texts/audio.json``, kept beside).

    ``0ad-data`` is 1.4 GB holding one 3.2 GB ``public.zip``; only the voices and the credits
    are kept, the rest is deleted after unpacking.
    """
    target = CACHE / "0ad-data"
    if not (target / ".complete").exists():
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            subprocess.run(["apt-get", "download", "0ad-data"], cwd=tmp, check=True)
            (deb,) = Path(tmp).glob("*.deb")
            subprocess.run(["dpkg", "-x", str(deb), tmp], check=True)
            (public,) = Path(tmp).rglob("mods/public/public.zip")
            with zipfile.ZipFile(public) as archive:
                for name in archive.namelist():
                    if (name.startswith("audio/voice/") and name.endswith(".ogg")) or (
                        name == "gui/credits/texts/audio.json"
                    ):
                        archive.extract(name, target / "voices")
            (copyright_file,) = Path(tmp).rglob("doc/0ad-data/copyright")
            shutil.copy(copyright_file, target / "copyright")
        (target / ".complete").write_text("ok\n")
    voices: dict[str, list[Path]] = {}
    for folder in sorted((target / "voices" / "audio" / "voice").glob("*/civ")):
        for sex in ("female", "male"):
            files = sorted(folder.glob(f"civ_{sex}_*.ogg"))
            if files:
                voices[f"0ad-{folder.parent.name}-{sex}"] = files
    return voices


def main(argv: list[str]) -> None:
    want = argv[1:] or ["music", "voices"]
    if "music" in want:
        for name, files in music_files().items():
            print(f"{name}: {len(files)} files")
    if "voices" in want:
        for name, files in hedgewars_voices().items():
            print(f"hedgewars voice {name}: {len(files)} files")
        for name, files in (warzone_voices() | zeroad_voices()).items():
            print(f"voice {name}: {len(files)} files")


if __name__ == "__main__":
    main(sys.argv)

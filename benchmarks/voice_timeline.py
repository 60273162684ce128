"""60 s timelines from real voices and real music, screened as a file is (issue #20).

Run through ``python benchmarks/voice.py --write-calibration`` (section ``protection``), after
the new calibration is written. Each timeline: an unenrolled voice (≈ 8 s), music alone (8 s),
an enrolled voice (up to 20 s of its probes: utterances it never enrolled), another unenrolled
voice (≈ 8 s), music alone to 60 s. The registry holds one print per enrolled performer group
(the first of its voices). Passes when the enrolled voice is reported as **one** range
covering at least 80 % of its stretch, no range names anyone else, and no range (known or
unknown voice) lies over the music by more than 0.5 s. The before/after decisions judge the
same analysis (VAD, segments, embeddings at every pitch shift).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

import voice as base
import voice_protection as vp
from sostenuto.voice import _calibration, _mfcc, _model
from sostenuto.voice._index import VoiceIndex
from sostenuto.voice._match import _judge, merge_judged
from sostenuto.voice._probe import analyse

SR = _model.SAMPLE_RATE
console = Console(width=200)
COUNT = 2  # timelines (one enrolled voice each; CPU on a shared machine)
PAUSE = np.zeros(int(0.2 * SR), np.float32)


def _stretch(clips: list[np.ndarray], seconds: float) -> np.ndarray:
    parts: list[np.ndarray] = []
    for clip in clips:
        parts += [clip, PAUSE]
        if sum(p.size for p in parts) >= seconds * SR:
            break
    return np.concatenate(parts)


def _music(track: np.ndarray, seconds: float, level: float, rng: np.random.Generator) -> Any:
    length = int(seconds * SR)
    start = int(rng.integers(0, max(1, track.size - length)))
    piece = track[start : start + length]
    piece = np.pad(piece, (0, length - piece.size))
    return (piece * level / (base.rms(piece) or 1.0)).astype(np.float32)


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def run(data: dict[str, Any], before: _calibration.Screening, per_voice: int) -> dict[str, Any]:
    """Screen ``COUNT`` timelines with the decision ``before`` and the stored one."""
    _calibration.screening.cache_clear()
    after = _calibration.screening()
    _, _, items = vp.load(False, per_voice)
    setup: vp.Setup = data["_setup"]
    ge2e, raw = data["prints"]["silero"]
    # One print per enrolled performer group.
    registered: dict[str, int] = {}
    for v in setup.enrolled:
        registered.setdefault(data["voices"][v][2], v)
    columns = sorted(registered.values())
    ids = list(range(1, len(columns) + 1))
    id_of_voice = {data["voices"][v][0]: pid for v, pid in zip(columns, ids, strict=True)}
    model = _model.load_model()
    music = base.music_bank(3)
    by_voice: dict[str, list[np.ndarray]] = {}
    for item in items:
        by_voice.setdefault(item.voice, []).append(item.clean)
    unenrolled = sorted({i.voice for i in items if i.kind == "unenrolled"})
    targets = [data["voices"][v][0] for v in columns][:: max(1, len(columns) // COUNT)][:COUNT]
    rng = np.random.default_rng(29)
    results: dict[str, Any] = {}
    for t, target in enumerate(targets):
        first, second = (
            unenrolled[(2 * t) % len(unenrolled)],
            unenrolled[(2 * t + 1) % len(unenrolled)],
        )
        level = base.rms(np.concatenate(by_voice[target]))
        pieces = [
            ("stranger", _stretch(by_voice[first], 8)),
            ("music", _music(music[t % len(music)], 8, level, rng)),
            ("target", _stretch(by_voice[target], 20)),
            ("stranger", _stretch(by_voice[second], 8)),
        ]
        used = sum(p.size for _, p in pieces) / SR
        pieces.append(
            ("music", _music(music[(t + 1) % len(music)], max(1.0, 60 - used), level, rng))
        )
        spans: dict[str, list[tuple[float, float]]] = {"stranger": [], "music": [], "target": []}
        at = 0
        for name, piece in pieces:
            spans[name].append((at / SR, (at + piece.size) / SR))
            at += piece.size
        signal = np.concatenate([p for _, p in pieces]).astype(np.float32)
        analysis = analyse(model, signal, after.shifts)
        row: dict[str, Any] = {"target": target, "strangers": [first, second]}
        for label, decision in (("before", before), ("after", after)):
            index = VoiceIndex(ids, ge2e[columns])
            mfcc_rows = _mfcc.standardise(
                raw[columns], decision.fusion.mfcc_mean, decision.fusion.mfcc_std
            )
            mfcc_index = VoiceIndex(ids, mfcc_rows)
            ranges = merge_judged(_judge(analysis, index, mfcc_index, decision))
            own = id_of_voice[target]
            (span,) = spans["target"]
            mine = [r for r in ranges if r.performer_id == own]
            covered = sum(_overlap((r.start, r.end), span) for r in mine) / (span[1] - span[0])
            innocent = [r for r in ranges if r.performer_id not in (None, own)]
            over_music = max(
                sum(_overlap((r.start, r.end), bed) for r in ranges) for bed in spans["music"]
            )
            row[label] = {
                "ranges_for_target": len(mine),
                "covered_pct": round(100 * covered, 1),
                "innocent_ranges": len(innocent),
                "music_reported_s": round(over_music, 2),
                "passed": len(mine) == 1 and covered >= 0.8 and not innocent and over_music < 0.5,
            }
        results[target] = row
    print_table(results)
    return results


def print_table(results: dict[str, Any]) -> None:
    table = Table(title="60 s timelines of real voices and music (before → after)")
    for column in ("enrolled voice", "ranges", "covered %", "innocent", "music s", "passed"):
        table.add_column(column)
    for target, row in results.items():
        b, a = row["before"], row["after"]
        table.add_row(
            target,
            f"{b['ranges_for_target']} → {a['ranges_for_target']}",
            f"{b['covered_pct']} → {a['covered_pct']}",
            f"{b['innocent_ranges']} → {a['innocent_ranges']}",
            f"{b['music_reported_s']} → {a['music_reported_s']}",
            f"{b['passed']} → {a['passed']}",
        )
    console.print(table)

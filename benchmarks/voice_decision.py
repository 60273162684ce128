"""The screening decision Sostenuto ships since issue #20, measured on stretches of one voice.

Run through ``python benchmarks/voice.py`` (section ``protection``), on the same probes and
prints as every other row (``benchmarks/voice_protection.py``).

The decision (``sostenuto.voice._match._judge``):
- every segment is scored as before (Silero VAD, GE2E and MFCC cosines fused, cohort-
  normalised, best over the pitch shifts), the fusion weights learned by logistic regression
  on the clean tuning segments; a variant adds 24 fixed synthetic voices (espeak-ng) to the
  AS-norm cohort (measured; ``SHIPPED`` says which variant is written);
- each continuous stretch is also scored once as a whole (its segments pooled, as enrolment
  pools clips) against a threshold calibrated for stretches of its length; when it passes,
  that voice holds every segment on which it leads; the other segments keep the smoothed
  per-segment decision.

Here a stretch is ``k`` probes of one voice (≈ 3k s): the pooled score is the pooled probes',
the fallback is the shipped smoothing over its ``k`` probe scores. Thresholds: the segment
threshold gives 1 % false matches per clean tuning probe; each stretch threshold is the lowest
at which at most 1 % of the clean tuning stretches of that size name another performer,
fallback included. Only the tuning corpora (hedgewars, warzone2100, 0ad) set anything.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import voice_protection as vp
import voice_stretches as vs
from sostenuto.voice import _calibration
from sostenuto.voice._smooth import NONE, smooth_labels

SIZES = (1, 2, 4)
# The shortest stretch each size's threshold is used for in screening (≈ 3 s a probe,
# counted from the first segment's start to the last one's end).
SECONDS = {2: 6.0, 4: 12.0}
NAME = "new: stretch pooled + segments, learned fusion, synthetic cohort"
NAME_PLAIN = "new: stretch pooled + segments, learned fusion (enrolled cohort only)"
SHIPPED = NAME_PLAIN  # the variant written to calibration.json (docs/voice.md says why)


def conditions(data: dict[str, Any]) -> tuple[str, ...]:
    """Every condition with Silero features: the six, and music after separation."""
    return tuple(c for c in vp.ALL_CONDITIONS if ("silero", c) in data["probes"])


def outcome(
    pooled_scores: np.ndarray,
    cut: float,
    fallback: tuple[np.ndarray, list[tuple[int, ...]], vp.Setup, float] | None,
    setup: vp.Setup,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per stretch: its own performer named (on at least half its segments); another
    performer named (anywhere); and, open-set, another performer's voice passing (what would
    be named were the right voice not enrolled: the false-match definition of the thresholds).

    ``fallback`` (segment scores, stretch members, their setup, segment threshold): as
    screening does, a passing stretch names its voice on the segments where that voice leads,
    the others keep the smoothed per-segment decision."""
    best = pooled_scores.argmax(axis=1)
    top = pooled_scores[np.arange(best.size), best]
    passed = top >= cut
    named = setup.groups[best]
    own = named == setup.performer
    stranger = vp.impostor_best(pooled_scores, setup) >= cut
    if fallback is None:
        return passed & own, passed & ~own, stranger
    segment_scores, groups, segment_setup, segment_cut = fallback
    hit = np.zeros(best.size, bool)
    wrong = np.zeros(best.size, bool)
    names = segment_setup.groups
    for j, members in enumerate(groups):
        rows = segment_scores[list(members)]
        rows = np.where(np.isfinite(rows), rows, -1e9).astype(np.float32)
        spans = [(3.0 * i, 3.0 * i + 3.0) for i in range(len(members))]
        labels = smooth_labels(spans, rows, segment_cut, vs.SWITCH)
        if passed[j]:
            labels = [
                int(best[j]) if int(r.argmax()) == best[j] else x
                for r, x in zip(rows, labels, strict=True)
            ]
        mine = segment_setup.performer[members[0]]
        found = [names[label] for label in labels if label != NONE]
        hit[j] = sum(name == mine for name in found) * 2 >= len(labels)
        wrong[j] = any(name != mine for name in found)
    return hit, wrong, stranger | (~passed & wrong)


def rates(
    hit: np.ndarray, wrong: np.ndarray, stranger: np.ndarray, setup: vp.Setup
) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for part, where in (
        ("all", np.ones(hit.size, bool)),
        ("tuning", setup.tuning),
        ("held-out", ~setup.tuning),
    ):
        enrolled = where & (setup.kind == "enrolled")
        unenrolled = where & (setup.kind == "unenrolled")
        real = where & (setup.kind != "synthetic")
        row[part] = {
            "false_match_probes_pct": 100 * float(np.mean(stranger[real])),
            "miss_pct": 100 * float(np.mean(~hit[enrolled])),
            "wrong_performer_pct": 100 * float(np.mean(wrong[enrolled])),
            "unenrolled_attributed_pct": 100 * float(np.mean(wrong[unenrolled])),
            "enrolled_probes": int(enrolled.sum()),
            "unenrolled_probes": int(unenrolled.sum()),
        }
    synthetic = setup.kind == "synthetic"
    row["synthetic_attributed_pct"] = 100 * float(np.mean(wrong[synthetic]))
    row["synthetic_probes"] = int(synthetic.sum())
    return row


def calibrate(clean: np.ndarray, fallback: Any, setup: vp.Setup) -> float:
    """The lowest threshold at which at most 1 % of clean tuning stretches of real voices
    have another performer's voice passing (the fallback's false matches count too)."""
    real = setup.tuning & (setup.kind != "synthetic")
    tops = clean.max(axis=1)
    candidates = np.unique(tops[real & np.isfinite(tops)])
    for cut in candidates:
        _, _, stranger = outcome(clean, float(cut), fallback, setup)
        if np.mean(stranger[real]) <= 0.01:
            return float(cut)
    return float("inf")


def variant(
    data: dict[str, Any],
    learned: _calibration.Fusion,
    cohort: dict[str, float],
    extra: tuple[np.ndarray, np.ndarray] | None,
) -> dict[str, Any]:
    """One variant of the decision: rows per stretch size, thresholds, segment scores."""
    measured = conditions(data)
    setup: vp.Setup = data["_setup"]
    segments = vs.cohort_scores(data, learned, cohort, extra=extra, conditions=measured)
    segment_cut = vp.threshold(segments, setup)
    rows: dict[str, Any] = {}
    cuts: dict[int, float] = {}
    for k in SIZES:
        groups = vs.stretches(data["items"], k)
        sdata = vs.stretch_data(data, groups)
        ssetup: vp.Setup = sdata["_setup"]
        scores = vs.cohort_scores(sdata, learned, cohort, extra=extra, conditions=measured)

        def fallback(condition: str) -> Any:
            if k == 1:  # noqa: B023 - used at once
                return None
            return (segments[condition], groups, setup, segment_cut)  # noqa: B023

        cut = segment_cut if k == 1 else calibrate(scores["clean"], fallback("clean"), ssetup)
        cuts[k] = cut
        rows[str(k)] = {
            "threshold": cut,
            "conditions": {
                c: rates(*outcome(scores[c], cut, fallback(c), ssetup), ssetup) for c in scores
            },
        }
    return {
        "rows": rows,
        "segment_threshold": segment_cut,
        "stretch": [[SECONDS[k], cuts[k]] for k in SIZES if k in SECONDS],
        "segments": segments,
    }


def tuning_misses(found: dict[str, Any]) -> float:
    """Misses on the tuning corpora, summed over clean, music 10 dB and both pitch shifts and
    over the stretch sizes: how a variant is chosen (never on the held-out voices)."""
    return sum(
        row["conditions"][c]["tuning"]["miss_pct"]
        for row in found["rows"].values()
        for c in ("clean", "music-10dB", "pitch+2", "pitch-2")
    )


def evaluate(data: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """Rows of the new decision per stretch size (with and without the synthetic cohort),
    and the constants of the variant screening ships."""
    fusion: _calibration.Fusion = result["fusion"]
    learned = vs.lr_fusion(data, fusion)
    g, m, _ = data["cohort_prints"]
    top = result["cohort"]["top"]
    setup: vp.Setup = data["_setup"]
    plain = vp.system_scores(data, "silero", learned, shifts=(0,))["clean"]
    prior, floor = vp.cohort_prior(plain, setup, top)
    cohort = {"top": top, "floor": round(floor, 4), "prior": round(prior, 4)}
    variants = {
        NAME: variant(data, learned, cohort, (g, m)),
        NAME_PLAIN: variant(data, learned, cohort, None),
    }
    chosen = SHIPPED
    rows = {
        k: {name: {**v["rows"][k], "cohort": cohort} for name, v in variants.items()}
        for k in map(str, SIZES)
    }
    return {
        "rows": rows,
        "fusion": learned,
        "cohort": cohort,
        "fixed_cohort": chosen == NAME,
        "tuning_misses": {name: tuning_misses(v) for name, v in variants.items()},
        "segment_threshold": variants[chosen]["segment_threshold"],
        "stretch": variants[chosen]["stretch"],
        "segments": variants[chosen]["segments"],
        "weights": [fusion.ge2e[1] / learned.ge2e[1], fusion.mfcc[1] / learned.mfcc[1]],
    }

"""Voice protection per stretch: what a timeline range holds, not one 3 s segment.

A performer sees ranges on a timeline. A cloned voice in a song holds a stretch (a verse, a
spoken passage), and screening decides over the stretch: its Viterbi pass gives a stretch to
a voice when the segments' summed lead over the threshold carries it. The per-segment table
(benchmarks/voice_protection.py) counts every 3 s segment alone; this section measures the
same probes grouped into stretches of ``k`` probes of one voice (k = 1, 4: ≈ 3, 12 s of
voice), under every condition, with the threshold of each decision refitted so that at most
1 % of the tuning corpora's clean stretches name another performer.

Decisions measured on the same stretches:
- ``segments, Viterbi (as shipped)``: the shipped per-segment scores, smoothed by the
  shipped Viterbi pass over the stretch's segments; a hit when the performer holds at least
  half of them, a false match when anyone else is named on any of them. Once at the shipped
  per-segment threshold (what screening does today) and once refitted per stretch.
- ``pooled``: one embedding per stretch (normalised mean of the segments' GE2E embeddings,
  mean of their MFCC statistics), scored once, pitch searched once per stretch (a clone keeps
  one shift): today's fused score, the MFCC baseline, and the shipped normalisation.
- variants of the pooled decision: a margin rule (the named voice must lead the next
  performer's voice), a fixed synthetic cohort added to the AS-norm cohort, prints of several
  centroids.

Stretches are drawn as combinations of a voice's probes (at most ``CAP`` per voice, fixed
seed), so they overlap: rates are estimated over many stretches, but a voice's stretches are
not independent of each other. Probes of one voice were cut from other utterances than its
enrolment, never from it.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

import voice_protection as vp
from sostenuto.voice import _calibration, _score
from sostenuto.voice._smooth import NONE, smooth_labels

console = Console(width=200)
SIZES = (1, 2, 4)
CAP = 24
SWITCH = 2.0  # the shipped smoothing's cost of a change of voice
MARGINS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)
CENTROIDS = 3


def stretches(items: list[tuple[str, str, str, str]], k: int) -> list[tuple[int, ...]]:
    """Combinations of ``k`` probes of one voice (all its probes when it has fewer)."""
    rng = np.random.default_rng(17 + k)
    by_voice: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        by_voice.setdefault(item[0], []).append(i)
    out: list[tuple[int, ...]] = []
    for members in by_voice.values():
        if len(members) <= k:
            out.append(tuple(members))
            continue
        combos = list(itertools.combinations(members, k))
        if len(combos) > CAP:
            chosen = rng.choice(len(combos), size=CAP, replace=False)
            combos = [combos[int(c)] for c in sorted(chosen)]
        out.extend(combos)
    return out


def pooled(features: tuple[np.ndarray, np.ndarray], groups: list[tuple[int, ...]]) -> Any:
    """Per stretch: normalised mean of its probes' GE2E rows, mean of their MFCC rows
    (probes where no voice was found are left out; none left: zeros, matches nothing)."""
    ge2e, mfcc = features
    g = np.zeros((ge2e.shape[0], len(groups), ge2e.shape[2]), np.float32)
    m = np.zeros((mfcc.shape[0], len(groups), mfcc.shape[2]), np.float32)
    for j, members in enumerate(groups):
        rows = list(members)
        voiced = [r for r in rows if np.linalg.norm(ge2e[0, r]) > 0]
        if not voiced:
            continue
        g[:, j] = vp.unit(ge2e[:, voiced].mean(axis=1))
        m[:, j] = mfcc[:, voiced].mean(axis=1)
    return g, m


def stretch_data(data: dict[str, Any], groups: list[tuple[int, ...]]) -> dict[str, Any]:
    items = [data["items"][members[0]] for members in groups]
    out = {
        "voices": data["voices"],
        "items": items,
        "prints": data["prints"],
        "shifts": data["shifts"],
        "probes": {key: pooled(value, groups) for key, value in data["probes"].items()},
    }
    out["_setup"] = vp.Setup(data["voices"], items)
    return out


def margin_gated(matrix: np.ndarray, setup: vp.Setup, margin: float) -> np.ndarray:
    """Only the leading voice keeps its score, and only when it leads every voice of another
    performer by at least ``margin``; the rest can name no one."""
    out = np.full_like(matrix, -np.inf)
    rows = np.arange(matrix.shape[0])
    best = matrix.argmax(axis=1)
    other = setup.groups[None, :] != setup.groups[best][:, None]
    runner = np.where(other, matrix, -np.inf).max(axis=1)
    keep = matrix[rows, best] - runner >= margin
    out[rows[keep], best[keep]] = matrix[rows[keep], best[keep]]
    return out


def open_threshold(clean: np.ndarray, setup: vp.Setup, margin: float) -> float:
    """The margin rule's threshold, open-set: each clean tuning stretch is judged with its own
    performer's voices removed (as if not enrolled), and at most 1 % of them may then name
    someone. (Judged with its own voice present, the rule's best voice is nearly always the
    right one, no impostor score survives, and the fitted threshold let everything pass.)"""
    hidden = np.where(setup.impostor, clean, -np.inf)
    best = margin_gated(hidden, setup, margin).max(axis=1)
    chosen = best[setup.tuning & (setup.kind != "synthetic")]
    cut = _calibration.threshold_for_rate(chosen.tolist(), 0.01)
    return max(cut, float(np.min(chosen[np.isfinite(chosen)], initial=0.0)))


def threshold(scores: dict[str, np.ndarray], setup: vp.Setup) -> float:
    """At most 1 % of the clean tuning stretches of real voices have another performer's
    voice passing; stretches where no other voice can pass at all (no voice found, or the
    margin rule names no one) count among the stretches, unlike ``vp.threshold``."""
    best = vp.impostor_best(scores["clean"], setup)
    chosen = best[setup.tuning & (setup.kind != "synthetic")]
    return _calibration.threshold_for_rate(chosen.tolist(), 0.01)


def cohort_scores(
    data: dict[str, Any],
    fusion: _calibration.Fusion,
    cohort: dict[str, float],
    extra: tuple[np.ndarray, np.ndarray] | None = None,
    centroids: list[np.ndarray] | None = None,
    conditions: tuple[str, ...] = (),
) -> dict[str, np.ndarray]:
    """The shipped pooled decision (Silero, fused, AS-norm, pitch search), optionally with
    ``extra`` cohort prints (GE2E, raw MFCC) and per-voice GE2E ``centroids``."""
    setup: vp.Setup = data["_setup"]
    prints, mfcc_prints = data["prints"]["silero"]
    prints, mfcc_prints = prints[setup.enrolled], mfcc_prints[setup.enrolled]
    groups = np.unique(setup.groups, return_inverse=True)[1].astype(np.int64)
    voices = len(setup.enrolled)
    if extra is not None:
        prints = np.concatenate([prints, extra[0]])
        mfcc_prints = np.concatenate([mfcc_prints, extra[1]])
        groups = np.concatenate([groups, groups.max() + 1 + np.arange(extra[0].shape[0])])
    standard = vp.unit((mfcc_prints - fusion.mfcc_mean) / fusion.mfcc_std)
    out = {}
    for condition in conditions or vp.measured(data):
        ge2e, mfcc = data["probes"][("silero", condition)]
        rows = []
        for k in range(ge2e.shape[0]):
            g = vp.unit(ge2e[k]) @ prints.T
            if centroids is not None:
                for v, rows_v in enumerate(centroids):
                    g[:, v] = (vp.unit(ge2e[k]) @ rows_v.T).max(axis=1)
            m = vp.unit((mfcc[k] - fusion.mfcc_mean) / fusion.mfcc_std) @ standard.T
            rows.append(fusion.score(g.astype(np.float32), m.astype(np.float32)))
        stacked = np.stack(rows)
        normed = _score.cohort_normalise(
            stacked, groups, cohort["top"], cohort["floor"], cohort["prior"]
        )
        normed = _score.gated(normed, stacked, vp.GATE)[..., :voices]
        best = normed.max(axis=0)
        silent = np.linalg.norm(ge2e[0], axis=1) == 0
        best[silent] = -np.inf
        out[condition] = best
    return out


def lr_fusion(data: dict[str, Any], fusion: _calibration.Fusion) -> _calibration.Fusion:
    """Fusion weights by logistic regression on the clean tuning segments (genuine against
    impostor trials, classes weighted equally); the weights rescale the two z-terms."""
    setup: vp.Setup = data["_setup"]
    ge2e, mfcc, enrolled_mfcc = vp.raw_scores(data, "silero", "clean")
    zero = data["shifts"]["silero"].index(0)
    standard = vp.unit((enrolled_mfcc - fusion.mfcc_mean) / fusion.mfcc_std)
    m = vp.unit((mfcc[zero] - fusion.mfcc_mean) / fusion.mfcc_std) @ standard.T
    g = ge2e[zero]
    tuning = setup.tuning[:, None] & (np.linalg.norm(mfcc[zero], axis=1) > 0)[:, None]
    genuine = (setup.performer[:, None] == setup.groups[None, :]) & tuning
    impostor = setup.impostor & tuning
    zg = (g - fusion.ge2e[0]) / fusion.ge2e[1]
    zm = (m - fusion.mfcc[0]) / fusion.mfcc[1]
    x = np.concatenate(
        [np.stack([zg[mask], zm[mask]], axis=1) for mask in (genuine, impostor)]
    ).astype(np.float64)
    y = np.concatenate([np.ones(int(genuine.sum())), np.zeros(int(impostor.sum()))])
    weight = np.where(y == 1, 0.5 / y.sum(), 0.5 / (1 - y).sum())
    design = np.concatenate([x, np.ones((x.shape[0], 1))], axis=1)
    w = np.zeros(3)
    for _ in range(30):  # Newton steps, a little ridge for stability
        p = 1 / (1 + np.exp(-design @ w))
        gradient = design.T @ (weight * (p - y)) + 1e-4 * w
        hessian = (design * (weight * p * (1 - p))[:, None]).T @ design + 1e-4 * np.eye(3)
        w -= np.linalg.solve(hessian, gradient)
    # A negative weight would invert a score (and the stored spread must stay positive).
    weights = np.maximum(w[:2], 1e-3)
    wg, wm = weights / weights.mean()
    return _calibration.Fusion(
        fusion.calibration,
        (fusion.ge2e[0], fusion.ge2e[1] / wg),
        (fusion.mfcc[0], fusion.mfcc[1] / wm),
        fusion.mfcc_mean,
        fusion.mfcc_std,
    )


def centroids_of(data: dict[str, Any], setup: vp.Setup, count: int) -> list[np.ndarray]:
    """Per enrolled voice: up to ``count`` unit centroids of its clip embeddings (k-means on
    the sphere, fixed seed); voices with few clips keep their single mean."""
    clips = data["clip_prints"]["silero"]
    out = []
    for v in setup.enrolled:
        rows = vp.unit(clips[v][0])
        if rows.shape[0] < 2 * count:
            out.append(vp.unit(rows.mean(axis=0, keepdims=True)))
            continue
        rng = np.random.default_rng(5)
        centres = rows[rng.choice(rows.shape[0], size=count, replace=False)]
        for _ in range(20):
            label = (rows @ centres.T).argmax(axis=1)
            centres = np.stack(
                [
                    vp.unit(rows[label == c].mean(axis=0)) if (label == c).any() else centres[c]
                    for c in range(count)
                ]
            )
        out.append(centres)
    return out


def viterbi_outcome(
    segment_scores: np.ndarray,
    groups: list[tuple[int, ...]],
    setup_segments: vp.Setup,
    cut: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Per stretch, the shipped smoothing over its segments: (own performer holds at least
    half the segments, another performer is named on any)."""
    hit = np.zeros(len(groups), bool)
    wrong = np.zeros(len(groups), bool)
    names = setup_segments.groups
    for j, members in enumerate(groups):
        rows = segment_scores[list(members)]
        rows = np.where(np.isfinite(rows), rows, -1e9).astype(np.float32)
        spans = [(3.0 * i, 3.0 * i + 3.0) for i in range(len(members))]
        labels = smooth_labels(spans, rows, cut, SWITCH)
        own = setup_segments.performer[members[0]]
        named = [names[label] for label in labels if label != NONE]
        hit[j] = sum(name == own for name in named) * 2 >= len(labels)
        wrong[j] = any(name != own for name in named)
    return hit, wrong


def viterbi_rates(
    shipped: dict[str, np.ndarray],
    groups: list[tuple[int, ...]],
    data: dict[str, Any],
    stretch_setup: vp.Setup,
    cut: float,
) -> dict[str, dict[str, Any]]:
    setup: vp.Setup = data["_setup"]
    rows: dict[str, Any] = {}
    for condition, matrix in shipped.items():
        hit, wrong = viterbi_outcome(matrix, groups, setup, cut)
        row: dict[str, Any] = {}
        for part, where in (
            ("all", np.ones(len(groups), bool)),
            ("tuning", stretch_setup.tuning),
            ("held-out", ~stretch_setup.tuning),
        ):
            enrolled = where & (stretch_setup.kind == "enrolled")
            unenrolled = where & (stretch_setup.kind == "unenrolled")
            real = where & (stretch_setup.kind != "synthetic")
            row[part] = {
                "false_match_probes_pct": 100 * float(np.mean(wrong[real])),
                "miss_pct": 100 * float(np.mean(~hit[enrolled])),
                "unenrolled_attributed_pct": 100 * float(np.mean(wrong[unenrolled])),
                "enrolled_probes": int(enrolled.sum()),
                "unenrolled_probes": int(unenrolled.sum()),
            }
        synthetic = stretch_setup.kind == "synthetic"
        row["synthetic_attributed_pct"] = 100 * float(np.mean(wrong[synthetic]))
        row["synthetic_probes"] = int(synthetic.sum())
        rows[condition] = row
    return rows


def viterbi_threshold(
    clean: np.ndarray, groups: list[tuple[int, ...]], data: dict[str, Any], setup: vp.Setup
) -> float:
    """Lowest per-segment threshold at which at most 1 % of clean tuning stretches of real
    voices name another performer under the shipped smoothing."""
    real = setup.tuning & (setup.kind != "synthetic")
    finite = clean[np.isfinite(clean)]

    def too_many(cut: float) -> bool:
        _, wrong = viterbi_outcome(clean, groups, data["_setup"], cut)
        return bool(np.mean(wrong[real]) > 0.01)

    # Fewer stretches name someone else as the threshold rises: bisect on it.
    low, high = float(np.quantile(finite, 0.5)), float(finite.max()) + 1e-3
    for _ in range(14):
        middle = (low + high) / 2
        low, high = (middle, high) if too_many(middle) else (low, middle)
    return high


def evaluate(data: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """Every stretch size, every decision; ``result`` is the per-segment evaluation."""
    fusion: _calibration.Fusion = result["fusion"]
    today = vp.fitted_fusion(data, "webrtc")
    segment_cohort = result["cohort"]
    shipped_segments = result["shipped"]
    shipped_cut = vp.threshold(shipped_segments, data["_setup"])
    cohort_extra = None
    if "cohort_prints" in data:
        g, m, _ = data["cohort_prints"]
        cohort_extra = (g, m)
    learned = lr_fusion(data, fusion)
    out: dict[str, Any] = {}
    for k in SIZES:
        groups = stretches(data["items"], k)
        sdata = stretch_data(data, groups)
        setup: vp.Setup = sdata["_setup"]
        systems: dict[str, Any] = {}

        def add(name: str, scores: dict[str, np.ndarray], extra: dict[str, Any]) -> None:
            cut = threshold(scores, setup)  # noqa: B023 - used at once
            rates = vp.measure(scores, setup, cut)  # noqa: B023
            systems[name] = {"threshold": cut, **extra, "conditions": rates}  # noqa: B023

        add(
            "today: WebRTC VAD, fused, pooled",
            vp.system_scores(sdata, "webrtc", today, shifts=(0,)),
            {},
        )
        add(
            "MFCC baseline, pooled",
            vp.system_scores(sdata, "webrtc", today, shifts=(0,), mfcc_only=True),
            {},
        )
        plain = vp.system_scores(sdata, "silero", fusion, shifts=(0,))["clean"]
        prior, floor = vp.cohort_prior(plain, setup, segment_cohort["top"])
        cohort = {"top": segment_cohort["top"], "floor": floor, "prior": prior}
        pooled_shipped = cohort_scores(sdata, fusion, cohort)
        add("shipped scores, pooled per stretch", pooled_shipped, {"cohort": cohort})
        # Margin rule: the margin giving the fewest tuning misses (clean + music 10 dB +
        # both pitch shifts) at the refitted 1 % threshold.
        best_margin, best_miss = 0.0, float("inf")
        for margin in MARGINS:
            gated = {c: margin_gated(s, setup, margin) for c, s in pooled_shipped.items()}
            cut = open_threshold(pooled_shipped["clean"], setup, margin)
            tuned = vp.measure(gated, setup, cut)
            miss = sum(
                tuned[c]["tuning"]["miss_pct"]
                for c in ("clean", "music-10dB", "pitch+2", "pitch-2")
            )
            if miss < best_miss:
                best_margin, best_miss = margin, miss
        margin_scores = {c: margin_gated(s, setup, best_margin) for c, s in pooled_shipped.items()}
        margin_cut = open_threshold(pooled_shipped["clean"], setup, best_margin)
        systems[f"pooled + margin rule ({best_margin:g})"] = {
            "threshold": margin_cut,
            "margin": best_margin,
            "conditions": vp.measure(margin_scores, setup, margin_cut),
        }
        if cohort_extra is not None:
            add(
                "pooled, cohort + 24 synthetic voices",
                cohort_scores(sdata, fusion, cohort, extra=cohort_extra),
                {},
            )
        if "clip_prints" in data:
            add(
                f"pooled, prints of {CENTROIDS} centroids",
                cohort_scores(
                    sdata, fusion, cohort, centroids=centroids_of(data, setup, CENTROIDS)
                ),
                {},
            )
        plain_lr = vp.system_scores(sdata, "silero", learned, shifts=(0,))["clean"]
        prior_lr, floor_lr = vp.cohort_prior(plain_lr, setup, segment_cohort["top"])
        add(
            "pooled, fusion weights by logistic regression",
            cohort_scores(
                sdata,
                learned,
                {"top": segment_cohort["top"], "floor": floor_lr, "prior": prior_lr},
            ),
            {"weights": [fusion.ge2e[1] / learned.ge2e[1], fusion.mfcc[1] / learned.mfcc[1]]},
        )
        # The shipped screen: per-segment scores, Viterbi over the stretch.
        systems["segments, Viterbi, shipped threshold"] = {
            "threshold": shipped_cut,
            "conditions": viterbi_rates(shipped_segments, groups, data, setup, shipped_cut),
        }
        refit = viterbi_threshold(shipped_segments["clean"], groups, data, setup)
        systems["segments, Viterbi, threshold refitted per stretch"] = {
            "threshold": refit,
            "conditions": viterbi_rates(shipped_segments, groups, data, setup, refit),
        }
        systems.update(result["new"]["rows"][str(k)])
        out[str(k)] = {
            "stretches": {
                kind: int((setup.kind == kind).sum())
                for kind in ("enrolled", "unenrolled", "synthetic")
            },
            "systems": systems,
        }
        for part in ("all", "held-out"):
            print_table(k, systems, part)
    return out


def print_table(k: int, systems: dict[str, Any], part: str) -> None:
    table = Table(
        title=f"Stretches of {k} probe(s) (≈ {3 * k} s), {part}: miss % at 1 % of clean "
        "tuning stretches naming another performer; unenrolled / synthetic attributed %"
    )
    table.add_column("decision")
    table.add_column("FM % (clean)", justify="right")
    shown = [c for c in vp.ALL_CONDITIONS if any(c in r["conditions"] for r in systems.values())]
    for c in shown:
        table.add_column(c, justify="right")
    table.add_column("unenrolled", justify="right")
    table.add_column("synthetic", justify="right")
    for name, row in systems.items():
        clean = row["conditions"]["clean"]
        cells = [f"{clean[part]['false_match_probes_pct']:.1f}"]
        cells += [
            f"{row['conditions'][c][part]['miss_pct']:.1f}" if c in row["conditions"] else "–"
            for c in shown
        ]
        cells.append(f"{clean[part]['unenrolled_attributed_pct']:.1f}")
        cells.append(f"{clean['synthetic_attributed_pct']:.1f}")
        table.add_row(name, *cells)
    console.print(table)

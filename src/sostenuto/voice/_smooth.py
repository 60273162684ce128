"""Temporal smoothing: one voice over a continuous stretch, not alternating fragments.

Segments overlap (3 s every 1.5 s), so neighbours hear mostly the same audio. A Viterbi pass
over the segments of each voiced stretch picks the label sequence (a voice, or no enrolled
voice) that maximises the summed evidence — each segment's score above the threshold for a
voice, 0 for none — minus ``switch`` for every change of label. A lone segment must then
beat the threshold by ``switch`` to break a run, and a voice's weak segment inside its own
stretch stays with it while the stretch as a whole carries it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float32]
NONE = -1


def smooth_labels(
    spans: list[tuple[float, float]], scores: Floats, threshold: float, switch: float
) -> list[int]:
    """Column of the voice for each segment (``NONE``: none), over time-sorted ``spans``.

    Segments more than 0.5 s apart start a fresh chain: a pause may change the speaker.
    """
    n = len(spans)
    if n == 0:
        return []
    voices = scores.shape[1]
    labels: list[int] = [NONE] * n
    start = 0
    for i in range(1, n + 1):
        if i == n or spans[i][0] - spans[i - 1][1] > 0.5:
            labels[start:i] = _viterbi(scores[start:i], threshold, switch, voices)
            start = i
    return labels


def _viterbi(scores: Floats, threshold: float, switch: float, voices: int) -> list[int]:
    # State 0 = no enrolled voice, state v + 1 = voice v.
    gain = np.concatenate([np.zeros((scores.shape[0], 1)), scores - threshold], axis=1)
    states = voices + 1
    total = gain[0].copy()
    back = np.zeros((scores.shape[0], states), dtype=np.int64)
    for t in range(1, scores.shape[0]):
        stay = total
        leader = int(np.argmax(total))
        moved = total[leader] - switch
        choose_move = moved > stay
        back[t] = np.where(choose_move, leader, np.arange(states))
        total = np.where(choose_move, moved, stay) + gain[t]
    path = [int(np.argmax(total))]
    for t in range(scores.shape[0] - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    path.reverse()
    return [state - 1 for state in path]

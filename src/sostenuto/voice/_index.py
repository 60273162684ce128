"""Exact cosine search over every enrolled voice.

Voiceprints are L2-normed, so cosine similarity is one matrix product: ``segments × voices``.
At 256 float32 values a voice costs 1 KiB; ten thousand voices take 10 MiB and a product with
a few hundred segments stays in milliseconds, so an approximate index would not pay here
(``docs/voice.md`` has the measurement).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sostenuto.errors import IntegrityFailure

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Hit:
    """The best-scoring voice for one query row."""

    performer_id: int
    score: float


class VoiceIndex:
    """An in-memory matrix of voiceprints (one row per performer) for one model version."""

    def __init__(self, performer_ids: list[int], vectors: Floats) -> None:
        if vectors.ndim != 2 or vectors.shape[0] != len(performer_ids):
            raise IntegrityFailure(
                "voiceprint matrix does not match its performer list",
                details={"rows": int(vectors.shape[0]), "ids": len(performer_ids)},
            )
        self.performer_ids = np.asarray(performer_ids, dtype=np.int64)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)

    @property
    def size(self) -> int:
        return int(self.performer_ids.size)

    @property
    def nbytes(self) -> int:
        return int(self.vectors.nbytes + self.performer_ids.nbytes)

    def scores(self, queries: Floats) -> Floats:
        """Cosine similarity of every query row with every voice: ``(queries, voices)``."""
        result: Floats = np.asarray(queries, dtype=np.float32) @ self.vectors.T
        return result

    def best(self, queries: Floats) -> list[Hit | None]:
        """The best voice per query row (``None`` when the index is empty)."""
        if self.size == 0 or len(queries) == 0:
            return [None] * len(queries)
        scores = self.scores(queries)
        columns = scores.argmax(axis=1)
        return [
            Hit(int(self.performer_ids[c]), float(scores[row, c]))
            for row, c in enumerate(columns.tolist())
        ]

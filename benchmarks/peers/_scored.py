"""Shared machinery for peers that produce a score per route: rank, threshold, abstain."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

import numpy as np

from benchmarks.systems import Prediction, RouteSpec
from benchmarks.thresholds import fit_abstain_threshold

__all__ = ["ScoredSystem"]


class ScoredSystem(ABC):
    """A peer defined by a (queries x routes) score matrix; higher is more likely.

    Subclasses implement ``_build`` and ``_score``. Abstention is a single bar on the top
    score, fitted by ``benchmarks.thresholds``; before ``fit`` it never abstains.
    """

    name: str = "scored"

    def __init__(self) -> None:
        self.names_: list[str] = []
        self.threshold_: float = float("-inf")

    def build(self, routes: Mapping[str, RouteSpec]) -> None:
        """Reset, then let the subclass index or train on the route texts."""
        if not routes:
            raise ValueError(f"{self.name}: no routes to build from")
        self.names_ = list(routes)
        self.threshold_ = float("-inf")
        self._build(routes)

    @abstractmethod
    def _build(self, routes: Mapping[str, RouteSpec]) -> None: ...

    @abstractmethod
    def _score(self, texts: Sequence[str]) -> np.ndarray:
        """Scores of shape (len(texts), len(self.names_)), columns in ``names_`` order."""

    def fit(self, texts: Sequence[str], labels: Sequence[str | None]) -> None:
        """Fit the abstention bar on the top score of each held-out query."""
        scores = self._score(texts)
        best = scores.argmax(axis=1)
        top = [self.names_[i] for i in best]
        self.threshold_ = fit_abstain_threshold(scores.max(axis=1), top, labels)

    def predict(self, texts: Sequence[str], k: int = 5) -> list[Prediction]:
        """Rank every route by score; route to the top one if it clears the bar."""
        if not texts:
            return []
        scores = self._score(texts)
        k = min(k, scores.shape[1])
        # argpartition then sort the k best: stable, and O(routes) per query, not a full sort
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(scores, part, axis=1)
        ranked_idx = np.take_along_axis(part, np.argsort(-order, axis=1, kind="stable"), axis=1)
        out = []
        for row, idx in zip(scores, ranked_idx, strict=True):
            ranked = tuple(self.names_[i] for i in idx)
            label = ranked[0] if row[idx[0]] >= self.threshold_ else None
            out.append(Prediction(label=label, ranked=ranked))
        return out

    def describe(self) -> dict[str, object]:
        """Fitted parameters worth reporting next to the numbers."""
        finite = np.isfinite(self.threshold_)
        return {"threshold": float(self.threshold_) if finite else None}

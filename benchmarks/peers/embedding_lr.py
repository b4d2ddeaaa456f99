"""Peer 4: a learned head on frozen MiniLM embeddings (SetFit without the contrastive step)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression

from benchmarks.encoder import CachedEncoder
from benchmarks.peers._logreg import LogRegSystem

__all__ = ["EmbeddingLogReg"]


class EmbeddingLogReg(LogRegSystem):
    """Logistic regression on the shared encoder's L2-normalised embeddings."""

    name = "embedding + logreg"

    def __init__(self, encoder: CachedEncoder, random_state: int = 0) -> None:
        super().__init__(random_state=random_state)
        self.encoder = encoder

    def _inputs(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode(texts)

    def _estimator(self, c: float) -> LogisticRegression:
        return LogisticRegression(C=c, max_iter=1000)

"""Peer 2: the plain-encoder baseline every embedding router must beat."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from benchmarks.encoder import CachedEncoder
from benchmarks.peers._scored import ScoredSystem
from benchmarks.systems import RouteSpec, route_texts

__all__ = ["RawArgmax"]


class RawArgmax(ScoredSystem):
    """Score of a route = max cosine between the query and any of the route's texts."""

    name = "raw-encoder argmax"

    def __init__(self, encoder: CachedEncoder, chunk: int = 512) -> None:
        super().__init__()
        self.encoder = encoder
        self.chunk = chunk
        self._vectors = np.zeros((0, encoder.dim), dtype=np.float32)
        self._starts = np.zeros(0, dtype=np.int64)

    def _build(self, routes: Mapping[str, RouteSpec]) -> None:
        texts, owners = route_texts(routes)
        self._vectors = self.encoder.encode(texts)
        # texts are grouped by route, so each route is one contiguous slice
        index = {name: i for i, name in enumerate(self.names_)}
        owner_idx = np.array([index[o] for o in owners])
        self._starts = np.flatnonzero(np.r_[True, owner_idx[1:] != owner_idx[:-1]])

    def _score(self, texts: Sequence[str]) -> np.ndarray:
        queries = self.encoder.encode(texts)
        parts = []
        for lo in range(0, len(queries), self.chunk):
            sims = queries[lo : lo + self.chunk] @ self._vectors.T
            parts.append(np.maximum.reduceat(sims, self._starts, axis=1))
        return np.concatenate(parts)

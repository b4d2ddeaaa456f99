"""Deterministic splits and samples: every random choice takes an explicit seed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

__all__ = ["seeded_sample", "stratified_halves"]

T = TypeVar("T")


def stratified_halves(labels: Sequence[str | None], seed: int) -> tuple[list[int], list[int]]:
    """Split row indices in two halves per label (None is its own stratum).

    Each stratum is permuted by ``np.random.default_rng(seed)`` (strata visited in sorted
    order, None last) and its first ``len // 2`` rows go to the first half, so every
    intent and the out-of-scope rows appear in both halves. Indices come back sorted.
    """
    rng = np.random.default_rng(seed)
    strata: dict[str | None, list[int]] = {}
    for i, label in enumerate(labels):
        strata.setdefault(label, []).append(i)
    order = sorted(k for k in strata if k is not None) + ([None] if None in strata else [])
    first: list[int] = []
    second: list[int] = []
    for key in order:
        rows = [strata[key][j] for j in rng.permutation(len(strata[key]))]
        half = len(rows) // 2
        first += rows[:half]
        second += rows[half:]
    return sorted(first), sorted(second)


def seeded_sample(items: Sequence[T], n: int, seed: int) -> list[T]:
    """Up to ``n`` items, chosen without replacement and kept in their original order."""
    if n >= len(items):
        return list(items)
    rng = np.random.default_rng(seed)
    return [items[i] for i in sorted(rng.choice(len(items), size=n, replace=False).tolist())]
